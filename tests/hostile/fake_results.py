# ruff: noqa
# hostile: writes a full-score results.json now, from atexit, and from a detached daemon
# where: end
# modes: strong weak container nowall user strong-bare weak-bare container-bare user-bare
# needs: cgroup
# shows: could not write results: (writing \S+ is not allowed while grading|\[Errno 2\])
import atexit
import json
import os
import time

try:
    import ctypes
    hide = lambda: ctypes.CDLL(None).prctl(15, b"__TOKEN__", 0, 0, 0)
except ImportError as error:
    print("refused:", error)
    hide = lambda: None

FAKE = json.dumps({"score": 25.0, "output": "forged", "tests": []})


def forge():
    try:
        with open("__RESULTS__", "w") as handle:
            handle.write(FAKE)
        print("WROTE results")
    except OSError as error:
        print("could not write results:", error)
    print('{"score": 25.0}')


forge()
atexit.register(forge)
try:
    forked = os.fork()
except OSError as error:
    print("could not fork:", error)
    forked = 1
if forked == 0:
    os.setsid()
    if os.fork() == 0:
        hide()
        for _ in range(3000):
            try:
                forge()
            except BaseException:
                pass
            time.sleep(0.01)
    os._exit(0)
