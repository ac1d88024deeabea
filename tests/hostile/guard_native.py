# ruff: noqa
# hostile: reaches native code around the guard: refused extensions under a dotted name, a sub-interpreter, readline's file access, shm_open, and a swap of the harness's runner for kit's reference engine
# where: end
# modes: strong weak container nowall user
# shows: attempt runner swap refused
import importlib.machinery
import importlib.util
import os
import sys
import sysconfig

dynload = os.path.join(sysconfig.get_paths()["platstdlib"], "lib-dynload")


def extension(module, alias):
    found = [f for f in os.listdir(dynload) if f.startswith(module + ".")]
    path = os.path.join(dynload, found[0])
    loader = importlib.machinery.ExtensionFileLoader(alias, path)
    return importlib.util.module_from_spec(importlib.util.spec_from_file_location(alias, path, loader=loader))


def runner_swap():
    import kit.engine as reference
    harness = sys.modules["__main__"]
    original = harness.RUNNERS["op"]
    harness.RUNNERS["op"] = lambda namespace, case: harness.run_op(reference.Value, case)


attempts = {
    "dotted _ctypes": lambda: extension("_ctypes", "json._ctypes"),
    "dotted _posixsubprocess": lambda: extension("_posixsubprocess", "json._posixsubprocess"),
    "dotted subinterpreters": lambda: extension("_xxsubinterpreters", "json._xxsubinterpreters"),
    "readline": lambda: __import__("readline").read_history_file("/etc/hostname"),
    "shm_open": lambda: __import__("_posixshmem").shm_open("/gradkit_hostile", os.O_CREAT | os.O_RDWR),
    "socketpair": lambda: __import__("_socket").socketpair(),
    "pidfd": lambda: os.pidfd_open(os.getppid()),
    "reload posix": lambda: (sys.modules.pop("posix"), __import__("posix").pidfd_open),
    "pidfd_send_signal": lambda: __import__("signal").pidfd_send_signal(0, 9),
    "native pidfd_send_signal": lambda: __import__("_signal").pidfd_send_signal(0, 9),
    "runner swap": runner_swap,
}
for name, attempt in attempts.items():
    try:
        attempt()
        print("attempt", name, "went through")
    except BaseException as error:
        print("attempt", name, "refused:", type(error).__name__, str(error)[:80])
