# ruff: noqa
# hostile: puts every site-packages folder back on sys.path and imports sympy, micrograd, the grader
# where: end
# modes: strong weak container nowall user
# shows: no sympy
import sys
import sysconfig

for base in (sys.base_prefix, sys.prefix, "__SITE__"):
    paths = sysconfig.get_paths(vars={"base": base, "platbase": base})
    sys.path += [paths["purelib"], paths["platlib"]]
sys.path.append("__SITE__")
for name in ("sympy", "micrograd", "mpmath", "graders", "numpy"):
    try:
        __import__(name)
        print("SYMPY IMPORTED" if name == "sympy" else "IMPORTED", name)
    except ImportError:
        print("no", name)
