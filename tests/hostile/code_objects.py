# ruff: noqa
# hostile: the doors to a crafted code object (how a LOAD_CONST exploit overwrites the audit
# hook): marshal, a .pyc in the scratch folder found through sys.pycache_prefix, a code object
# built or replaced, import's loader fed other bytes
# where: end
# modes: strong weak container nowall user
# shows: (?s)refused marshal .*refused pyc .*refused replace .*refused loader .*refused guard state
import marshal
import os
import sys

CODE = marshal.dumps(compile("print('UNMARSHALLED')", "x", "exec"))


def attempt(what, action):
    try:
        action()
        print("ESCAPED", what)
    except BaseException as error:
        print("refused", what, type(error).__name__)


attempt("marshal", lambda: exec(marshal.loads(CODE)))


def planted_pyc():
    import importlib.util
    folder = os.path.join(os.getcwd(), "cache")
    source = os.path.join(os.path.dirname(os.__file__), "colorsys.py")
    pyc = importlib.util.cache_from_source(source).replace(
        os.path.dirname(importlib.util.cache_from_source(source)), folder, 1)
    os.makedirs(os.path.dirname(pyc), exist_ok=True)
    with open(source, "rb") as handle:
        header = importlib.util.MAGIC_NUMBER + b"\0" * 12
    with open(pyc, "wb") as handle:
        handle.write(header + CODE)
    sys.pycache_prefix = folder
    sys.dont_write_bytecode = True
    import colorsys  # noqa: F401
    if not hasattr(colorsys, "rgb_to_hsv"):
        raise SystemExit("no")


attempt("pyc", planted_pyc)
attempt("replace", lambda: (lambda: 0).__code__.replace(co_consts=()))


def loader():
    ext = sys.modules["_frozen_importlib_external"]
    source = os.path.join(os.path.dirname(os.__file__), "this.py")
    fake = ext.SourceFileLoader("this", source)
    # a hash-based .pyc that is never checked against its source: straight to unmarshal
    header = __import__("importlib.util").util.MAGIC_NUMBER + (1).to_bytes(4, "little")
    fake.get_data = lambda path: header + b"\0" * 8 + CODE if path.endswith(".pyc") else b""
    exec(fake.get_code("this"))


attempt("loader", loader)


def guard_state():
    # the guard's one mutable setting, the last .pyc opened: point it at bytes of our own
    harness = sys.modules["__main__"]
    state = next(value for value in harness._guard.__defaults__
                 if isinstance(value, list) and len(value) == 1)
    path = os.path.join(os.getcwd(), "planted")
    with open(path, "wb") as handle:
        handle.write(b"\0" * 16 + CODE)
    state[0] = path
    exec(marshal.loads(CODE))


attempt("guard state", guard_state)
