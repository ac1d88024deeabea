"""`gradkit grade` against `nbgrader autograde`, side by side, on the same notebooks.

    python benchmarks/bench_grading.py [--count 200] [--single 5] [--json out.json]
    python benchmarks/bench_grading.py --count 2 --buggy 1 --single 1 --no-hang --no-warm-up
        (the smallest run that takes every path: tests/test_benchmarks.py's)

Builds a throwaway nbgrader course from this repository's own (solutions/backprop +
nbgrader_config.py), fills `submitted/<student>/backprop/backprop.ipynb` with COUNT submissions
(mostly honest in the corpus's different styles, a few with one classic mistake, one whose exp
`_backward` never returns), then measures, in the same run on the same machine:

1. Batch (issue 7): `gradkit grade submitted/ --out OUT -j 2` against `nbgrader autograde
   backprop` over all COUNT; wall time (target >= 10x) and, per submission, CPU time of the whole
   process tree (issue 26: target >= 10x), and what the hanging submission cost gradkit
   (target: no more than the per-op timeout).
2. One submission end to end (issue 3): process start to results file, `gradkit grade FILE
   --results r.json` against `nbgrader autograde backprop --student S --force`, on SINGLE honest
   submissions, interleaved; ratio of medians, wall (target >= 3x) and CPU.
3. Agreement: pass/fail per op from both graders (nbgrader's per-grade-cell score vs gradkit's
   per-op status); must be identical on every honest submission.
4. The trusted nbgrader path (this repository's nbgrader_config.py, whose autograde runs the
   sandboxed grader in place of a kernel) against plain `nbgrader autograde` (nbgrader's own
   pipeline, a kernel per notebook): per submission when grading the class, wall and CPU
   (target >= 3x each), and for one submission alone, with the same agreement check.

CPU is the whole process tree's (benchmarks/cputime.py: a cgroup where one can be made, so the
sandboxed children gradkit kills and nbgrader's kernels count too). Every command is this
checkout's code: gradkit as `python -m graders` and nbgrader as `python -m nbgrader`, both with
this interpreter and PYTHONPATH set to this checkout, so the course's nbgrader_config.py imports
this checkout's `graders` (a bare `nbgrader` command would import whatever gradkit its own
interpreter has installed). PYTHONDONTWRITEBYTECODE is unset for them and each path is run once
before timing, so the checkout's modules are compiled once, not at every start.

Prints a Markdown report (docs/batch.md records one run). Needs nbgrader (a dependency) and a
`python3` Jupyter kernel.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from benchmarks.cputime import Measure, measure  # noqa: E402 - after the path fix above

ASSIGNMENT = "backprop"
VALUE_CELL = "value_class"
# The hang sits in exp's _backward: no top-level cell of the course notebook calls exp, so it
# hangs in the per-op checks, which is what the per-op timeout is for. A hang in an op the
# notebook itself runs at top level (tanh: the neuron cell) hangs while the notebook loads;
# docs/batch.md ("Time limits") says what that costs today.
HANG = ("self.grad += out.data * out.grad",
        "while True:  # never returns\n                pass")
MISTAKES = {  # name: (op it breaks, edits to the solution's Value cell)
    "mul_assign": ("mul", (("self.grad += other.data * out.grad",
                            "self.grad = other.data * out.grad"),
                           ("other.grad += self.data * out.grad",
                            "other.grad = self.data * out.grad"))),
    "tanh_missing_square": ("tanh", (("(1 - t ** 2)", "(1 - t)"),)),
    "relu_inverted_mask": ("relu", (("(out.data > 0) * out.grad",
                                     "(out.data <= 0) * out.grad"),)),
    "exp_input_for_output": ("exp", (("self.grad += out.data * out.grad",
                                      "self.grad += self.data * out.grad"),)),
    "pow_no_minus_one": ("pow", (("self.data ** (other - 1)", "self.data ** other"),)),
}


def _edit(text: str, edits) -> str:
    for old, new in edits:
        if old not in text:
            raise SystemExit(f"bench_grading: the solution no longer contains {old!r}; "
                             "update MISTAKES")
        text = text.replace(old, new)
    return text


def _honest_styles(solution: str) -> list[str]:
    """The course solution and every correct style of the test corpus (tests/submissions)."""
    styles = [solution]
    styles += [p.read_text() for p in sorted((ROOT / "tests/submissions/correct").glob("*.py"))]
    return styles


def build_course(folder: Path, count: int, buggy: int, hang: bool = True) -> dict[str, str]:
    """An nbgrader course in `folder` with COUNT submissions; returns student -> kind."""
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, folder / "solutions" / ASSIGNMENT)
    use_config(folder, "trusted")
    _run([*NBGRADER, "generate_assignment", ASSIGNMENT, "--force"], folder)
    source = json.loads((folder / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    cell = next(c for c in source["cells"]
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == VALUE_CELL)
    solution = "".join(cell["source"])
    styles = _honest_styles(solution)
    names = list(MISTAKES)
    kinds: dict[str, str] = {}
    hang_index = count // 2 if hang else -1
    # Spread the buggy ones evenly over the batch, never on the hanging one.
    spots = [min(count - 1, int((i + 0.5) * count / buggy)) for i in range(min(buggy, count))]
    bug_at = {spot if spot != hang_index else (spot + 1) % count: i for i, spot in enumerate(spots)}
    for index in range(count):
        student = f"s{index:03d}"
        if index == hang_index:
            kind, text = "hang", _edit(solution, (HANG,))
        elif index in bug_at:
            name = names[bug_at[index] % len(names)]
            kind, text = f"bug:{name}", _edit(solution, MISTAKES[name][1])
        else:
            kind, text = "honest", styles[index % len(styles)]
        cell["source"] = text + f"\n# submitted by {student}\n"
        target = folder / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(source, indent=1))
        kinds[student] = kind
    return kinds


# nbgrader's own autograde pipeline (Execute: a kernel per notebook), restored over the
# repository's config, which puts the sandboxed grader in its place.
PLAIN = ("\nfrom nbgrader.converters import Autograde as _Autograde\n"
         "c.Autograde.autograde_preprocessors = "
         "_Autograde.class_traits()['autograde_preprocessors'].default()\n")


def use_config(folder: Path, which: str) -> None:
    """The course's nbgrader_config.py: the repository's ("trusted") or nbgrader's ("plain")."""
    text = (ROOT / "nbgrader_config.py").read_text()
    (folder / "nbgrader_config.py").write_text(text + (PLAIN if which == "plain" else ""))


# Both graders as this checkout's code, run by this interpreter (see the module docstring).
GRADKIT = [sys.executable, "-m", "graders", "grade"]
NBGRADER = [sys.executable, "-m", "nbgrader"]


def tree_env() -> dict[str, str]:
    """The environment of every command: this checkout first on the path, bytecode cached."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _run(command: list[str], cwd: Path, check: bool = True) -> Measure:
    """Run `command` in `cwd` to the end: CPU of its whole process tree and wall seconds."""
    done = measure(command, cwd=cwd, env=tree_env(), timeout=3600)
    if check and done.returncode != 0:
        raise SystemExit(f"bench_grading: {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return done


def check_tree(folder: Path) -> str:
    """Where the commands' `graders` comes from: must be this checkout, or nothing measured
    here is this checkout's code. Same interpreter, environment and folder as the commands."""
    done = subprocess.run([sys.executable, "-c", "import graders, nbgrader; "
                           "print(graders.__file__)"], cwd=folder, env=tree_env(),
                          capture_output=True, text=True)
    where = done.stdout.strip()
    if done.returncode != 0 or not where.startswith(str(ROOT)):
        raise SystemExit(f"bench_grading: graders comes from {where or done.stderr[-500:]}, "
                         f"not {ROOT}; nbgrader must be installed for {sys.executable}")
    return where


def nbgrader_verdicts(folder: Path, students) -> dict[str, dict[str, bool]]:
    """student -> {op: passed} from nbgrader's gradebook (one grade cell per op)."""
    from nbgrader.api import Gradebook, MissingEntry

    verdicts: dict[str, dict[str, bool]] = {}
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as book:
        for student in students:
            try:
                notebook = book.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            except MissingEntry:
                continue
            verdicts[student] = {grade.name.removeprefix("grade_"): grade.score >= grade.max_score
                                 for grade in notebook.grades if grade.name.startswith("grade_")}
    return verdicts


def gradkit_verdicts(out: Path) -> tuple[dict[str, dict[str, bool]], dict[str, float]]:
    db = sqlite3.connect(out / "gradebook.sqlite")
    verdicts: dict[str, dict[str, bool]] = {}
    for student, op, status in db.execute("SELECT student, op, status FROM op_results"):
        verdicts.setdefault(student, {})[op] = status == "passed"
    seconds = dict(db.execute("SELECT student, seconds FROM grades"))
    return verdicts, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="submissions in the batch")
    parser.add_argument("--buggy", type=int, default=8, help="how many have one mistake")
    parser.add_argument("--single", type=int, default=5,
                        help="honest submissions timed one by one, end to end")
    parser.add_argument("--jobs", type=int, default=2, help="gradkit -j")
    parser.add_argument("--no-hang", action="store_true",
                        help="leave out the hanging submission (quick trial runs)")
    parser.add_argument("--no-warm-up", action="store_true",
                        help="skip the untimed first run of each path (smoke runs, as the "
                             "test suite's: the figures then include first-start costs and "
                             "are not comparable)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    from graders.model import Limits

    op_timeout = Limits().group_seconds
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as temporary:
        folder = Path(temporary)
        graders_file = check_tree(folder)
        kinds = build_course(folder, args.count, args.buggy, not args.no_hang)
        gradkit = GRADKIT
        # warm: each path once before timing (bytecode written, caches filled)
        first = next(s for s, kind in kinds.items() if kind == "honest")
        if not args.no_warm_up:
            _run([*gradkit, str(ROOT / "tests/submissions/correct/lecture_style.py")], folder)
            for which in ("plain", "trusted"):
                use_config(folder, which)
                _run([*NBGRADER, "autograde", ASSIGNMENT, "--force", "--student", first],
                     folder)

        # 2. one submission end to end, interleaved so both see the same machine state
        honest = [s for s, kind in kinds.items() if kind == "honest"][:args.single]
        single_gk, single_nb, single_tr = [], [], []
        autograde_one = [*NBGRADER, "autograde", ASSIGNMENT, "--force", "--student"]
        for student in honest:
            path = folder / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            single_gk.append(_run([*gradkit, str(path), "--results",
                                   str(folder / f"{student}.json")], folder))
            use_config(folder, "plain")
            single_nb.append(_run([*autograde_one, student], folder))
            use_config(folder, "trusted")
            single_tr.append(_run([*autograde_one, student], folder))

        # 1. the whole batch
        out = folder / "gradkit-out"
        batch_gk = _run([*gradkit, str(folder / "submitted"), "--out", str(out),
                         "-j", str(args.jobs), "--no-progress"], folder)
        use_config(folder, "plain")
        batch_nb = _run([*NBGRADER, "autograde", ASSIGNMENT, "--force"], folder)
        nb = nbgrader_verdicts(folder, kinds)
        use_config(folder, "trusted")
        batch_tr = _run([*NBGRADER, "autograde", ASSIGNMENT, "--force"], folder)
        trusted = nbgrader_verdicts(folder, kinds)

        # 3. agreement
        gk, seconds = gradkit_verdicts(out)
        hang = next((s for s, kind in kinds.items() if kind == "hang"), None)
        honest_all = [s for s, kind in kinds.items() if kind == "honest"]
        disagree = [(s, op) for s in honest_all for op in nb.get(s, {})
                    if nb[s][op] != gk.get(s, {}).get(op)]
        missing = [s for s in kinds if s not in nb or s not in gk or s not in trusted]
        disagree_trusted = [(s, op) for s in kinds for op in trusted.get(s, {})
                            if trusted[s][op] != gk.get(s, {}).get(op) and s != hang]
        honest_full_gk = sum(all(gk.get(s, {}).values()) for s in honest_all)
        honest_full_nb = sum(all(nb.get(s, {}).values()) for s in honest_all)
        buggy_rows = []
        for student, kind in kinds.items():
            if kind.startswith("bug:"):
                op = MISTAKES[kind[4:]][0]
                buggy_rows.append((student, kind[4:], nb.get(student, {}).get(op),
                                   gk.get(student, {}).get(op)))

    wall = [m.wall for m in (batch_gk, batch_nb, batch_tr)]
    cpu = [m.cpu for m in (batch_gk, batch_nb, batch_tr)]
    figures = {
        "count": args.count, "jobs": args.jobs, "cores": os.cpu_count(),
        "cpu_method": batch_gk.method, "graders": str(Path(graders_file).parent),
        "batch_gradkit_s": round(wall[0], 2), "batch_nbgrader_s": round(wall[1], 2),
        "batch_ratio": round(wall[1] / wall[0], 1),
        "batch_gradkit_cpu_s": round(cpu[0], 2), "batch_nbgrader_cpu_s": round(cpu[1], 2),
        "batch_cpu_ratio": round(cpu[1] / cpu[0], 1),
        "hang_gradkit_s": round(seconds.get(hang, float("nan")), 2),
        "op_timeout_s": op_timeout,
        "single_gradkit_s": [round(m.wall, 3) for m in single_gk],
        "single_nbgrader_s": [round(m.wall, 3) for m in single_nb],
        "single_ratio": round(_median_wall(single_nb) / _median_wall(single_gk), 1),
        "single_gradkit_cpu_s": [round(m.cpu, 3) for m in single_gk],
        "single_nbgrader_cpu_s": [round(m.cpu, 3) for m in single_nb],
        "single_cpu_ratio": round(_median_cpu(single_nb) / _median_cpu(single_gk), 1),
        "honest": len(honest_all), "honest_full_marks_gradkit": honest_full_gk,
        "honest_full_marks_nbgrader": honest_full_nb,
        "honest_disagreements": disagree, "missing": missing,
        "trusted_batch_s": round(wall[2], 2),
        "trusted_batch_ratio": round(wall[1] / wall[2], 1),
        "trusted_batch_cpu_s": round(cpu[2], 2),
        "trusted_batch_cpu_ratio": round(cpu[1] / cpu[2], 1),
        "trusted_single_s": [round(m.wall, 3) for m in single_tr],
        "trusted_single_ratio": round(_median_wall(single_nb) / _median_wall(single_tr), 1),
        "trusted_single_cpu_s": [round(m.cpu, 3) for m in single_tr],
        "trusted_single_cpu_ratio": round(_median_cpu(single_nb) / _median_cpu(single_tr), 1),
        "trusted_disagreements": disagree_trusted,
        "buggy": [{"student": s, "mistake": m, "nbgrader_passed": a, "gradkit_passed": b}
                  for s, m, a, b in buggy_rows],
    }
    print(report(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    ok = (figures["batch_ratio"] >= 10 and figures["single_ratio"] >= 3 and not disagree
          and not missing and figures["hang_gradkit_s"] <= op_timeout + 2
          and figures["trusted_batch_ratio"] >= 3 and not disagree_trusted
          and figures["batch_cpu_ratio"] >= 10 and figures["trusted_batch_cpu_ratio"] >= 3)
    sys.exit(0 if ok else 1)


def _median_wall(figures: list[Measure]) -> float:
    return statistics.median(m.wall for m in figures)


def _median_cpu(figures: list[Measure]) -> float:
    return statistics.median(m.cpu for m in figures)


def report(f: dict) -> str:
    med_gk, med_nb = (statistics.median(f["single_gradkit_s"]),
                      statistics.median(f["single_nbgrader_s"]))
    cpu_gk, cpu_nb, cpu_tr = (statistics.median(f["single_gradkit_cpu_s"]),
                              statistics.median(f["single_nbgrader_cpu_s"]),
                              statistics.median(f["trusted_single_cpu_s"]))
    n = f["count"]
    lines = [
        f"## gradkit grade vs nbgrader autograde ({n} submissions, {f['cores']} cores)", "",
        f"CPU is the whole process tree's ({f['cpu_method']}); every command ran "
        f"{f['graders']}.", "",
        "| measure | gradkit | nbgrader | ratio | target |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| batch of {n}, wall time (gradkit -j {f['jobs']}) | "
        f"{f['batch_gradkit_s']:.1f} s | {f['batch_nbgrader_s']:.1f} s | "
        f"{f['batch_ratio']:.1f}x | >= 10x |",
        f"| batch of {n}, CPU per submission (total {f['batch_gradkit_cpu_s']:.1f} / "
        f"{f['batch_nbgrader_cpu_s']:.1f} CPU-s) | "
        f"{f['batch_gradkit_cpu_s'] / n:.3f} s | {f['batch_nbgrader_cpu_s'] / n:.3f} s | "
        f"{f['batch_cpu_ratio']:.1f}x | >= 10x |",
        f"| one submission, process start to results file, wall (median of "
        f"{len(f['single_gradkit_s'])}) | {med_gk:.2f} s | {med_nb:.2f} s | "
        f"{f['single_ratio']:.1f}x | >= 3x |",
        f"| one submission, CPU (median of {len(f['single_gradkit_cpu_s'])}) | "
        f"{cpu_gk:.2f} s | {cpu_nb:.2f} s | {f['single_cpu_ratio']:.1f}x | |",
        *([] if math.isnan(f["hang_gradkit_s"]) else [
            f"| the hanging submission | {f['hang_gradkit_s']:.1f} s | | | <= per-op timeout "
            f"({f['op_timeout_s']:g} s) |"]), "",
        *([] if math.isnan(f["hang_gradkit_s"]) else [
            "The hanging submission spins until its op's timeout, so it adds about that many "
            "CPU-seconds to gradkit's and the trusted path's batch totals (plain nbgrader never "
            "calls the hanging op); `--no-hang` leaves it out.", ""]),
        f"Honest submissions: {f['honest']}; full marks from gradkit "
        f"{f['honest_full_marks_gradkit']}, from nbgrader {f['honest_full_marks_nbgrader']}; "
        f"per-op pass/fail disagreements: {len(f['honest_disagreements'])}"
        + (f" {f['honest_disagreements'][:10]}" if f["honest_disagreements"] else "") + ".",
        f"Submissions without a result: {f['missing'] or 'none'}.", "",
        "The trusted nbgrader path (this repository's nbgrader_config.py: no kernel, the "
        "sandboxed grader's points) against plain `nbgrader autograde`:", "",
        "| measure | trusted nbgrader | plain nbgrader | ratio | target |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| a class of {n}, per submission, wall | "
        f"{f['trusted_batch_s'] / n:.2f} s | {f['batch_nbgrader_s'] / n:.2f} s "
        f"| {f['trusted_batch_ratio']:.1f}x | >= 3x |",
        f"| a class of {n}, per submission, CPU | "
        f"{f['trusted_batch_cpu_s'] / n:.3f} s | {f['batch_nbgrader_cpu_s'] / n:.3f} s "
        f"| {f['trusted_batch_cpu_ratio']:.1f}x | >= 3x |",
        f"| one submission alone, wall (median of {len(f['trusted_single_s'])}; nbgrader's own "
        f"start-up dominates) | {statistics.median(f['trusted_single_s']):.2f} s | "
        f"{med_nb:.2f} s | {f['trusted_single_ratio']:.1f}x | |",
        f"| one submission alone, CPU | {cpu_tr:.2f} s | {cpu_nb:.2f} s | "
        f"{f['trusted_single_cpu_ratio']:.1f}x | |", "",
        f"Per-op disagreements between the trusted path and gradkit grade: "
        f"{len(f['trusted_disagreements'])}"
        + (f" {f['trusted_disagreements'][:10]}" if f["trusted_disagreements"] else "") + ".",
        "",
        "| one-mistake submission | op | nbgrader passed it | gradkit passed it |",
        "| --- | --- | --- | --- |",
    ]
    for row in f["buggy"]:
        lines.append(f"| {row['student']} | {row['mistake']} | {row['nbgrader_passed']} | "
                     f"{row['gradkit_passed']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
