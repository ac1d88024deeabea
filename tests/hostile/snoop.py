# ruff: noqa
# hostile: walks the caller frames and the gc heap for expected values and copies them
# where: tanh
# modes: strong weak container nowall user
import gc
import sys

found = None
frame = sys._getframe(1)
while frame is not None and found is None:
    for key, value in frame.f_locals.items():
        if any(word in str(key).lower() for word in ("expect", "exact", "oracle", "answer")):
            found = value
    frame = frame.f_back
if found is None:
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            for key in ("expected", "exact", "derivative", "answer"):
                if key in obj and isinstance(obj[key], (int, float)):
                    found = obj[key]
if found is not None:
    print("FOUND", found)
    self.grad += float(found)
    return
