"""What one `gradkit grade` costs in CPU: this tree against a baseline commit, side by side.

    python benchmarks/bench_cpu.py [--baseline 2e52519] [--repeats 5] [--count 200]
                                   [--work DIR] [--reuse] [--skip-batch] [--skip-baseline]
                                   [--deps-from-here] [--json out.json]

The measurement of the speed issue (26): CPU seconds of the whole process tree (the parent,
its workers and every sandboxed child, killed ones included: benchmarks/cputime.py counts them
through a cgroup), and wall seconds, of

1. one grade: `gradkit grade SUBMISSION --results r.json` on a correct submission (default
   examples/submissions/alice.ipynb), median and min of REPEATS, interleaved between the trees
   (target: median <= 0.30 CPU-s);
2. a breakdown of this tree's grade, each part its own measured process: interpreter start,
   the sandboxed child's interpreter floor (`-I -S`), the imports the CLI and a grade need,
   mpmath, rich, sympy (what the baseline paid on every grade); with the share of the grade
   each takes, and a split of the grade into parts that add up to it;
3. a batch: COUNT honest submissions (the corpus's correct styles and alice.ipynb, each copy
   marked with its student so no two files are equal) graded by `gradkit grade FOLDER --out
   OUT -j JOBS --no-progress` into a fresh OUT each time (a rerun into the same OUT skips
   unchanged submissions, which would measure nothing); CPU and wall of the whole batch, per
   tree (targets for 200: <= 20 CPU-s and <= 12 s wall).

Every tree is measured as users get it: a wheel built from the tree (`pip wheel --no-deps`),
installed with its dependencies from the package registry into a fresh venv of its own, without
system site packages, and run with PYTHONDONTWRITEBYTECODE unset from a folder outside any
checkout. From a checkout, with PYTHONDONTWRITEBYTECODE=1 (as on this machine) every module is
compiled again at every start and a costly site .pth runs, which would be measured instead of
the grader. The baseline is checked out with `git worktree add --detach` into the work folder;
this tree (`--tree`, default this checkout's working tree, uncommitted edits included) is copied
from `git ls-files`. The venvs stay in --work; `--reuse` keeps a venv whose source (commit, or
digest of the tree's files) has not changed since it was built, so reruns start at once.

Prints a Markdown report; `--json PATH` writes the figures. Timings are never asserted: the
exit status is 0 when everything was measured, whatever the figures (targets are only shown),
and 2 when a tree could not be built or a grade failed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import re
import shutil
import site as site_module
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python benchmarks/bench_cpu.py` from a checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.cputime import Measure, measure  # noqa: E402 - after the path fix above

BASELINE = "2e52519"  # the last commit before the speed work of issue 26
SUBMISSION = ROOT / "examples" / "submissions" / "alice.ipynb"
# Honest submissions for the batch: every correct style of the corpus and the honest example.
HONEST = (*sorted((ROOT / "tests" / "submissions" / "correct").glob("*.py")),
          ROOT / "examples" / "submissions" / "alice.ipynb")
# The targets, for 200 submissions with -j 2; a batch of another size is held to them
# per submission.
TARGET_GRADE_CPU = 0.30
TARGET_BATCH_CPU_200 = 20.0
TARGET_BATCH_WALL_200 = 12.0
# The environment a measured command must not inherit: the bytecode switch (the point of
# measuring from a wheel) and anything that would put another gradkit on the path.
DROPPED_ENV = ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
               "PYTHONPROFILEIMPORTTIME", "VIRTUAL_ENV", "PYTHONSAFEPATH")
# The breakdown: each part its own process, so each figure is what that part costs a process
# that does only it (interpreter start included); `{python}` is the tree's venv interpreter.
GRADE_IMPORTS = ("graders.api, graders.report.terminal, graders.report.gradescope, "
                 "graders.run.session")
PARTS: dict[str, list[str]] = {
    "interpreter start (`python -c pass`)": ["{python}", "-c", "pass"],
    "child's interpreter floor (`python -I -S -c pass`)": ["{python}", "-I", "-S", "-c", "pass"],
    "`import graders.cli`": ["{python}", "-c", "import graders.cli"],
    "the imports a grade needs": ["{python}", "-c", f"import {GRADE_IMPORTS}"],
    "`import mpmath`": ["{python}", "-c", "import mpmath"],
    "`import rich.console, rich.table`": ["{python}", "-c", "import rich.console, rich.table"],
    "`import sympy` (the baseline's answer key)": ["{python}", "-c", "import sympy"],
}
START, FLOOR, NEEDS = ("interpreter start (`python -c pass`)",
                       "child's interpreter floor (`python -I -S -c pass`)",
                       "the imports a grade needs")
WHOLE = "the whole grade (`gradkit grade`)"


class BenchError(SystemExit):
    """A tree could not be built or a measured command failed: nothing to compare."""

    def __init__(self, message: str) -> None:
        super().__init__(f"bench_cpu: {message}")


def log(message: str) -> None:
    """Progress goes to stderr so stdout is the report alone."""
    print(f"[bench_cpu {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measured_env() -> dict[str, str]:
    """The environment of every measured command (see DROPPED_ENV for why each is dropped)."""
    return {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}


def _git(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _tail(done: subprocess.CompletedProcess | Measure, size: int = 3000) -> str:
    return (done.stdout[-size:] + "\n" + done.stderr[-size:]).strip()


# --- trees: a wheel each, in a venv of its own ------------------------------------------------

@dataclass
class Tree:
    """One side of the comparison: where its source came from and the venv it runs from."""

    label: str
    spec: str
    identity: str
    venv: Path
    reused: bool = False
    version: str = ""

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def gradkit(self) -> Path:
        return self.venv / "bin" / "gradkit"


def _tree_files(folder: Path) -> list[str]:
    """The files of a working tree that a wheel is built from: tracked and untracked-but-not-
    ignored (so a stale egg-info, build/ or .venv of the checkout never reaches the wheel)."""
    done = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                          cwd=folder, capture_output=True)
    if done.returncode == 0:
        return sorted({name for name in done.stdout.decode().split("\0")
                       if name and (folder / name).is_file()})
    skip = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".ruff_cache"}
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and not skip & set(p.relative_to(folder).parts)
                  and not any(part.endswith(".egg-info") for part in p.parts))


# Folders of a tree that never reach its wheel (packages.find takes kit* and graders*): a change
# there (a benchmark being written, a test) keeps --reuse's venv. Anything else counts.
NOT_IN_WHEEL = ("tests", "benchmarks", "docs", "examples", "assignments", "solutions", ".ci",
                ".github")


def _tree_digest(folder: Path, files: list[str]) -> str:
    """What --reuse compares for a working tree: the bytes of every file that can reach the
    wheel (all but NOT_IN_WHEEL's folders), with their names."""
    digest = hashlib.sha256()
    for name in files:
        if name.split("/", 1)[0] in NOT_IN_WHEEL:
            continue
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def identify(spec: str) -> tuple[str, Path | None]:
    """What `spec` names: (identity, folder) for a working tree, (commit sha, None) otherwise.

    The identity is what --reuse compares: a venv built from the same commit, or from a tree
    whose files are byte for byte the same, is the same install."""
    folder = Path(spec).expanduser()
    if folder.is_dir():
        folder = folder.resolve()
        return f"tree {folder} {_tree_digest(folder, _tree_files(folder))}", folder
    return _git("rev-parse", "--verify", f"{spec}^{{commit}}").strip(), None


def _source(spec: str, folder: Path | None, identity: str, where: Path) -> Path:
    """A clean copy of the tree to build from: the working tree's files, or a detached
    worktree of the commit (removed again by _drop_source)."""
    _drop_source(where)
    if folder is not None:
        for name in _tree_files(folder):
            target = where / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / name, target)
    else:
        _git("worktree", "add", "--detach", "-q", str(where), identity)
    return where


def _drop_source(where: Path) -> None:
    if (where / ".git").is_file():  # a worktree of ours
        subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=ROOT,
                       capture_output=True)
    shutil.rmtree(where, ignore_errors=True)
    subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


def _check(command: list[str], what: str, cwd: Path, timeout: float = 1800) -> str:
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True,
                          text=True, env=measured_env(), timeout=timeout)
    if done.returncode != 0:
        raise BenchError(f"{what} failed ({' '.join(map(str, command))}):\n{_tail(done)}")
    return done.stdout


def _install_offline(tree: Tree, wheel: Path, work: Path) -> None:
    """--deps-from-here: the wheel alone (`--no-deps`, by this interpreter's pip) into a venv
    without pip, whose dependencies are this interpreter's: a .pth in the venv's site-packages
    names every site-packages of this environment (a venv's and, with system site packages,
    its base's), after the venv's own, so the wheel's graders is the one imported (a path in a
    .pth is only appended: the .pth files there, such as an editable install of the checkout,
    are not read)."""
    _check([sys.executable, "-m", "venv", "--without-pip", tree.venv], f"{tree.label}: venv",
           cwd=work)
    _check([sys.executable, "-m", "pip", "--python", tree.python, "install", "-q", "--no-deps",
            "--disable-pip-version-check", wheel], f"{tree.label}: pip install --no-deps",
           cwd=work)
    site = _check([tree.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                  f"{tree.label}: site-packages", cwd=work).strip()
    (Path(site) / "gradkit-bench-deps-from-here.pth").write_text(
        "\n".join(site_module.getsitepackages()) + "\n")


def prepare(label: str, slug: str, spec: str, work: Path, reuse: bool,
            deps_from_here: bool = False) -> Tree:
    """The venv `label` runs from: built from `spec` (commit or folder) unless --reuse finds
    one built from the same source."""
    identity, folder = identify(spec)
    venv = work / f"venv-{slug}"
    stamp = venv / "gradkit-bench-source.txt"
    tree = Tree(label, spec, identity, venv)
    run = work / "run"
    run.mkdir(parents=True, exist_ok=True)
    wanted = identity + (" deps-from-here" if deps_from_here else "")
    if reuse and stamp.exists() and stamp.read_text() == wanted and tree.gradkit.exists():
        tree.reused = True
        log(f"{label}: reusing {venv} ({identity})")
    else:
        shutil.rmtree(venv, ignore_errors=True)
        source = work / f"src-{slug}"
        wheels = work / f"wheel-{slug}"
        shutil.rmtree(wheels, ignore_errors=True)
        try:
            log(f"{label}: building a wheel from {spec} ({identity})")
            _source(spec, folder, identity, source)
            # An absolute path: pip reads a bare word as a package name to download.
            _check([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "--disable-pip-version-check", "-w", wheels, source.resolve()],
                   f"{label}: pip wheel", cwd=work)
        finally:
            _drop_source(source)
        (wheel,) = wheels.glob("gradkit-*.whl")
        if deps_from_here:
            log(f"{label}: installing {wheel.name} alone into {venv}, its dependencies "
                f"from {sys.prefix}")
            _install_offline(tree, wheel, work)
        else:
            log(f"{label}: installing {wheel.name} and its dependencies into {venv}")
            _check([sys.executable, "-m", "venv", venv], f"{label}: venv", cwd=work)
            _check([tree.python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    wheel], f"{label}: pip install", cwd=work)
        stamp.write_text(identity + (" deps-from-here" if deps_from_here else ""))
    where = _check([tree.python, "-c", "import graders, importlib.metadata as m; "
                    "print(graders.__file__); print(m.version('gradkit'))"],
                   f"{label}: import graders", cwd=run).split()
    if not where or not where[0].startswith(str(venv)):
        raise BenchError(f"{label}: graders is imported from {where[:1]}, not from {venv}")
    tree.version = where[1] if len(where) > 1 else ""
    return tree


# --- one grade ---------------------------------------------------------------------------------

def grade_once(tree: Tree, submission: Path, run: Path) -> tuple[Measure, float | None]:
    """One `gradkit grade SUBMISSION --results r.json` of `tree`: its Measure and the score
    it wrote (a grade that fails or writes no results stops the benchmark)."""
    results = run / f"r-{tree.venv.name}.json"
    results.unlink(missing_ok=True)
    figure = measure([str(tree.gradkit), "grade", str(submission), "--results", str(results)],
                     cwd=run, env=measured_env(), timeout=300)
    if figure.returncode != 0 or not results.exists():
        raise BenchError(f"{tree.label}: gradkit grade {submission} exited "
                         f"{figure.returncode}:\n{_tail(figure)}")
    data = json.loads(results.read_text())
    return figure, data.get("score")


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def measure_grades(trees: list[Tree], submission: Path, repeats: int, run: Path) -> dict:
    """REPEATS grades per tree, interleaved so a drift in the machine's load hits all alike."""
    for tree in trees:  # warm: bytecode written, page cache filled, not measured
        grade_once(tree, submission, run)
    cpu: dict[str, list[float]] = {tree.label: [] for tree in trees}
    wall: dict[str, list[float]] = {tree.label: [] for tree in trees}
    scores: dict[str, float | None] = {}
    method = ""
    for index in range(repeats):
        for tree in trees:
            figure, score = grade_once(tree, submission, run)
            cpu[tree.label].append(figure.cpu)
            wall[tree.label].append(figure.wall)
            scores[tree.label] = score
            method = figure.method
        log(f"one grade, round {index + 1}/{repeats}: " + ", ".join(
            f"{label} {values[-1]:.3f} CPU-s" for label, values in cpu.items()))
    return {"submission": str(submission), "repeats": repeats, "method": method,
            "trees": {tree.label: {"cpu": cpu[tree.label], "wall": wall[tree.label],
                                   "cpu_s": summary(cpu[tree.label]),
                                   "wall_s": summary(wall[tree.label]),
                                   "score": scores[tree.label]} for tree in trees}}


# --- the breakdown -----------------------------------------------------------------------------

def measure_breakdown(tree: Tree, submission: Path, repeats: int, run: Path) -> dict:
    """Each part of PARTS and the whole grade, one process each, round-robin REPEATS times."""
    env = measured_env()
    cpu: dict[str, list[float]] = {part: [] for part in [*PARTS, WHOLE]}
    for _ in range(repeats):
        for part, argv in PARTS.items():
            command = [str(tree.python) if word == "{python}" else word for word in argv]
            figure = measure(command, cwd=run, env=env, timeout=120)
            if figure.returncode != 0:
                raise BenchError(f"{tree.label}: {' '.join(command)} failed:\n{_tail(figure)}")
            cpu[part].append(figure.cpu)
        cpu[WHOLE].append(grade_once(tree, submission, run)[0].cpu)
    medians = {part: statistics.median(values) for part, values in cpu.items()}
    return {"tree": tree.label, "repeats": repeats, "cpu": cpu, "median_s": medians,
            "split_s": split(medians)}


def split(medians: dict[str, float]) -> dict[str, float]:
    """The grade's CPU in parts that add up to it: the parent's interpreter start, the imports
    a grade needs beyond that start, the child's interpreter floor, and the rest (the child's
    harness and checks, the parent's own work, the report), which is whatever remains."""
    whole = medians[WHOLE]
    start, floor = medians[START], medians[FLOOR]
    imports = max(medians[NEEDS] - start, 0.0)
    return {"parent: interpreter start": start,
            "parent: imports a grade needs, beyond start": imports,
            "child: interpreter floor (-I -S)": floor,
            "the rest: child's harness and checks, parent's work, report":
                whole - start - imports - floor,
            "total (the whole grade)": whole}


def importtime(stderr: str) -> dict[str, int]:
    """Microseconds per top-level package from `python -X importtime` output, largest first.

    Each module's *self* time is added to the first part of its dotted name, at whatever depth
    it was imported: rich pulled in by graders counts as rich, not as graders, and nothing is
    counted twice (cumulative times nest). A line reads
    `import time:      self [us] |  cumulative | name`, the name indented by nesting."""
    totals: dict[str, int] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:"):].split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line, or another program's text
        top = fields[2].strip().split(".")[0]
        totals[top] = totals.get(top, 0) + int(fields[0])
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def parent_imports(tree: Tree, submission: Path, run: Path) -> dict[str, int]:
    """One grade under `-X importtime`: which packages the grading parent imports (wall µs)."""
    done = subprocess.run([str(tree.python), "-X", "importtime", "-m", "graders", "grade",
                           str(submission), "--results", str(run / "r-importtime.json")],
                          cwd=run, env=measured_env(), capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        raise BenchError(f"{tree.label}: -X importtime grade failed:\n{_tail(done)}")
    return importtime(done.stderr)


# --- the batch ---------------------------------------------------------------------------------

def _marked(source: Path, student: str) -> str:
    """The source with a comment naming its student, so no two files of a batch are equal."""
    line = f"# submitted by {student}\n"
    if source.suffix != ".ipynb":
        return source.read_text().rstrip("\n") + "\n" + line
    notebook = json.loads(source.read_text())
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = text.rstrip("\n") + "\n" + line
    return json.dumps(notebook, indent=1)


def make_batch(folder: Path, count: int) -> list[str]:
    """COUNT honest submissions as plain files `sNNN_<style>.py|.ipynb` (student = the file's
    name), cycling through HONEST; returns the student ids."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    students = []
    for index in range(count):
        source = HONEST[index % len(HONEST)]
        student = f"s{index:03d}_{source.stem}"
        (folder / f"{student}{source.suffix}").write_text(_marked(source, student))
        students.append(student)
    return students


SUMMARY_LINE = re.compile(r"(\d+) submissions?: (\d+) graded, (\d+) unchanged")


def batch_once(tree: Tree, folder: Path, count: int, jobs: int, out: Path) -> dict:
    """One batch of `tree` into a fresh OUT: CPU and wall, and proof that it really graded
    (the summary line's counts and grades.csv's full marks)."""
    shutil.rmtree(out, ignore_errors=True)
    figure = measure([str(tree.gradkit), "grade", str(folder), "--out", str(out), "-j",
                      str(jobs), "--no-progress"], cwd=out.parent, env=measured_env(),
                     timeout=120 + 10 * count)
    if figure.returncode != 0:
        raise BenchError(f"{tree.label}: batch exited {figure.returncode}:\n{_tail(figure)}")
    found = SUMMARY_LINE.search(figure.stdout + figure.stderr)
    graded = int(found[2]) if found else None
    unchanged = int(found[3]) if found else None
    if found and (graded != count or unchanged):
        raise BenchError(f"{tree.label}: the batch graded {graded} of {count} "
                         f"({unchanged} unchanged): not a real grading\n{_tail(figure)}")
    with (out / "grades.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    full = sum(1 for row in rows if row.get("total") and row.get("max_score")
               and float(row["total"]) == float(row["max_score"]))
    if len(rows) != count:
        raise BenchError(f"{tree.label}: grades.csv has {len(rows)} rows, not {count}")
    return {"cpu": figure.cpu, "wall": figure.wall, "graded": graded, "rows": len(rows),
            "full_marks": full}


def measure_batches(trees: list[Tree], count: int, jobs: int, repeats: int, run: Path) -> dict:
    folder = run / "batch-submissions"
    make_batch(folder, count)
    figures: dict[str, list[dict]] = {tree.label: [] for tree in trees}
    for index in range(repeats):
        for tree in trees:
            out = run / f"batch-out-{tree.venv.name}"
            figures[tree.label].append(batch_once(tree, folder, count, jobs, out))
            last = figures[tree.label][-1]
            log(f"batch {index + 1}/{repeats}, {tree.label}: {last['cpu']:.1f} CPU-s, "
                f"{last['wall']:.1f} s wall, {last['full_marks']}/{count} full marks")
    return {"count": count, "jobs": jobs, "repeats": repeats,
            "styles": [str(p.relative_to(ROOT)) for p in HONEST],
            "trees": {label: {"runs": runs,
                              "cpu_s": summary([r["cpu"] for r in runs]),
                              "wall_s": summary([r["wall"] for r in runs])}
                      for label, runs in figures.items()}}


# --- the report --------------------------------------------------------------------------------

def _ratio(old: float, new: float) -> str:
    return f"{old / new:.2f}x" if new > 0 else "-"


def _met(value: float, target: float) -> str:
    return "met" if value <= target else "missed"


def report(figures: dict) -> str:
    """The Markdown report of `figures` (what --json writes)."""
    trees = figures["trees"]
    labels = list(trees)
    machine = figures["machine"]
    lines = [
        "## gradkit grade: CPU of the whole process tree", "",
        f"{machine['cores']} cores, load average {machine['load_before']} before and "
        f"{machine['load_after']} after; Python {machine['python']}; CPU counted by "
        f"{figures['method']}; each tree a wheel in its own fresh venv, "
        f"PYTHONDONTWRITEBYTECODE unset.", "",
        "| tree | source | gradkit |", "| --- | --- | --- |",
        *(f"| {label} | `{t['spec']}` ({t['identity']}) | {t['version']} |"
          for label, t in trees.items()), ""]
    grade = figures["grade"]
    lines += [f"### One grade: `gradkit grade {Path(grade['submission']).name} --results "
              f"r.json`, {grade['repeats']} runs each, interleaved", "",
              "| tree | CPU median s | CPU min s | wall median s | wall min s | score |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for label in labels:
        g = grade["trees"][label]
        lines.append(f"| {label} | {g['cpu_s']['median']:.3f} | {g['cpu_s']['min']:.3f} | "
                     f"{g['wall_s']['median']:.3f} | {g['wall_s']['min']:.3f} | {g['score']} |")
    this = grade["trees"][labels[-1]]["cpu_s"]["median"]
    if len(labels) == 2:
        old = grade["trees"][labels[0]]["cpu_s"]["median"]
        lines += ["", f"{labels[-1]} is {_ratio(old, this)} cheaper in CPU than {labels[0]} "
                  f"(median against median)."]
    lines += ["", f"Target: median <= {TARGET_GRADE_CPU:.2f} CPU-s: "
              f"{_met(this, TARGET_GRADE_CPU)} ({this:.3f})."]

    if "breakdown" in figures:
        b = figures["breakdown"]
        whole = b["median_s"][WHOLE]
        lines += ["", f"### Where {b['tree']}'s grade goes (median of {b['repeats']}, "
                  f"each part its own process, start-up included)", "",
                  "| part | CPU ms | share |", "| --- | ---: | ---: |"]
        for part, seconds in b["median_s"].items():
            lines.append(f"| {part} | {seconds * 1000:.0f} | {seconds / whole:.0%} |")
        lines += ["", "The same grade split into parts that add up (the rest is the grade "
                  "less the parts measured):", "",
                  "| part | CPU ms | share |", "| --- | ---: | ---: |"]
        for part, seconds in b["split_s"].items():
            lines.append(f"| {part} | {seconds * 1000:.0f} | {seconds / whole:.0%} |")
    if figures.get("imports"):
        lines += ["", "### What the grading parent imports (one run under `python -X "
                  "importtime`; wall ms of each package's own modules, top 8)", "",
                  "| tree | imports |", "| --- | --- |"]
        for label, totals in figures["imports"].items():
            top = ", ".join(f"{name} {us / 1000:.0f}" for name, us in list(totals.items())[:8])
            heavy = [name for name in ("sympy", "mpmath", "rich", "numpy") if name in totals]
            lines.append(f"| {label} | {top} (of the heavy ones: {', '.join(heavy) or 'none'}) |")

    if "batch" in figures:
        batch = figures["batch"]
        count = batch["count"]
        cpu_target = TARGET_BATCH_CPU_200 * count / 200
        wall_target = TARGET_BATCH_WALL_200 * count / 200
        scaled = "" if count == 200 else f" (the issue's 200-submission targets, scaled to {count})"
        lines += ["", f"### A batch: {count} honest submissions, `gradkit grade FOLDER --out "
                  f"OUT -j {batch['jobs']} --no-progress`, fresh OUT each run (median of "
                  f"{batch['repeats']})", "",
                  "| tree | CPU total s | wall s | CPU per submission ms | full marks |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for label in labels:
            t = batch["trees"][label]
            cpu, wall = t["cpu_s"]["median"], t["wall_s"]["median"]
            lines.append(f"| {label} | {cpu:.1f} | {wall:.1f} | {cpu / count * 1000:.0f} | "
                         f"{t['runs'][-1]['full_marks']}/{count} |")
        cpu = batch["trees"][labels[-1]]["cpu_s"]["median"]
        wall = batch["trees"][labels[-1]]["wall_s"]["median"]
        if len(labels) == 2:
            old = batch["trees"][labels[0]]["cpu_s"]["median"]
            lines += ["", f"{labels[-1]} is {_ratio(old, cpu)} cheaper in CPU than "
                      f"{labels[0]} over the batch."]
        lines += ["", f"Targets{scaled}: <= {cpu_target:.1f} CPU-s: {_met(cpu, cpu_target)}; "
                  f"<= {wall_target:.1f} s wall: {_met(wall, wall_target)}."]
    lines += ["", "The machine's other work inflates every figure alike; ratios from one "
              "interleaved run are the comparable part."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--baseline", default=BASELINE,
                        help=f"commit (or folder) to compare with (default {BASELINE}, "
                             "before the speed work)")
    parser.add_argument("--tree", default=str(ROOT),
                        help="the tree measured: a folder (its working tree, uncommitted "
                             "edits included) or a commit (default: this checkout)")
    parser.add_argument("--submission", type=Path, default=SUBMISSION,
                        help="the correct submission graded one at a time, .ipynb or .py "
                             "(default examples/submissions/alice.ipynb)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="grades per tree, and rounds of the breakdown (default 5)")
    parser.add_argument("--count", type=int, default=200, help="submissions in the batch")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="the batch's -j (default 2)")
    parser.add_argument("--batch-repeats", type=int, default=1,
                        help="batches per tree, interleaved (default 1)")
    parser.add_argument("--work", type=Path,
                        default=Path(tempfile.gettempdir()) / "gradkit-bench-cpu",
                        help="where the wheels, venvs and runs live (default: %(default)s)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep a venv in --work built from the same source (commit, or "
                             "the tree's files byte for byte) instead of building it again")
    parser.add_argument("--skip-batch", action="store_true", help="no batch")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="measure this tree alone (no baseline, no ratios)")
    parser.add_argument("--deps-from-here", action="store_true",
                        help="install each wheel with --no-deps and take its dependencies "
                             "from this interpreter's environment (no package registry, no "
                             "pip in the venv): a smoke run, as the test suite's, in seconds; "
                             "the figures are then not what users get")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    submission = args.submission.expanduser().resolve()
    if not submission.is_file():
        raise BenchError(f"{submission}: no such submission")
    work = args.work.expanduser().resolve()
    work.mkdir(parents=True, exist_ok=True)
    run = work / "run"

    load_before = os.getloadavg()
    trees = []
    if not args.skip_baseline:
        trees.append(prepare(f"baseline {args.baseline}", "baseline", args.baseline, work,
                             args.reuse, args.deps_from_here))
    trees.append(prepare("this tree", "this", args.tree, work, args.reuse, args.deps_from_here))

    figures: dict = {"trees": {t.label: {"spec": t.spec, "identity": t.identity,
                                         "version": t.version, "venv": str(t.venv),
                                         "reused": t.reused} for t in trees}}
    log(f"one grade of {submission.name}, {args.repeats} runs per tree")
    figures["grade"] = measure_grades(trees, submission, args.repeats, run)
    figures["method"] = figures["grade"]["method"]
    log("the breakdown of this tree's grade")
    figures["breakdown"] = measure_breakdown(trees[-1], submission, args.repeats, run)
    figures["imports"] = {t.label: parent_imports(t, submission, run) for t in trees}
    if not args.skip_batch:
        log(f"a batch of {args.count} with -j {args.jobs}, {args.batch_repeats} per tree")
        figures["batch"] = measure_batches(trees, args.count, args.jobs, args.batch_repeats,
                                           run)
    figures["machine"] = {"cores": os.cpu_count(), "python": platform.python_version(),
                          "load_before": [round(x, 2) for x in load_before],
                          "load_after": [round(x, 2) for x in os.getloadavg()],
                          "date": time.strftime("%Y-%m-%d %H:%M")}
    print(report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
