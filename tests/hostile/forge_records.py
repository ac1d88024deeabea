# ruff: noqa
# hostile: writes its own records on the harness's result pipe, then dies before the real ones
# where: tanh
# hits: tanh
# modes: strong weak container nowall user
import os
import sys

frame = sys._getframe(1)
case = None
while frame is not None:
    if isinstance(frame.f_locals.get("case"), dict):
        case = frame.f_locals["case"]
    frame = frame.f_back
fd = int(sys.argv[3])
if case is not None:
    fake = {"id": case["id"], "out": 0.5, "grads": {k: 0.42 for k in case["leaves"]}}
    import json
    os.write(fd, (json.dumps(fake) + "\n").encode())
os.write(fd, b'{"kind": "done", "group": "tanh"}\n')
os.write(fd, b'{"kind": "loaded", "cells": [], "value": {"found": true}}\n')
os._exit(0)
