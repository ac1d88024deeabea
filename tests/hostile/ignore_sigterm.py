# ruff: noqa
# hostile: ignores SIGTERM and SIGINT, then hangs inside exp's _backward
# where: exp
# modes: strong weak container nowall user
import signal

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)
while True:
    pass
