# ruff: noqa
# hostile: at import, forges `loaded` and a `done` for every op on the result pipe, then never
# reads its checks: the parent must not wait in a write (every op's time limit, not forever)
# where: end
# hits: all
# modes: strong weak container nowall user
import os
import sys
import time

fd = int(sys.argv[3])
ops = ["add", "mul", "pow", "neg", "sub", "truediv", "radd", "rmul", "rsub", "rtruediv",
       "tanh", "exp", "relu", "log", "sigmoid", "backward", "reference_example"]
os.write(fd, b'{"kind": "loaded", "cells": [], "value": {"found": true, "is_class": true}}\n')
for op in ops * 50:
    os.write(fd, ('{"kind": "done", "group": "%s"}\n' % op).encode())
while True:
    time.sleep(1)
