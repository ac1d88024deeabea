"""The unprivileged uid a child runs under when the grader is root.

A root grader without bubblewrap (a Docker container, Gradescope) would otherwise run student
code as root: it could write the grader's files (results.json, the gradebook) and a `setsid`
daemon would leave the process group the grader kills. Each child gets a uid of its own instead,
from a range no account uses, claimed with a lock file so concurrent graders never share one.
It owns nothing outside its scratch folder, `RLIMIT_NPROC` caps what it can start, and the
sweep ends every process with that uid: a process running as the uid calls `kill(-1, SIGKILL)`,
which reaches exactly the processes of that uid however they detached.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BASE_UID = 0x70000000  # far above login accounts and the subuid ranges of user namespaces
SLOTS = 4096
LOCKS = Path(tempfile.gettempdir()) / "gradkit-uids"


@dataclass
class Account:
    """A claimed uid (its gid is the same number); held until `release`."""

    uid: int
    lock_fd: int

    def sweep(self) -> bool:
        """Kill every process of this uid; True once none is left (zombies aside)."""
        for _ in range(100):
            pid = os.fork()
            if pid == 0:  # the killer: as the uid, signal everything the uid owns but itself
                try:
                    os.setgid(self.uid)
                    os.setuid(self.uid)
                    os.kill(-1, signal.SIGKILL)
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)
            if not live_processes(self.uid):
                return True
            time.sleep(0.01)
        return False

    def release(self) -> None:
        os.close(self.lock_fd)


def claim() -> Account | None:
    """A free uid of the range, or None if every slot is taken (or the lock folder is unsafe)."""
    try:
        LOCKS.mkdir(mode=0o700, exist_ok=True)
        info = LOCKS.lstat()
    except OSError:
        return None
    if not LOCKS.is_dir() or LOCKS.is_symlink() or info.st_uid != 0 or info.st_mode & 0o022:
        return None  # someone else's folder: its locks prove nothing
    for slot in range(SLOTS):
        fd = os.open(LOCKS / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        account = Account(BASE_UID + slot, fd)
        if live_processes(account.uid) and not account.sweep():
            account.release()  # a leftover of a killed grader that would not die
            continue
        return account
    return None


def live_processes(uid: int) -> list[int]:
    """Pids of `uid`'s processes that are not zombies."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != b"Z":
            found.append(int(entry.name))
    return found


@cache
def unreachable(python: str) -> str | None:
    """Why an unprivileged uid cannot run `python` with its standard library, or None if it
    can. (A pyenv interpreter under root's 0700 home cannot be; the child then runs as root.)"""
    try:
        probe = subprocess.run(
            [python, "-I", "-S", "-c", "import json, math, random"], user=BASE_UID + SLOTS,
            group=BASE_UID + SLOTS, extra_groups=[], stdin=subprocess.DEVNULL,
            capture_output=True, timeout=30, cwd="/",
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"{python} cannot be started by an unprivileged user ({error})"
    if probe.returncode != 0:
        detail = probe.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return (f"{python} cannot be run by an unprivileged user ({detail[0][:120]}; make its "
                "folders world-readable, or use an interpreter under /usr)")
    return None
