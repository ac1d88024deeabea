"""gradkit's teaching library: the reference autograd engine, neural nets, pictures and data.

Students import `kit.nn` with their own `Value`; instructors use `kit.engine.Value` as the
reference solution the lecture builds.
"""

__version__ = "0.1.0"
