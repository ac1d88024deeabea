# ruff: noqa
# hostile: monkeypatches math, builtins, sympy, unittest, pytest and the grader's modules
# where: end
# modes: strong weak container nowall user
import builtins
import math
import sys
import types
import unittest

math.isclose = lambda *a, **k: True
math.isfinite = lambda x: True
math.isnan = lambda x: False
builtins.abs = lambda x: 0.0
builtins.round = lambda x, n=0: 0.0
unittest.TestCase.assertAlmostEqual = lambda *a, **k: None
unittest.TestCase.assertEqual = lambda *a, **k: None
for name in ("sympy", "pytest", "graders", "graders.judge.scoring", "graders.judge.oracle", "numpy"):
    fake = types.ModuleType(name)
    fake.diff = lambda *a, **k: 0
    fake.approx = lambda *a, **k: 0
    fake.isclose = lambda *a, **k: True
    sys.modules[name] = fake
try:
    import sympy  # noqa: F401  (the real one must not be importable in the child)
    print("SYMPY IMPORTED", sympy.__file__)
except Exception:
    pass
