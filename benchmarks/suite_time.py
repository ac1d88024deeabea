"""The test suite's time as the README states it: wall, and the CPU the whole machine spent.

`time -v pytest` undercounts this suite: not every process its sandboxes start reaches the
rusage of the process that started it (one whole run: `time -v` counted 571 CPU-s while the
machine was busy for 739). This script reads the kernel's own counters (`/proc/stat`) before
and after the run instead, so the figure is the machine's, and reports how much of the cores
stood idle: a suite that keeps every core busy is only made faster by doing less. The machine
should be otherwise quiet while it runs.

    python benchmarks/suite_time.py                      # the README's command, the whole suite
    python benchmarks/suite_time.py -- tests/test_batch.py -n 0
    python benchmarks/suite_time.py --json figures.json

It prints wall seconds, busy and idle CPU-seconds, the cores in use on average, pytest's own
summary line, and the files that took longest (from pytest's junit XML), which is what
`LONGEST_FIRST` in tests/conftest.py is ordered by.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_COMMAND = ["-n", "auto", "--dist", "loadfile"]


def cpu_counters() -> tuple[float, float]:
    """(busy, idle) CPU-seconds of the whole machine since boot, from /proc/stat's `cpu` line
    (busy: user, nice, system, irq, softirq; idle: idle and iowait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(value) for value in fields]
    per_second = os.sysconf("SC_CLK_TCK")
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
    idle = ticks[3] + ticks[4]
    return busy / per_second, idle / per_second


def longest_files(junit: Path, count: int) -> list[tuple[str, float]]:
    """The test files with the most seconds in pytest's junit XML (setup and calls)."""
    seconds: collections.Counter[str] = collections.Counter()
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = (case.get("classname") or "").split(".")
        name = f"{module[1]}.py" if len(module) > 1 else case.get("file", "?")
        seconds[name] += float(case.get("time") or 0)
    return [(name, round(value, 1)) for name, value in seconds.most_common(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=12, help="longest files to list")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("pytest_args", nargs="*",
                        help="after --: pytest's arguments (default: the README's "
                             f"{' '.join(README_COMMAND)})")
    args = parser.parse_args(argv)
    if not Path("/proc/stat").is_file():
        parser.error("needs /proc/stat (Linux)")
    with tempfile.TemporaryDirectory(prefix="gradkit-suite-time-") as scratch:
        junit = Path(scratch) / "junit.xml"
        command = [sys.executable, "-m", "pytest", *(args.pytest_args or README_COMMAND), "-q",
                   "-p", "no:cacheprovider", f"--junitxml={junit}"]
        busy0, idle0 = cpu_counters()
        start = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        wall = time.monotonic() - start
        busy1, idle1 = cpu_counters()
        summary = next((line.strip("= ") for line in reversed(done.stdout.splitlines())
                        if " in " in line and ("passed" in line or "failed" in line)), "")
        files = longest_files(junit, args.top) if junit.is_file() else []
    figures = {"command": " ".join(command[1:]), "exit_status": done.returncode,
               "wall_seconds": round(wall, 1), "busy_cpu_seconds": round(busy1 - busy0, 1),
               "idle_cpu_seconds": round(idle1 - idle0, 1),
               "cores": len(os.sched_getaffinity(0)),
               "cores_in_use": round((busy1 - busy0) / wall, 2) if wall else 0.0,
               "pytest": summary, "longest_files": files}
    print(f"{figures['command']}\n"
          f"  pytest: {summary or 'no summary line (exit ' + str(done.returncode) + ')'}\n"
          f"  wall {figures['wall_seconds']} s; CPU of the whole machine "
          f"{figures['busy_cpu_seconds']} s busy, {figures['idle_cpu_seconds']} s idle "
          f"({figures['cores_in_use']} of {figures['cores']} cores in use)")
    for name, seconds in files:
        print(f"  {seconds:8.1f} s  {name}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
