"""CPU time of a whole process tree, the way docs/performance.md measures every grade.

A grade's cost is the parent's CPU plus every child's, including the sandboxed child that is
killed at the end and never waited for: `RUSAGE_CHILDREN` misses such a child's time (it counts
only waited descendants), so where a cgroup can be made the command runs inside its own CPU
accounting group and the group's counter is read after the whole tree is gone. cgroup v1
(`cpuacct`) and v2 (`cpu.stat`) are both handled; elsewhere `RUSAGE_CHILDREN` plus the child's
own report of its CPU (results.json's `extra_data.child_cpu_seconds`) is the fallback, and
`Measure.method` says which was used.

    from benchmarks.cputime import measure
    figure = measure(["python", "-m", "graders", "grade", "alice.ipynb", "--results", "r.json"])
    figure.cpu, figure.wall, figure.method
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measure:
    """One run: CPU seconds of the process tree, wall seconds, how CPU was counted, output."""

    cpu: float
    wall: float
    method: str
    returncode: int
    stdout: str
    stderr: str


def _group_dir() -> tuple[Path, str] | None:
    """A fresh accounting cgroup under this process's own, and how to read it (or None)."""
    own: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            own[name] = path
    name = f"gradkit-bench-{uuid.uuid4().hex[:8]}"
    hierarchies = (
        ("cpuacct", Path("/sys/fs/cgroup/cpuacct"), "cpuacct.usage", "cgroup v1 cpuacct"),
        ("", Path("/sys/fs/cgroup"), "cgroup.controllers", "cgroup v2 cpu.stat"))
    for controller, mount, marker, method in hierarchies:
        if controller in own and (mount / marker).exists():
            where = mount / own[controller].lstrip("/") / name
            try:
                where.mkdir()
                return where, method
            except OSError:
                continue
    return None


def _group_cpu(where: Path) -> float:
    if (where / "cpuacct.usage").exists():
        return int((where / "cpuacct.usage").read_text()) / 1e9
    for line in (where / "cpu.stat").read_text().splitlines():
        key, value = line.split()
        if key == "usage_usec":
            return int(value) / 1e6
    raise OSError(f"{where}: no CPU counter")


def _wait_empty(where: Path, limit: float = 10.0) -> None:
    """The killed child may outlive the command by a moment: its time counts once it is gone."""
    deadline = time.monotonic() + limit
    while (where / "cgroup.procs").read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.005)


def _reported(results: Path | None) -> float:
    """The CPU a bubblewrap child said it used, from a grade's results.json: RUSAGE_CHILDREN
    misses it (bubblewrap is killed, the child under it is never waited for by the grader);
    a child on the other paths is the grader's own child, waited for and counted."""
    if results is None:
        return 0.0
    try:
        extra = json.loads(results.read_text(encoding="utf-8")).get("extra_data") or {}
    except (OSError, ValueError):
        return 0.0
    if extra.get("isolation") != "bubblewrap":
        return 0.0
    return float(extra.get("child_cpu_seconds") or 0.0)


def measure(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 600, results: Path | None = None) -> Measure:
    """Run `argv` to the end; its whole tree's CPU seconds (cgroup where one can be made).

    Without a cgroup, `results` (the results.json a `gradkit grade --results` wrote) adds the
    sandboxed child's own report of its CPU to what RUSAGE_CHILDREN counted."""
    group = _group_dir()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    join = None
    if group is not None:
        procs = str(group[0] / "cgroup.procs")

        def join() -> None:  # in the forked child, before exec: everything it starts counts
            with open(procs, "w") as handle:
                handle.write(str(os.getpid()))

    try:
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=join)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if group is None:
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            cpu += _reported(results)
            method = "RUSAGE_CHILDREN + the child's own report"
        else:
            _wait_empty(group[0])
            cpu, method = _group_cpu(group[0]), group[1]
    finally:
        if group is not None:
            try:
                group[0].rmdir()
            except OSError:
                pass
    return Measure(cpu, wall, method, done.returncode, done.stdout, done.stderr)
