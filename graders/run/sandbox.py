"""Start the untrusted child and talk to it: limits, timeouts, capped output, a private channel.

The child is `python -I -S harness.pyc` (the harness, precompiled) inside bubblewrap when it is
available (only the interpreter and /usr visible, read-only; a size-capped /tmp; no network; its
own PID namespace), else a plain process with rlimits and a loud weak-isolation warning. Either
way, where the grader may create cgroups (root here), the child runs in its own pids + memory
cgroup, which is swept with SIGKILL when the child is done with. The parent sends check groups
on one pipe and reads records from another; the child's stdout and stderr are only ever shown to
people, never parsed.
docs/security.md lists what each layer contains.
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
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from graders.model import Limits, valid_data
from graders.run import accounts, cgroups, packages

if TYPE_CHECKING:
    from graders.run import wall

HARNESS = Path(__file__).with_name("harness.py")
MAX_RECORD = 1 << 20
SANDBOX_UID = 65534  # who the child is inside bubblewrap's user namespace: nobody, not root
SHM_BYTES = 1 << 20
# The harness's audit-hook guard (files, imports, processes, sockets) is always on; tests of the
# walls below it (namespaces, cgroups, the uid sweep, Landlock and seccomp) turn it off to reach
# them. WALL (Landlock + seccomp without bubblewrap) is on wherever the kernel has it; tests of
# the guard-only path turn it off.
GUARD = True
WALL = True


class ChildGone(Exception):
    """The child exited, crashed or was killed before answering."""


class ChildTimeout(Exception):
    """The child did not answer within its time."""


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} in a record")


def parse_record(line: bytes) -> dict:
    """Parse one record strictly: JSON object, no NaN/Infinity, size-capped; its strings made
    valid UTF-8 (a `\\ud800` escape is a lone surrogate no writer can encode)."""
    if len(line) > MAX_RECORD:
        raise ValueError("record over the size limit")
    try:
        record = _DECODER.decode(line.decode("utf-8"))
    except RecursionError:
        raise ValueError("record nested too deeply") from None
    if not isinstance(record, dict):
        raise ValueError("record is not an object")
    # A lone surrogate can only arrive as a \u escape (the strict UTF-8 decode refuses encoded
    # ones): a record without one needs no walk over its strings.
    return valid_data(record) if b"\\u" in line else record


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # C scanner, made once


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


@cache
def harness_bytecode() -> bytes:
    """The harness as a .pyc the child runs directly (`python harness.pyc` runs compiled code).

    Compiling its source costs every child about 25 ms; this is the install's own
    `__pycache__` copy when it is current (what importing the module would run, so it is as
    trusted as the grader's code), else the source compiled once per grading process.
    """
    import marshal
    from importlib.util import MAGIC_NUMBER, cache_from_source

    stat = HARNESS.stat()
    header = (MAGIC_NUMBER + (0).to_bytes(4, "little")
              + (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
              + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little"))
    try:
        cached = Path(cache_from_source(str(HARNESS))).read_bytes()
    except (OSError, NotImplementedError):
        cached = b""
    if cached[:16] == header:
        return cached
    code = compile(HARNESS.read_bytes(), "harness.py", "exec", dont_inherit=True)
    return header + marshal.dumps(code)


def planned_isolation(strong: bool | None) -> str:
    """The containment a child started now gets: `bubblewrap`, or `weak` with how it runs
    (`uid`: a uid of its own; `root`; `user`: the grader's user), plus `+guard`. Part of the
    grader id, so grades made under weaker containment are regraded once it is stronger."""
    if strong is not False and bwrap_path():
        mode = "bubblewrap"
    else:
        prefix = "landlock" if walled() else "weak"
        if os.geteuid() != 0:
            mode = f"{prefix}-user"
        else:
            mode = f"{prefix}-root" if accounts.unreachable(child_python()) else f"{prefix}-uid"
    return mode + ("+guard" if GUARD else "")


def walled() -> bool:
    """A child without bubblewrap gets the Landlock + seccomp wall here."""
    return WALL and wall_unavailable() is None


def wall_unavailable() -> str | None:
    """Why Landlock + seccomp cannot be built here (run/wall.py, imported only when a child
    may need it: where bubblewrap works it never does, and it loads ctypes)."""
    from graders.run import wall

    return wall.unavailable()


def _wall(python: str, reads: tuple[str, ...], scratch: str) -> wall.Wall:
    from graders.run import wall

    return wall.Wall(python, reads, scratch)


def no_wall_reason(strong: bool | None) -> str | None:
    """Why a child started now would have no OS wall under the guard, or None if it has one."""
    if strong is not False and bwrap_path():
        return None
    if not WALL:
        return "the OS wall was turned off"
    return wall_unavailable()


def child_python() -> str:
    """The base interpreter (not a venv's): the child needs the standard library, and the
    assignment's packages, found in the grader's environment (a venv has its base's version,
    so their extension modules fit this interpreter)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return os.path.realpath(base)


def _processes_of(uid: int) -> int:
    """How many processes `uid` runs now: RLIMIT_NPROC counts them all, not just the child's."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def _preexec(limits: Limits, cgroup_procs: tuple[bytes, ...], nproc: int | None,
             uid: int | None, barrier: wall.Wall | None):
    """What the forked child does before exec: join the run's cgroup, set its rlimits, and
    (a root grader without bubblewrap) become the run's own unprivileged uid.

    Joining before exec puts bubblewrap and everything below it in the cgroup, so nothing the
    student starts can be outside it. RLIMIT_AS stays on even with a memory cgroup: it turns the
    common single-process blow-up into a MemoryError the harness reports on that op, while the
    cgroup (which counts every process, and /tmp pages) is the aggregate cap and kills with
    SIGKILL. Both are set to the same number so neither is looser than the documented limit.
    """
    def apply() -> None:
        pid = str(os.getpid()).encode()
        for path in cgroup_procs:
            fd = os.open(path, os.O_WRONLY)
            os.write(fd, pid)
            os.close(fd)
        for name, value in ((resource.RLIMIT_CPU, limits.cpu_seconds),
                            (resource.RLIMIT_FSIZE, limits.file_bytes),
                            (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(name, (value, value))
        if barrier is not None:  # while still the grader's user: it can open every rule's path
            barrier.restrict_files(stays_root=uid is None and os.geteuid() == 0)
        if uid is not None:  # after the cgroup, which needs root
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        if barrier is not None:
            barrier.restrict_calls()
        # Last: building the wall opens ~250 paths and allocates, with every fd the parent
        # had still open (close_fds comes after this function).
        for name, value in ((resource.RLIMIT_NOFILE, limits.open_files),
                            (resource.RLIMIT_AS, limits.memory_bytes)):
            resource.setrlimit(name, (value, value))
        if nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

    return apply


@cache  # the layout does not change while the grader runs: globbed once, not per child
def _hidden_package_dirs(prefix: Path) -> list[str]:
    """Installed-package directories the child could otherwise add to sys.path and import from:
    the grader itself, sympy, someone else's micrograd. Only the standard library stays.

    The child runs the *base* interpreter, so its packages are the base's, not the venv's the
    grader may run in: every site-packages and dist-packages folder of the base prefix, of the
    venv, and of the system Pythons is hidden, whatever the layout (pyenv, conda, uv, /usr).
    """
    found: set[str] = set()
    for base in {sys.base_prefix, sys.base_exec_prefix, sys.prefix, str(prefix)}:
        for key in ("purelib", "platlib"):
            found.add(sysconfig.get_paths(vars={"base": base, "platbase": base})[key])
        for pattern in ("lib*/python3*/site-packages", "lib*/python3*/dist-packages",
                        "lib*/python3/dist-packages", "lib*/site-packages"):
            found.update(str(p) for p in Path(base).glob(pattern))
    found.add(sysconfig.get_paths()["purelib"])
    found.add(sysconfig.get_paths()["platlib"])
    for root in ("/usr/lib/python3", "/usr/local/lib"):
        if os.path.isdir(root):
            found.add(root)
    found.update(str(p) for p in Path("/usr/lib").glob("python3*/dist-packages"))
    found.update(str(p) for p in Path("/usr/lib").glob("python3*/site-packages"))
    visible = ("/usr", str(prefix))
    real = {os.path.realpath(p) for p in found} | found
    real = {p for p in real
            if os.path.isdir(p) and any(p == v or p.startswith(v + "/") for v in visible)}
    return sorted(p for p in real if not any(p.startswith(q + "/") for q in real))


# numpy's BLAS would start a thread per core in every child: a class of children on a small
# machine, each with a pool. One thread each (threads are allowed; this is about load).
THREAD_ENV = (("OPENBLAS_NUM_THREADS", "1"), ("OMP_NUM_THREADS", "1"), ("MKL_NUM_THREADS", "1"))


def _bwrap_command(bwrap: str, workdir: Path, limits: Limits,
                   shown: tuple[packages.Package, ...] = ()) -> list[str]:
    """Minimal binds: /usr and the interpreter's prefix read-only, packages hidden, the run's
    directory read-only at /gradkit, a size-capped /tmp; not the repository, /etc, /home, /root
    or the parent's /proc. Every namespace is new (no network, own PIDs), and the child can make
    no further user namespaces. The assignment's packages (`shown`: numpy and its vendored
    libraries) are bound back read-only at their own paths inside the hidden folders, so those
    folders show the child exactly them."""
    prefix = Path(sysconfig.get_paths()["stdlib"]).parent.parent  # <prefix>/lib/pythonX.Y
    command = [
        bwrap,
        "--ro-bind", "/usr", "/usr",
        "--ro-bind", str(prefix), str(prefix),
        "--ro-bind", str(workdir), "/gradkit",
        "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
        "--remount-ro", "/dev",
        "--unshare-all",
        "--unshare-user",
        "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
        "--disable-userns",
        "--hostname", "sandbox",
        "--die-with-parent",
        "--new-session",
        "--cap-drop", "ALL",
        "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        *(arg for name, value in THREAD_ENV for arg in ("--setenv", name, value)),
        "--chdir", "/tmp",
    ]
    for link in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(link):
            command += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            command += ["--ro-bind", link, link]
    hidden = _hidden_package_dirs(prefix)  # a cached list: never mutated
    for folder in hidden:
        command += ["--size", "4096", "--tmpfs", folder]
    for package in shown:  # after the tmpfs that hides them, before it is made read-only
        for path in package.paths:
            command += ["--ro-bind", path, path]
    for folder in hidden:
        command += ["--remount-ro", folder]
    return [*command, "--remount-ro", "/"]  # bwrap's own root is a tmpfs: only /tmp writable


# The modules of `kit` a notebook may import to compute (kit.viz draws, and stands in); each run
# gets only those its checks name (`OpSpec.library`), so no reference engine is in reach of code
# whose own engine is graded.
LIBRARY = ("engine", "nn", "data", "train")


def _copy_library(target: Path, modules: tuple[str, ...]) -> None:
    """kit's pure-Python modules, read-only, for the child's `import kit.engine` and friends."""
    import kit

    source = Path(kit.__file__).parent
    (target / "kit").mkdir(parents=True)
    for name in ("__init__", *(m for m in LIBRARY if m in modules)):
        shutil.copy(source / f"{name}.py", target / "kit" / f"{name}.py")
        os.chmod(target / "kit" / f"{name}.py", 0o444)


def _remove_tree(path: Path) -> None:
    """Remove a run's folder whatever the child left in it: shutil's recursive walk gives up
    (RecursionError) on a tree deeper than the recursion limit; `rm` does not."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except RecursionError:
        subprocess.run(["rm", "-rf", "--", str(path)], stdin=subprocess.DEVNULL,
                       capture_output=True, check=False)


class Child:
    """One sandboxed child process running the harness over one program."""

    def __init__(self, program: dict, limits: Limits, *, strong: bool | None = None,
                 library: tuple[str, ...] = (), allowed: tuple[str, ...] = ()) -> None:
        self.limits = limits
        self.library = library
        shown = packages.resolve(allowed)  # the assignment's packages, found in the parent
        self.workdir = Path(tempfile.mkdtemp(prefix="gradkit-"))
        bwrap = bwrap_path() if strong is not False else None
        walls = bwrap is None and walled()
        self.isolation = "bubblewrap" if bwrap else "landlock" if walls else "weak"
        python = child_python()
        self.account, self.account_problem = self._claim_account(bwrap, python, walls)
        scratch = "/tmp" if bwrap else str(self.workdir / "scratch")
        program = {**program, "guard": GUARD, "writable": {
            "path": scratch, "files": max(1, limits.tmp_bytes // limits.file_bytes)},
            "packages": {package.name: package.origin for package in shown}}
        self._prepare_workdir(program, bwrap is None)
        reads = (str(self.workdir), *(path for package in shown for path in package.paths))
        self.barrier = _wall(python, reads, scratch) if walls else None
        self.cgroup, self.cgroup_problem = cgroups.create(limits.memory_bytes, limits.processes)
        nproc = None
        if self.account is not None:
            nproc = limits.processes  # the uid is the run's alone: the cap is exact
        elif self.cgroup is None and os.getuid() != 0:
            nproc = _processes_of(os.getuid()) + limits.processes
        plan_read, self.plan_write = os.pipe()
        os.set_blocking(self.plan_write, False)
        self.result_read, result_write = os.pipe()
        if bwrap:
            root = "/gradkit"
            command = _bwrap_command(bwrap, self.workdir, limits, shown)
        else:
            root = str(self.workdir)
            command = []
        command += [python, "-I", "-S", "-B", "-u", f"{root}/harness.pyc", f"{root}/program.json",
                    str(plan_read), str(result_write)]
        try:
            self.process = self._start(command, bwrap, plan_read, result_write, nproc, scratch)
        except BaseException:
            for fd in (plan_read, result_write, self.plan_write, self.result_read):
                os.close(fd)
            if self.cgroup is not None:
                self.cgroup.kill()
            self._release_account()
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        os.close(plan_read)
        os.close(result_write)
        self.started = time.monotonic()
        self.cpu = 0.0  # CPU seconds the child last said it had used (its `done` records)
        self.output = bytearray()
        self.output_truncated = False
        self._buffer = b""
        self._backlog: list[dict] = []  # records read while a send waited for room
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.result_read, selectors.EVENT_READ, "records")
        self._selector.register(self.process.stdout, selectors.EVENT_READ, "output")
        self._records_open = True

    @staticmethod
    def _claim_account(bwrap: str | None, python: str, walled: bool
                       ) -> tuple[accounts.Account | None, str | None]:
        """A root grader's weak child runs as a uid of its own; say why when it cannot."""
        if bwrap or os.geteuid() != 0:
            return None, None  # bubblewrap's namespaces contain it; a user's child is theirs
        reason = accounts.unreachable(python)
        if reason and walled:
            return None, (f"student code ran as uid 0 with every capability dropped, under "
                          f"Landlock and seccomp: {reason}")
        if reason:
            return None, f"student code ran as root: {reason}"
        account = accounts.claim()
        if account is None:
            return None, "student code ran as root: no unprivileged uid could be claimed"
        return account, None

    def _prepare_workdir(self, program: dict, weak: bool) -> None:
        """The harness, the program and kit, read-only; on the weak path a scratch folder the
        child may write (its own uid's, when it has one). Nothing here is another run's."""
        (self.workdir / "harness.pyc").write_bytes(harness_bytecode())
        _copy_library(self.workdir / "lib", self.library)
        (self.workdir / "program.json").write_text(json.dumps(program))
        for name in ("harness.pyc", "program.json"):
            os.chmod(self.workdir / name, 0o444)
        if weak:
            (self.workdir / "scratch").mkdir(mode=0o700)
        if self.account is not None:
            os.chown(self.workdir, 0, self.account.uid)
            os.chmod(self.workdir, 0o750)
            os.chown(self.workdir / "scratch", self.account.uid, self.account.uid)

    def _start(self, command: list[str], bwrap: str | None, plan_read: int, result_write: int,
               nproc: int | None, scratch: str) -> subprocess.Popen:
        uid = self.account.uid if self.account is not None else None
        cgroup_procs = self.cgroup.join_paths() if self.cgroup else ()
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(plan_read, result_write),
            start_new_session=True,
            preexec_fn=_preexec(self.limits, cgroup_procs, nproc, uid, self.barrier),
            cwd=scratch if not bwrap else None,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TMPDIR": scratch,
                 **dict(THREAD_ENV)},
        )

    def _release_account(self) -> None:
        """Sweep the run's uid (everything it started, however detached), then free it."""
        if self.account is None:
            return
        if not self.account.sweep():
            self.cgroup_problem = "a process of the run's uid could not be killed"
        self.account.release()
        self.account = None

    def send(self, message: dict, deadline: float) -> None:
        """Write one message to the plan pipe by `deadline` (a monotonic time).

        The pipe is non-blocking: a child that stops reading it (it forged the records that
        would have made the parent wait, or simply never reads) costs a ChildTimeout at the
        deadline, never a parent stuck in a write. What the child prints meanwhile is drained,
        so a child blocked on its own full stdout cannot deadlock the two.
        """
        view = memoryview((json.dumps(message) + "\n").encode())
        while view:
            try:
                view = view[os.write(self.plan_write, view):]
                continue
            except BlockingIOError:
                pass
            except OSError:  # EPIPE and friends: nobody reads the plan any more
                raise ChildGone("the process ended before it could be asked") from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChildTimeout()
            self._backlog += self._pump(min(remaining, 0.05))
            if self.process.poll() is not None:
                raise ChildGone("the process ended while reading its checks")

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

    def records(self, deadline: float | Callable[[], float]) -> Iterator[dict]:
        """Yield records until the channel closes; raise ChildTimeout at the deadline (a time,
        or a function giving it, for deadlines that move as the child reports progress)."""
        while True:
            if not self._records_open:
                raise ChildGone(self.exit_description())
            if self._backlog:
                backlog, self._backlog = self._backlog, []
                yield from backlog
            remaining = (deadline() if callable(deadline) else deadline) - time.monotonic()
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
            if name == "SIGKILL" and self.cgroup is not None and self.cgroup.oom_killed():
                return "the process was killed for going over the memory limit"
            hints = {"SIGKILL": " (killed: over the memory or process limit?)",
                     "SIGSEGV": " (crashed: very deep recursion?)",
                     "SIGXCPU": " (over the CPU time limit)"}
            return f"the process was ended by {name}{hints.get(name, '')}"
        return f"the process exited with status {code}"

    def kill(self) -> None:
        """End the child and everything it started, however detached; idempotent.

        Killing bubblewrap ends its PID namespace (the namespace's init dies with its parent, and
        the kernel kills the rest); the cgroup sweep then catches anything left, which is what
        stops a setsid'd daemon in the weak fallback as root. The process group kill is the
        only thing left where neither exists.
        """
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
        if self.cgroup is not None:  # after the wait: the sweep then finds only what escaped
            if not self.cgroup.kill():
                self.cgroup_problem = "a process in the run's cgroup could not be killed"
            self.cgroup = None
        self._release_account()
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
        _remove_tree(self.workdir)
