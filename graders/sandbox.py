"""Start the untrusted child and talk to it: limits, timeouts, capped output, a private channel.

The child is `python -I -S harness.py` inside bubblewrap when it is available (read-only root, no
network, its own PID namespace), else a plain process with rlimits and a loud weak-isolation
warning. The parent sends check groups on one pipe and reads records from another; the child's
stdout and stderr are only ever shown to people, never parsed.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HARNESS = Path(__file__).with_name("harness.py")
MAX_RECORD = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission; defaults fit a teaching course."""

    memory_bytes: int = 1 << 30
    processes: int = 64
    group_seconds: float = 10.0
    submission_seconds: float = 60.0
    output_bytes: int = 1 << 20
    cpu_seconds: int = 120
    file_bytes: int = 16 << 20
    open_files: int = 64


class ChildGone(Exception):
    """The child exited, crashed or was killed before answering."""


class ChildTimeout(Exception):
    """The child did not answer within its time."""


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} in a record")


def parse_record(line: bytes) -> dict:
    """Parse one record strictly: JSON object, no NaN/Infinity, size-capped."""
    if len(line) > MAX_RECORD:
        raise ValueError("record over the size limit")
    record = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
    if not isinstance(record, dict):
        raise ValueError("record is not an object")
    return record


@cache
def bwrap_path() -> str | None:
    """bubblewrap, if installed and able to make namespaces here (it is not in every container)."""
    path = shutil.which("bwrap")
    if not path:
        return None
    probe = subprocess.run(
        [path, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=10,
    )
    return path if probe.returncode == 0 else None


def child_python() -> str:
    """The base interpreter (not a venv's): the child needs the standard library only."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return os.path.realpath(base)


def _preexec(limits: Limits):
    def apply() -> None:
        for name, value in (
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_AS, limits.memory_bytes),
        ):
            resource.setrlimit(name, (value, value))

    return apply


def _bwrap_command(bwrap: str, workdir: Path, python: str) -> list[str]:
    prefix = Path(sysconfig.get_paths()["stdlib"]).parent.parent  # <prefix>/lib/pythonX.Y
    command = [
        bwrap,
        "--ro-bind", "/usr", "/usr",
        "--ro-bind", str(prefix), str(prefix),
        "--ro-bind", str(workdir), "/gradkit",
        "--tmpfs", "/tmp",
        "--proc", "/proc",
        "--dev", "/dev",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop", "ALL",
        "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--chdir", "/tmp",
    ]
    for link in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(link):
            command += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            command += ["--ro-bind", link, link]
    site = sysconfig.get_paths()["purelib"]
    if site.startswith(str(prefix)):
        command += ["--tmpfs", site]  # hide installed packages, the grader among them
    return command


class Child:
    """One sandboxed child process running the harness over one program."""

    def __init__(self, program: dict, limits: Limits, *, strong: bool | None = None) -> None:
        self.limits = limits
        self.workdir = Path(tempfile.mkdtemp(prefix="gradkit-"))
        shutil.copy(HARNESS, self.workdir / "harness.py")
        (self.workdir / "program.json").write_text(json.dumps(program))
        for name in ("harness.py", "program.json"):
            os.chmod(self.workdir / name, 0o444)
        bwrap = bwrap_path() if strong is not False else None
        self.isolation = "bubblewrap" if bwrap else "weak"
        plan_read, self.plan_write = os.pipe()
        self.result_read, result_write = os.pipe()
        python = child_python()
        if bwrap:
            root = "/gradkit"
            command = _bwrap_command(bwrap, self.workdir, python)
        else:
            root = str(self.workdir)
            command = []
        command += [python, "-I", "-S", "-B", f"{root}/harness.py", f"{root}/program.json",
                    str(plan_read), str(result_write)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(plan_read, result_write),
            start_new_session=True,
            preexec_fn=_preexec(limits),
            cwd=self.workdir if not bwrap else None,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
        os.close(plan_read)
        os.close(result_write)
        self.started = time.monotonic()
        self.output = bytearray()
        self.output_truncated = False
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.result_read, selectors.EVENT_READ, "records")
        self._selector.register(self.process.stdout, selectors.EVENT_READ, "output")
        self._records_open = True

    def send(self, message: dict) -> None:
        data = (json.dumps(message) + "\n").encode()
        try:
            os.write(self.plan_write, data) if len(data) < 65536 else self._write_all(data)
        except (BrokenPipeError, OSError):
            raise ChildGone("the process ended before it could be asked") from None

    def _write_all(self, data: bytes) -> None:
        # Large plans (the deep chain) exceed a pipe buffer; write while reading output.
        view = memoryview(data)
        os.set_blocking(self.plan_write, False)
        try:
            while view:
                try:
                    written = os.write(self.plan_write, view)
                    view = view[written:]
                except BlockingIOError:
                    self._pump(0.05)
                    if self.process.poll() is not None:
                        raise ChildGone("the process ended while reading its checks") from None
        finally:
            os.set_blocking(self.plan_write, True)

    def _keep_output(self, chunk: bytes) -> None:
        room = self.limits.output_bytes - len(self.output)
        if len(chunk) > room:
            self.output_truncated = True
        if room > 0:
            self.output += chunk[:room]

    def _pump(self, timeout: float) -> list[dict]:
        records = []
        for key, _ in self._selector.select(timeout):
            if key.data == "output":
                chunk = os.read(key.fileobj.fileno(), 65536)
                if not chunk:
                    self._selector.unregister(key.fileobj)
                else:
                    self._keep_output(chunk)
                continue
            chunk = os.read(self.result_read, 65536)
            if not chunk:
                self._selector.unregister(self.result_read)
                self._records_open = False
                continue
            self._buffer += chunk
            if len(self._buffer) > 4 * MAX_RECORD and b"\n" not in self._buffer:
                raise ChildGone("the process sent an oversized record")
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                try:
                    records.append(parse_record(line))
                except ValueError:
                    records.append({"kind": "garbled"})
        return records

    def records(self, deadline: float) -> Iterator[dict]:
        """Yield records until the channel closes; raise ChildTimeout at the deadline."""
        while True:
            if not self._records_open:
                raise ChildGone(self.exit_description())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChildTimeout()
            yield from self._pump(min(remaining, 0.5))

    def exit_description(self) -> str:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the process closed its channel but kept running"
        if code < 0 or code > 128:
            number = -code if code < 0 else code - 128
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            hints = {"SIGKILL": " (killed: over the memory or process limit?)",
                     "SIGSEGV": " (crashed: very deep recursion?)",
                     "SIGXCPU": " (over the CPU time limit)"}
            return f"the process was ended by {name}{hints.get(name, '')}"
        return f"the process exited with status {code}"

    def kill(self) -> None:
        """End the child and everything it started; idempotent."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        # Drain what the child printed before it ended, within the cap.
        try:
            while self._selector.get_map():
                if not self._selector.select(0):
                    break
                self._pump(0)
        except (OSError, ValueError, ChildGone):
            pass
        for fd in (self.plan_write, self.result_read):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.process.stdout:
            self.process.stdout.close()
        self._selector.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
