"""Where one grade's CPU goes, part by part, in an installed gradkit (docs/performance.md).

    python benchmarks/grade_parts.py VENV [--submission FILE] [--repeats 5]

VENV is a venv with gradkit installed from a wheel (`benchmarks/bench_cpu.py` leaves one in
/tmp/gradkit-bench-cpu/venv-this). Each repeat runs one process that times, with its own
process clock, the grader's imports, rich's, one `api.grade` (the parent's side), the rich
table and results.json; the sandboxed child's CPU is its own report (results.json's
`extra_data.child_cpu_seconds`, whole ticks of 10 ms). The interpreter's start is a process of
its own (`python -c pass`), measured by benchmarks/cputime.py. Medians are printed as a
Markdown table; the whole grade, measured the same way, is the last row for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.cputime import measure

ROOT = Path(__file__).resolve().parents[1]
PARTS = r'''
import contextlib, io, json, sys, time
import graders
graders.relax_collector()  # as the CLI does first
clock = time.process_time
start = clock()
import graders.api, graders.cli, graders.commands.grade, graders.run.session
imported = clock()
import graders.report.gradescope, graders.report.terminal, rich.console, rich.table, rich.text
drawn_from = clock()
from pathlib import Path
from graders.spec.assignments import BUILTIN
result = graders.api.grade(Path(sys.argv[1]), assignment=BUILTIN["backprop"])
graded = clock()
with contextlib.redirect_stdout(io.StringIO()):
    graders.report.terminal.render(result)
table = clock()
json.dumps(graders.report.gradescope.gradescope(result))
done = clock()
print(json.dumps({
    "parent: the grader's imports (mpmath among them)": imported - start,
    "parent: rich and the report modules": drawn_from - imported,
    "parent: plan, child start and I/O, scoring": graded - drawn_from,
    "child: harness start, the cells, every check (its own report)": result.child_cpu,
    "parent: the rich table": table - graded,
    "parent: results.json": done - table,
}))
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venv", type=Path)
    parser.add_argument("--submission", type=Path,
                        default=ROOT / "examples" / "submissions" / "alice.ipynb")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    python, gradkit = args.venv / "bin" / "python", args.venv / "bin" / "gradkit"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    scratch = Path(tempfile.mkdtemp(prefix="gradkit-parts-"))
    rows, starts, wholes = [], [], []
    for _ in range(args.repeats):
        done = subprocess.run([str(python), "-c", PARTS, str(args.submission.resolve())],
                              env=env, cwd=scratch, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.splitlines()[-1]))
        starts.append(measure([str(python), "-c", "pass"], env=env, cwd=scratch).cpu)
        wholes.append(measure([str(gradkit), "grade", str(args.submission.resolve()),
                               "--results", str(scratch / "r.json")], env=env, cwd=scratch,
                              results=scratch / "r.json").cpu)
    parts = {"parent: interpreter start": statistics.median(starts)}
    parts.update({key: statistics.median(row[key] for row in rows) for key in rows[0]})
    whole = statistics.median(wholes)
    print(f"| part of one `gradkit grade {args.submission.name}` | CPU ms | share |")
    print("| --- | ---: | ---: |")
    for key, seconds in parts.items():
        print(f"| {key} | {seconds * 1000:.0f} | {seconds / whole:.0%} |")
    rest = whole - sum(parts.values())
    print(f"| the rest (bubblewrap, child start before Python, exit) | {rest * 1000:.0f} | "
          f"{rest / whole:.0%} |")
    print(f"| **the whole grade** (benchmarks/cputime.py) | **{whole * 1000:.0f}** | 100% |")


if __name__ == "__main__":
    main()
