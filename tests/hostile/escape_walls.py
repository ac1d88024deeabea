# ruff: noqa
# hostile: acts as code that has already overwritten the audit hook (a crafted code object
# does that on CPython 3.11): every OS-level way out, each printing ESCAPED if it worked
# where: end
# modes: strong weak container user strong-bare weak-bare container-bare user-bare
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
