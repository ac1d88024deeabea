"""What the OS wall costs an honest grade: this checkout against a baseline commit, side by side.

    python benchmarks/bench_isolation.py [--baseline 582f1b2] [--repeats 7] [--json out.json]

Checks the baseline out into a temporary git worktree, then grades the same honest notebook
(examples/submissions/alice.ipynb) with `python -m graders grade FILE --results r.json` from
each tree, interleaved, on each path both trees have:

- `bubblewrap`: the default where bubblewrap works (the wall is not used there; the guard's
  `.pyc` check is);
- `no bubblewrap`: `--weak-isolation`; the baseline runs the audit hook alone, this checkout
  adds Landlock + seccomp (and the run's uid where the grader is root).

CPU time is the whole process tree's (`RUSAGE_CHILDREN` of each waited `gradkit` process,
which waits for its sandboxed children), median of REPEATS; the target is a ratio within 1.10.
Prints a Markdown table; docs/performance.md records one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBMISSION = ROOT / "examples" / "submissions" / "alice.ipynb"
PATHS = {"bubblewrap": (), "no bubblewrap": ("--weak-isolation",)}


def cpu_and_wall(tree: Path, extra: tuple[str, ...], out: Path) -> tuple[float, float]:
    """One `gradkit grade` from `tree`: (CPU seconds of the process tree, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "graders", "grade", str(SUBMISSION), "--results", str(out),
         *extra], cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True, text=True, timeout=300)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: gradkit grade failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="582f1b2",
                        help="the commit to compare with (default: the last before the wall)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="gradkit-bench-isolation-"))
    baseline = scratch / "baseline"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(baseline),
                    args.baseline], check=True)
    try:
        trees = {"baseline": baseline, "this checkout": ROOT}
        figures: dict[str, dict[str, list[tuple[float, float]]]] = {
            path: {name: [] for name in trees} for path in PATHS}
        for _ in range(args.repeats):
            for path, extra in PATHS.items():
                for name, tree in trees.items():  # interleaved: load drifts hit both alike
                    figures[path][name].append(cpu_and_wall(tree, extra, scratch / "r.json"))
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                        str(baseline)], check=False)
    print(f"Honest grade of {SUBMISSION.name}, median of {args.repeats}, baseline "
          f"{args.baseline}:\n")
    print("| path | baseline CPU s | this CPU s | ratio | baseline wall s | this wall s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    report = {}
    for path in PATHS:
        old = [statistics.median(x) for x in zip(*figures[path]["baseline"], strict=True)]
        new = [statistics.median(x) for x in zip(*figures[path]["this checkout"], strict=True)]
        ratio = new[0] / old[0]
        report[path] = {"baseline": old, "this": new, "cpu_ratio": ratio}
        print(f"| {path} | {old[0]:.3f} | {new[0]:.3f} | {ratio:.3f} | {old[1]:.3f} | "
              f"{new[1]:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
