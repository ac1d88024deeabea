# ruff: noqa
# hostile: sends records built to crash the parent: nested 100,000 deep, a 400-digit "out", a 5,000-digit error, then garbage
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
ident = case["id"] if case is not None else "x"
os.write(fd, b"[" * 100000 + b"]" * 100000 + b"\n")
os.write(fd, ('{"id": "%s", "out": %s, "grads": {"x": %s}}\n' % (ident, 10**400, 10**400)).encode())
os.write(fd, ('{"id": "%s", "error": %s, "ops": [%s]}\n' % (ident, "9" * 5000, "9" * 5000)).encode())
os.write(fd, ('{"kind": "loaded", "cells": [{"index": %s}], "value": {"found": [[[]]]}}\n' % ("1" * 5000)).encode())
os.write(fd, b'{"kind": "done", "group": "tanh"}\n')
