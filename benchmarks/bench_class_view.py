"""What the class view costs a batch: class-wide probe points, clusters and summary.html.

Grades the same synthetic class (honest styles and every mutant of the corpus, repeated to N
submissions) twice into fresh OUTDIRs, side by side in one process: once as shipped, once with
the class-wide probe points and the dashboard switched off (the batch as it was before issue 16).
Runs alternate, so machine noise hits both; the ratio of the medians is the overhead. Issue 16
asks for at most 10% on a 200-submission batch. Grading is inline (one worker): the switch is
made in this process, and a pool's workers would not see it; the per-submission work, and so
the ratio, is the same with more workers.

Run: `python benchmarks/bench_class_view.py [--submissions 200] [--rounds 2]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graders.classroom import batch, dashboard
from graders.judge import probes
from tests.corpus import CORRECT, MUTANTS


def write_class(folder: Path, count: int) -> None:
    sources = [path.read_text() for path in CORRECT] + [m.source() for m in MUTANTS]
    for index in range(count):
        (folder / f"s{index:03d}.py").write_text(f"# student {index}\n"
                                                 + sources[index % len(sources)])


@contextmanager
def without_class_view():
    """The batch without class-wide points and without summary.html."""
    cases, write = probes.class_cases, dashboard.write
    probes.class_cases = lambda spec: []
    dashboard.write = lambda *args, **kwargs: None
    try:
        yield
    finally:
        probes.class_cases, dashboard.write = cases, write


def timed(students: Path) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        batch.run([students], batch.Options(outdir=Path(out), jobs=1, progress=False))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        students = Path(folder)
        write_class(students, args.submissions)
        shipped, before = [], []
        for _ in range(args.rounds):
            with without_class_view():
                before.append(timed(students))
            shipped.append(timed(students))
    base, now = statistics.median(before), statistics.median(shipped)
    print(f"{args.submissions} submissions, inline, {args.rounds} rounds each")
    print(f"without the class view: {base:.1f} s (median of {before})")
    print(f"with it (as shipped):   {now:.1f} s (median of {shipped})")
    print(f"overhead: {100 * (now / base - 1):+.1f}% (target: at most +10%)")


if __name__ == "__main__":
    main()
