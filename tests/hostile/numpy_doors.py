# ruff: noqa
# hostile: tries numpy's native and file doors: ctypes and numpy.ctypeslib, f2py and distutils (processes), np.load/fromfile/memmap/loadtxt of the grader's files, np.save/tofile/open_memmap outside scratch and into numpy's own folder, numpy's extensions under other names, a URL through numpy's DataSource
# where: end
# modes: strong weak container nowall user uid0 strong-bare weak-bare container-bare user-bare uid0-bare
# shows: refused np\.save into numpy's folder
# shows-bare: refused np\.save into numpy's folder
import os
import sys

import numpy as np

NUMPY = os.path.dirname(np.__file__)
GRADERS = "__GRADERS__"
SECRETS = ("__GRADERS__/judge/oracle.py", "/etc/passwd", "/proc/__PARENT__/environ",
           "__REPO__/graders/spec/optable.py")
HARNESS = sys.modules["__main__"].__file__
BUBBLEWRAP = HARNESS.startswith("/gradkit/")  # the run's folder as bubblewrap mounts it


def guarded():
    """The audit-hook guard is on (gc walks are refused by it alone): the -bare modes turn it
    off, and then importing ctypes is no door (the walls below contain what it does)."""
    import gc
    try:
        gc.get_objects()
    except PermissionError:
        return True
    return False


GUARDED = guarded()


def attempt(what, action, sign):
    try:
        got = action()
    except BaseException as error:  # refusals are PermissionError, ImportError, OSError, ...
        print("refused", what, type(error).__name__, str(error)[:80])
        return
    print(sign, what, repr(got)[:60])


def native(what, action):
    """A door to native code: closed by the guard; without it, it is only code in the child."""
    attempt(what, action, "went through" if GUARDED else "native (no guard):")


# Doors to native code and memory.
native("import ctypes", lambda: __import__("ctypes"))
native("numpy.ctypeslib.load_library", lambda: np.ctypeslib.load_library("libc.so.6", "/lib"))
native("np.ctypeslib.as_array on an address",
       lambda: np.ctypeslib.as_array(id(np), shape=(8,)))
native("np.frombuffer over a ctypes buffer",
       lambda: np.frombuffer(__import__("ctypes").create_string_buffer(64), dtype=np.uint8))
native("numpy's extension under another name", lambda: __import__("importlib.util").util.module_from_spec(
    __import__("importlib.util").util.spec_from_file_location(
        "evil", [os.path.join(NUMPY, "_core", f) for f in os.listdir(os.path.join(NUMPY, "_core"))
                 if f.startswith("_multiarray_umath.")][0])))
native("numpy.core.multiarray internals: a C pointer",
       lambda: np._core.multiarray.array(0).__array_interface__["data"][0] and
       np.ctypeslib.as_ctypes(np.zeros(4)))


# Processes: f2py and distutils compile by running a compiler.
def spawn(module):
    imported = __import__(module, fromlist=["_"])
    runner = getattr(imported, "subprocess", None) or __import__("subprocess")
    return runner.run([sys.executable, "-c",
                       f"open('{GRADERS}/gradkit-hostile-spawned', 'w').write('x')"])


# Without the guard, bubblewrap lets a process start inside its namespaces (they contain it);
# everywhere else seccomp refuses it.
SPAWNED = "process inside the namespaces:" if BUBBLEWRAP and not GUARDED else "went through"
attempt("a process through numpy.f2py", lambda: spawn("numpy.f2py"), SPAWNED)
attempt("a process through numpy.distutils", lambda: spawn("numpy.distutils.exec_command"),
        SPAWNED)

# Reading the grader's files through numpy's file functions.
for secret in SECRETS:
    attempt(f"np.fromfile {secret}", lambda: np.fromfile(secret, dtype=np.uint8, count=40), "LEAK")
    attempt(f"np.memmap {secret}", lambda: np.memmap(secret, dtype=np.uint8, mode="r")[:40].tobytes(),
            "LEAK")
    attempt(f"np.loadtxt {secret}", lambda: np.loadtxt(secret, dtype=str, delimiter="\x01")[:2], "LEAK")
    attempt(f"np.genfromtxt {secret}", lambda: np.genfromtxt(secret, dtype=str)[:2], "LEAK")
    attempt(f"np.load {secret}", lambda: np.load(secret, allow_pickle=False), "LEAK")

# Writing outside the scratch folder: the grader, site-packages, numpy's own folder, the harness.
targets = {"the grader's package": f"{GRADERS}/gradkit-hostile-np.npy",
           "site-packages": "__SITE__/gradkit-hostile-np.npy",
           "numpy's folder": os.path.join(NUMPY, "gradkit-hostile-np.npy")}
for where, path in targets.items():
    attempt(f"np.save into {where}", lambda: np.save(path, np.arange(3)), "WROTE")
    attempt(f"tofile into {where}", lambda: np.arange(3).tofile(path + ".bin"), "WROTE")
    attempt(f"open_memmap into {where}",
            lambda: np.lib.format.open_memmap(path + ".mm.npy", mode="w+", dtype=np.float64,
                                              shape=(3,)), "WROTE")
attempt("numpy's __init__.py opened for writing", lambda: open(os.path.join(NUMPY, "__init__.py"), "a"),
        "WROTE")
attempt("np.memmap of the harness for writing", lambda: np.memmap(HARNESS, dtype=np.uint8, mode="r+"),
        "WROTE")

# The network, through numpy's DataSource (urllib).
attempt("a URL through numpy's DataSource",
        lambda: np.lib.npyio.DataSource(".").open("http://127.0.0.1:__PORT__/x").read(),
        "CONNECTED")

# What numpy may do: files in the one scratch folder.
try:
    np.save("numpy-scratch.npy", np.arange(3.0))
    print("scratch round trip", np.load("numpy-scratch.npy").sum())
except Exception as error:
    print("scratch refused", type(error).__name__, error)
