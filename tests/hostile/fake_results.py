# ruff: noqa
# hostile: writes a full-score results.json now, from atexit, and from a detached daemon
# where: end
# modes: strong weak
# needs: cgroup
import atexit
import ctypes
import json
import os
import time

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
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"__TOKEN__", 0, 0, 0)
        for _ in range(3000):
            try:
                forge()
            except BaseException:
                pass
            time.sleep(0.01)
    os._exit(0)
