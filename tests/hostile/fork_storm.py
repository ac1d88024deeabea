# ruff: noqa
# hostile: a bounded fork storm at import: 300 children that hide under a name and sleep
# where: end
# modes: strong weak container nowall user strong-bare weak-bare container-bare user-bare
# needs: cgroup
# shows: refused: No module named 'ctypes'.*\nforked 0\n
# shows-bare: forked \d\d?\n
import os
import time

try:
    import ctypes
    hide = lambda: ctypes.CDLL(None).prctl(15, b"__TOKEN__", 0, 0, 0)
except ImportError as error:
    print("refused:", error)
    hide = lambda: None

made = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        os.setsid()
        hide()
        time.sleep(600)
        os._exit(0)
    made += 1
print("forked", made)
