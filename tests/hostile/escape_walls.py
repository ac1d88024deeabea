# ruff: noqa
# hostile: acts as code that has already overwritten the audit hook (a crafted code object
# does that on CPython 3.11): every OS-level way out, each printing ESCAPED if it worked
# where: end
# modes: strong weak container user uid0 strong-bare weak-bare container-bare user-bare uid0-bare
# shows: refused results
# shows-bare: refused results
import os
import sys


def attempt(what, action):
    try:
        action()
        print("ESCAPED", what)
    except BaseException as error:
        print("refused", what, type(error).__name__)


def write(path, text="forged"):
    with open(path, "w") as handle:
        handle.write(text)


attempt("results", lambda: write("__RESULTS__", '{"score": 25.0, "output": "forged"}'))
attempt("grader file", lambda: write("__GRADERS__/gradkit-hostile-escape.py"))
attempt("grader source read", lambda: open("__GRADERS__/api.py").read(1))
attempt("site-packages read", lambda: open("__SITE__/sympy/__init__.py").read(1))
attempt("parent memory", lambda: open("/proc/__PARENT__/mem", "rb").read(1))
attempt("parent environment", lambda: open("/proc/__PARENT__/environ", "rb").read(1))
attempt("signal to the grader", lambda: os.kill(__PARENT__, 0))
# Inside bubblewrap's namespaces these reach only the sandbox itself (its PID namespace dies
# with it), so they are attempts only where the child shares the grader's namespaces.
SHARED = os.uname().nodename != "sandbox"
if SHARED:
    attempt("signal to everyone", lambda: os.kill(-1, 0))
    attempt("new session", lambda: os.setsid())


def daemon():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


if SHARED:
    attempt("fork", daemon)
    attempt("exec a shell", lambda: os.execv("/bin/sh", ["sh", "-c", "true"]))


def leave_cgroup():
    for line in open("/proc/self/cgroup").read().splitlines():
        _, controllers, _ = line.split(":", 2)
        if controllers == "pids":
            write("/sys/fs/cgroup/pids/cgroup.procs", str(os.getpid()))
            return
    raise OSError("no pids cgroup")


attempt("leave the cgroup", leave_cgroup)


def connect():
    import socket
    socket.create_connection(("127.0.0.1", __PORT__), timeout=1).close()


attempt("network", connect)


# What a uid may do to what it owns, which file rules do not cover (the child may be uid 0, or
# the grader's own account): modes and times of the grader's files, limits of the grader.
def same_mode():
    path = "__GRADERS__/api.py"
    os.chmod(path, os.stat(path).st_mode & 0o7777)


def same_times():
    path = "__GRADERS__/api.py"
    info = os.stat(path)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


attempt("chmod a grader file", same_mode)
attempt("utime a grader file", same_times)


def parent_limits():
    import resource
    resource.prlimit(__PARENT__, resource.RLIMIT_CPU)


attempt("read the grader's limits", parent_limits)


def shared_memory():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    segment = libc.shmget(0, 4096, 0o1600)  # IPC_PRIVATE
    if segment < 0:
        raise OSError(ctypes.get_errno(), "shmget")
    libc.shmctl(segment, 0, None)  # IPC_RMID: leave nothing if it worked


if SHARED:  # bubblewrap gives the sandbox an IPC namespace of its own
    attempt("SysV shared memory", shared_memory)


def deep_tree():
    for _ in range(1500):
        os.mkdir("d")
        os.chdir("d")


if SHARED:  # bubblewrap's /tmp is a tmpfs that goes with the sandbox
    attempt("a folder tree 1,500 deep", deep_tree)


def signal_owner():
    import fcntl
    read_end, _ = os.pipe()
    fcntl.fcntl(read_end, fcntl.F_SETOWN, __PARENT__)  # its I/O would signal the grader


if SHARED:  # in bubblewrap the grader's pid is not in the sandbox's namespace
    attempt("a pipe's signals sent to the grader", signal_owner)
