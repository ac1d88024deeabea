# ruff: noqa
# hostile: a bounded fork storm at import: 300 children that hide under a name and sleep
# where: end
# modes: strong weak
# needs: cgroup
# shows: forked \d\d?\n
import ctypes
import os
import time

made = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        os.setsid()
        ctypes.CDLL(None).prctl(15, b"__TOKEN__", 0, 0, 0)
        time.sleep(600)
        os._exit(0)
    made += 1
print("forked", made)
