"""The OS wall for a child that runs without bubblewrap: Landlock, seccomp and no capabilities.

The audit-hook guard lives in the child's own interpreter, and a crafted code object can
overwrite it (PEP 578: audit hooks are not a sandbox). Without bubblewrap's namespaces, this is
what holds when the guard is gone. It is applied by the forked child just before it execs the
interpreter, so it covers everything the student's code can do, and is inherited by anything
it could still exec:

- **Landlock** (files): read only the interpreter, its standard library (no site-packages),
  the system's shared libraries, the time-zone database and the run's folder; write only the
  scratch folder; execute only the interpreter and the dynamic loader. With ABI 6 (Linux 6.12),
  signals and abstract UNIX sockets are scoped to the child as well. A Landlock domain also
  cannot ptrace a process outside it.
- **seccomp** (system calls): no new process (threads only), no `setsid`/`setpgid`, no socket,
  no ptrace or `process_vm_*`, no signal, limit or scheduling change for another process, no
  change of a file's mode, owner, times or extended attributes (which Landlock does not model
  and a uid may make to every file it owns), no SysV IPC (it outlives the run), no namespace,
  mount, BPF, io_uring, keyring or module call, no exec of a memory file.
- **no capabilities** when the child would be root (an interpreter no other uid can reach): the
  bounding and ambient sets are emptied and root's exec rule is switched off. Uid 0 still owns
  root's files and processes; Landlock and the calls above are what keep it off them.

`unavailable()` says why the wall cannot be built here (no Landlock in the kernel, no
libseccomp); the grader then reports `weak` isolation and a batch refuses to grade for credit
unless the instructor says `--weak-isolation`.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
import sysconfig
from collections.abc import Callable
from functools import cache
from pathlib import Path

_PR_SET_NO_NEW_PRIVS = 38
_PR_CAPBSET_DROP = 24
_PR_SET_SECUREBITS = 28
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
# SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP, SECBIT_KEEP_CAPS off, SECBIT_NO_CAP_AMBIENT_RAISE, each
# with its _LOCKED bit (no bit a kernel before 6.14 does not know): exec as uid 0 grants
# nothing, and nothing can turn that back.
_SECUREBITS = 0b1110_1111  # bits 0-3, 5-7: KEEP_CAPS itself (bit 4) stays off
_CLONE_THREAD = 0x00010000

# Calls the child never needs and an escape would: answered with EPERM (ENOSYS for clone3, so
# the C library falls back to clone, whose flags can be checked).
DENIED_CALLS = (
    "fork", "vfork", "setsid", "setpgid", "ptrace", "process_vm_readv", "process_vm_writev",
    "socket", "socketpair", "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill",
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_by_handle_at",
    "name_to_handle_at", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon",
    "swapoff", "acct", "quotactl", "syslog", "memfd_create", "execveat", "fsopen", "fsmount",
    "fsconfig", "fspick", "open_tree", "move_mount", "mount_setattr", "iopl", "ioperm",
    "process_madvise", "kcmp",
    # what a uid may do to files it owns, which Landlock does not model: modes, times, extended
    # attributes and ACLs, owners, and watching the grader's folders
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "utime", "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr", "fsetxattr",
    "removexattr", "lremovexattr", "fremovexattr", "inotify_add_watch", "fanotify_init",
    # SysV IPC: objects that outlive the run, shared with every process of the uid
    "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl", "semget",
    "semop", "semtimedop", "semctl",
    # what a uid may do to its other processes beyond signals: priority, I/O priority
    "setpriority", "ioprio_set", "memfd_secret", "listmount", "statmount",
)
# Signals: only to the child itself (the first argument is a pid or thread-group id).
SELF_SIGNAL_CALLS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
# Limits and scheduling: only of the child itself (its pid, or 0 for "this process").
SELF_PROCESS_CALLS = ("prlimit64", "sched_setaffinity", "sched_setparam", "sched_setscheduler",
                      "sched_setattr", "sched_getaffinity", "sched_getparam",
                      "sched_getscheduler", "sched_getattr")
# fcntl and ioctl commands that make a file's I/O signal a process the child names (the
# signal goes out with the file owner's rights, past the rules on kill).
SIGNAL_OWNER = (("fcntl", (8, 10, 15)), ("ioctl", (0x8901, 0x8902)))


@cache
def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 where Landlock is missing or turned off."""
    try:
        import py_landlock
        return int(py_landlock.get_abi_version())
    except Exception:  # not Linux, an old kernel, Landlock not in the LSM list, no binding
        return 0


@cache
def _seccomp():
    try:
        import pyseccomp
        pyseccomp.SyscallFilter(pyseccomp.ALLOW)  # loads libseccomp
        return pyseccomp
    except Exception:
        return None


@cache
def unavailable() -> str | None:
    """Why the wall cannot be built on this machine, or None when it can."""
    if not sys.platform.startswith("linux"):
        return "Landlock and seccomp are Linux only"
    if landlock_abi() < 1:
        return "this kernel has no Landlock (Linux 5.13+ with landlock in its LSM list)"
    if _seccomp() is None:
        return "libseccomp or its Python binding (pyseccomp) is missing"
    return None


def _entries(folder: Path, skip: Callable[[str], bool]) -> list[str]:
    """Each entry of `folder` but the skipped: Landlock rules only add, so a folder with
    package directories inside is allowed entry by entry instead of whole."""
    try:
        return sorted(str(folder / name) for name in os.listdir(folder) if not skip(name))
    except OSError:
        return []


def _is_packages(name: str) -> bool:
    return name in ("site-packages", "dist-packages")


@cache
def system_reads(python: str) -> tuple[str, ...]:
    """What any run of `python -I -S` needs to read: the interpreter, its standard library
    without site-packages, its own shared library, the system's shared libraries (without the
    system Pythons' package folders) and the time-zone database."""
    paths = {python, "/etc/ld.so.cache", "/usr/share/zoneinfo", "/dev/null", "/dev/urandom"}
    for lib in _listed_only():
        paths.update(_entries(Path(lib), _is_packages))
    stdlib = Path(os.path.realpath(sysconfig.get_paths()["stdlib"]))
    paths.update(_entries(stdlib.parent, lambda name: name.startswith("python")))
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for folder in ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"):
        real = Path(os.path.realpath(folder))
        if multiarch and (real / multiarch).is_dir():
            paths.add(str(real / multiarch))
        paths.update(p for p in _entries(real, lambda name: name.startswith("python")
                                         or _is_packages(name) or name == multiarch)
                     if p.rpartition("/")[2].startswith("ld-") or p.endswith(".so")
                     or ".so." in p)
    return tuple(sorted(p for p in paths if os.path.exists(p)))


@cache
def _listed_only() -> tuple[str, ...]:
    """Folders the interpreter lists but whose package folders stay unreadable: the standard
    library (import's path finder lists it, and would find nothing in it otherwise)."""
    paths = sysconfig.get_paths()
    return tuple(sorted({os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib")}))


@cache
def _loaders() -> tuple[str, ...]:
    """The dynamic loaders exec needs to run (execute right)."""
    found = set()
    for folder in ("/lib64", "/lib", "/usr/lib64", "/usr/lib"):
        real = Path(os.path.realpath(folder))
        for candidate in [real, real / (sysconfig.get_config_var("MULTIARCH") or "-")]:
            found.update(p for p in _entries(candidate, lambda n: not n.startswith("ld-linux")))
    return tuple(sorted(found))


@cache
def _system_rules(python: str) -> tuple[tuple[str, int], ...]:
    """(path, access) for what every child of `python` needs, worked out once per grader: the
    same ~250 paths for every child, of which only the run's own folders differ."""
    from py_landlock import AccessFs

    read = AccessFs.READ_FILE | AccessFs.READ_DIR
    rules = [(path, read) for path in system_reads(python)]
    rules += [(path, AccessFs.READ_DIR) for path in _listed_only()]
    rules += [(path, AccessFs.READ_FILE | AccessFs.EXECUTE) for path in (python, *_loaders())]
    return tuple((path, int(_for_kind(path, access))) for path, access in rules)


def _for_kind(path: str, access):
    """A rule on a file may carry only file rights (Landlock refuses folder rights there)."""
    from py_landlock import AccessFs

    if os.path.isdir(path):
        return access
    return access & (AccessFs.READ_FILE | AccessFs.EXECUTE | AccessFs.WRITE_FILE |
                     AccessFs.TRUNCATE | AccessFs.IOCTL_DEV)


def _landlock(python: str, reads: tuple[str, ...], writable: str):
    """A Landlock ruleset builder for one child (rules are opened when applied)."""
    from py_landlock import AccessFs, Landlock

    read = AccessFs.READ_FILE | AccessFs.READ_DIR
    # Files only: no folders (a tree 1,500 deep is a denial of the clean-up), no links,
    # devices, sockets or FIFOs.
    write = read | AccessFs.WRITE_FILE | AccessFs.TRUNCATE | AccessFs.MAKE_REG | \
        AccessFs.REMOVE_FILE
    ruleset = Landlock(strict=False)
    run_rules = [(path, read) for path in reads] + [(writable, write)]
    for path, access in (*_system_rules(python), *run_rules):
        ruleset.add_path_rule(path, access=AccessFs(_for_kind(path, access)))
    return ruleset


def _seccomp_filter(own_pid: int):
    seccomp = _seccomp()
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    rules.set_attr(seccomp.Attr.CTL_NNP, 1)
    for name in DENIED_CALLS:
        try:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (OSError, ValueError, RuntimeError):
            pass  # a call this architecture does not have (fork on arm64): nothing to deny
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone",
                   seccomp.Arg(0, seccomp.MASKED_EQ, _CLONE_THREAD, 0))
    for name in SELF_SIGNAL_CALLS:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), name, seccomp.Arg(0, seccomp.NE, own_pid))
    # libseccomp takes one comparison per argument in a rule, so "neither 0 nor own_pid" is
    # "above own_pid", or one of the aligned blocks that tile 1 .. own_pid - 1.
    others = [seccomp.Arg(0, seccomp.GT, own_pid)] + [
        seccomp.Arg(0, seccomp.MASKED_EQ, mask, start) for mask, start in _blocks(1, own_pid - 1)]
    for name, commands in SIGNAL_OWNER:
        for command in commands:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name, seccomp.Arg(1, seccomp.EQ, command))
    for name in SELF_PROCESS_CALLS:
        for condition in others:
            try:
                rules.add_rule(seccomp.ERRNO(errno.EPERM), name, condition)
            except (OSError, ValueError, RuntimeError):
                break  # a call this architecture does not have
    return rules


def _blocks(low: int, high: int) -> list[tuple[int, int]]:
    """(mask, start) pairs whose `value & mask == start` sets tile low..high exactly: aligned
    power-of-two blocks, at most two per bit."""
    blocks, full = [], (1 << 64) - 1
    while low <= high:
        size = low & -low if low else 1 << 63
        while size > high - low + 1:
            size >>= 1
        blocks.append((full & ~(size - 1), low))
        low += size
    return blocks


def _drop_capabilities(libc) -> None:
    """Uid 0 with no privilege: empty bounding and ambient sets, root's exec rule off."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if libc.prctl(_PR_SET_SECUREBITS, _SECUREBITS, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "could not lock root's capabilities off")


class Wall:
    """One child's wall: built in the parent, applied by the forked child before it execs.

    The steps are separate because of the uid change between them: the Landlock rules are
    opened while the child is still the grader's user (an unprivileged uid may not reach the
    interpreter's folders), and seccomp comes last. Any step that fails raises in the child,
    which fails the start: a child is never started half-walled.
    """

    def __init__(self, python: str, reads: tuple[str, ...], writable: str) -> None:
        self._ruleset = _landlock(python, reads, writable)
        self._libc = ctypes.CDLL(None, use_errno=True)

    def restrict_files(self, stays_root: bool) -> None:
        """Before the uid change: capabilities off (for a child that stays root), Landlock."""
        if stays_root:
            _drop_capabilities(self._libc)
        if self._libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "could not set no_new_privs")
        self._ruleset.apply()

    def restrict_calls(self) -> None:
        """Last, just before exec: the system-call filter."""
        _seccomp_filter(os.getpid()).load()
