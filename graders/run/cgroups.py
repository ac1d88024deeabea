"""A per-run control group for the child: caps processes and memory, and kills everything left.

Root is exempt from RLIMIT_NPROC, and rlimits are per process, so as root the only sound caps on
a fork storm or a many-process memory bomb are a pids and a memory cgroup. The run's cgroup is
created *under the grader's own* (CI jobs sit in a nested cgroup: the path is read from
/proc/self/cgroup, never assumed), the child joins it before exec, and at the end every pid
listed in it is killed, however it detached itself (setsid, double fork), before the cgroup is
removed. cgroup v1 (separate pids and memory hierarchies) and v2 (one unified hierarchy) are both
handled; where neither is writable, `create` returns None and a note saying what is missing.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PREFIX = "gradkit-"


@dataclass(frozen=True)
class Mount:
    """One cgroup hierarchy: where it is mounted and which part of it this process can see."""

    point: Path
    root: str  # the hierarchy path shown at `point` (not "/" inside a cgroup namespace)
    version: int
    controllers: frozenset[str]


@cache
def _mounts() -> tuple[Mount, ...]:
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return ()
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        kind, options = tail[0], set(tail[2].split(","))
        if kind == "cgroup":
            found.append(Mount(Path(fields[4]), fields[3], 1,
                               frozenset(options & {"pids", "memory"})))
        elif kind == "cgroup2":
            found.append(Mount(Path(fields[4]), fields[3], 2, frozenset()))
    return tuple(found)


@cache
def _own_paths() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under "" for the v2 hierarchy."""
    paths = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _here(mount: Mount, own: str) -> Path | None:
    """The directory of our own cgroup inside `mount`, if it is visible there."""
    relative = os.path.relpath(own, mount.root) if mount.root != "/" else own.lstrip("/")
    if relative.startswith(".."):
        return None
    return mount.point / relative if relative != "." else mount.point


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


@dataclass
class RunCgroup:
    """The cgroup directories of one child run (one per v1 controller, or one for v2)."""

    directories: tuple[Path, ...]
    version: int

    def join_paths(self) -> tuple[bytes, ...]:
        """`cgroup.procs` paths, prepared in the parent so the forked child only writes."""
        return tuple(bytes(d / "cgroup.procs") for d in self.directories)

    def pids(self) -> set[int]:
        found = set()
        for directory in self.directories:
            try:
                text = (directory / "cgroup.procs").read_text()
            except OSError:
                continue
            found.update(int(pid) for pid in text.split())
        return found

    def oom_killed(self) -> bool:
        """Whether the kernel killed something here for going over the memory limit."""
        for directory in self.directories:
            for name in ("memory.oom_control", "memory.events"):
                try:
                    text = (directory / name).read_text()
                except OSError:
                    continue
                for line in text.splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and value.strip() not in ("", "0"):
                        return True
        return False

    def kill(self, patience: float = 5.0) -> bool:
        """SIGKILL every process in the cgroup until it is empty, then remove it.

        A forking process can add pids while the list is read, so sweep until a read comes back
        empty (pids.max bounds how many there can be). Returns False if something survived.
        """
        kill_file = self.directories[0] / "cgroup.kill"
        if self.version == 2 and kill_file.exists():
            try:
                _write(kill_file, "1")
            except OSError:
                pass
        give_up = time.monotonic() + patience
        while True:
            pids = self.pids()
            if not pids:
                break
            if time.monotonic() > give_up:
                return False
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.001)
        empty = True
        for directory in self.directories:
            for _ in range(1000):  # rmdir is refused (EBUSY) until the last task has exited
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.001)
            else:
                empty = False
        return empty


def _make(parent: Path, name: str, settings: dict[str, str]) -> Path:
    directory = parent / name
    directory.mkdir(mode=0o755)
    try:
        for key, value in settings.items():
            if key.endswith("?"):  # optional knob (swap accounting may be off)
                key = key[:-1]
                if not (directory / key).exists():
                    continue
            _write(directory / key, value)
    except OSError:
        directory.rmdir()
        raise
    return directory


def _sweep_stale(parent: Path) -> None:
    """Remove run cgroups left by a grader that was itself killed (its pid is in the name)."""
    try:
        entries = list(parent.glob(f"{PREFIX}*"))
    except OSError:
        return
    for directory in entries:
        owner = directory.name[len(PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            RunCgroup((directory,), 1).kill(patience=1.0)


_counter = 0


def create(memory_bytes: int, processes: int) -> tuple[RunCgroup | None, str | None]:
    """Make a run cgroup capping memory and processes; on failure, (None, why) instead."""
    global _counter
    _counter += 1
    name = f"{PREFIX}{os.getpid()}-{_counter}-{os.urandom(3).hex()}"
    memory = str(memory_bytes)
    own = _own_paths()
    v1 = {name: m for m in _mounts() if m.version == 1 for name in m.controllers}
    problems = []
    if "pids" in v1 and "memory" in v1 and v1["pids"] is not v1["memory"]:
        made: list[Path] = []
        try:
            for controller, settings in (
                ("pids", {"pids.max": str(processes)}),
                ("memory", {"memory.limit_in_bytes": memory,
                            "memory.memsw.limit_in_bytes?": memory,
                            "memory.swappiness?": "0"}),
            ):
                here = _here(v1[controller], own.get(controller, "/"))
                if here is None:
                    raise OSError(f"our {controller} cgroup is not visible")
                _sweep_stale(here)
                made.append(_make(here, name, settings))
            return RunCgroup(tuple(made), 1), None
        except OSError as error:
            for directory in made:
                RunCgroup((directory,), 1).kill(patience=1.0)
            problems.append(f"cgroup v1: {error.strerror or error}")
    unified = [m for m in _mounts() if m.version == 2]
    if unified:
        here = _here(unified[0], own.get("", "/"))
        try:
            if here is None:
                raise OSError("our cgroup is not visible")
            available = set((here / "cgroup.subtree_control").read_text().split())
            if not {"pids", "memory"} <= available:
                raise OSError("the pids and memory controllers are not delegated to our cgroup")
            _sweep_stale(here)
            directory = _make(here, name, {"pids.max": str(processes), "memory.max": memory,
                                           "memory.swap.max?": "0"})
            return RunCgroup((directory,), 2), None
        except OSError as error:
            problems.append(f"cgroup v2: {error.strerror or error}")
    if not problems:
        problems.append("no pids and memory cgroup controllers are mounted")
    return None, "; ".join(problems)
