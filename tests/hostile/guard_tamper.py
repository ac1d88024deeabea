# ruff: noqa
# hostile: attacks the harness's guard itself (its defaults and its gate's, the harness's globals, tracing, gc, /proc/self/mem, dir_fd), then imports sympy
# where: end
# hits: all
# modes: strong weak container nowall user
# shows: sympy still refused
import builtins
import os
import sys

harness = sys.modules.get("__main__")
attempts = {
    "defaults": lambda: setattr(harness._guard, "__defaults__", None),
    "code": lambda: setattr(harness._guard, "__code__", (lambda *a: None).__code__),
    "gate defaults": lambda: setattr(harness._gate, "__defaults__", (frozenset({"open"}), None)),
    "gate code": lambda: setattr(harness._gate, "__code__", (lambda *a: None).__code__),
    "settrace": lambda: sys.settrace(lambda *a: None),
    "gc": lambda: __import__("gc").get_objects(),
    "mem": lambda: open("/proc/self/mem", "r+b"),
    "dirfd": lambda: os.open("x.py", os.O_WRONLY | os.O_CREAT,
                             dir_fd=os.open(os.path.dirname(os.__file__), os.O_RDONLY)),
    "chdir": lambda: os.chdir("/"),
}
# Allowed, and must change nothing: names the guard could look up, a hook of the student's own.
harness.str = type("S", (), {})
harness.frozenset = lambda *a: frozenset({"sympy"})
harness.PACKAGE_FOLDERS = frozenset()
sys.addaudithook(lambda *a: None)
for name, attempt in attempts.items():
    try:
        attempt()
        print("tamper", name, "went through")
    except BaseException as error:
        print("tamper", name, "refused:", type(error).__name__)
try:
    import sympy
    print("TAMPERED: sympy imported")
except ImportError:
    print("sympy still refused")
