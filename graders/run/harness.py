"""The child harness: runs a student's code and evaluates what the parent asks, nothing more.

This file runs inside the sandbox with `python -I -S`, so it uses the standard library only and
never imports `graders`. It decides nothing: it builds graphs with the student's `Value`, calls
their closures, and writes plain numbers per check id to a dedicated pipe. Verdicts, expected
values and probe points live in the parent, which sends one group of checks at a time.

Usage: python -I -S harness.py PROGRAM.json PLAN_FD RESULT_FD
"""

import _json
import builtins
import gc as _gc
import math
import os
import sys
from stat import S_ISDIR

# Private references taken before any student code runs, so that an honest submission that
# shadows a builtin cannot break the harness. They are not a security boundary: student code
# shares this process and can rewrite anything in it (even this module, via sys.modules). That
# is why nothing here decides a grade: the parent judges the numbers, drawn from its own secret
# probe points, and a forged record is only a claim the parent checks like any other.
_write = os.write
_read = os.read
_exit = os._exit
_times = os.times
_float_value = float.__float__
_int_value = int.__int__
_float_repr = float.__repr__
_isfinite = math.isfinite
_str = str
_type = type
_isinstance = isinstance
_len = len

MAX_TEXT = 400
CHILD_ATTRIBUTES = ("_prev", "_children", "children", "prev", "_parents", "parents", "_inputs")


class NotANumber(Exception):
    """A student's value that is not a plain real number (str, bool, complex, None, objects)."""


def number(value, what):
    """Convert a student's number strictly: int or float only, read past any overridden dunder.

    A float subclass can lie in `__float__`, `__eq__` or `__repr__`; `float.__float__` reads the
    stored value. bool is refused: `True` is not a gradient.
    """
    kind = _type(value)
    if kind is bool:
        raise NotANumber(f"{what} is a bool ({value!r}), not a number")
    if _isinstance(value, float):
        try:
            return _float_value(value)
        except TypeError:
            pass
    elif _isinstance(value, int):
        try:
            return float(_int_value(value))
        except (TypeError, OverflowError):
            pass
    else:
        found = numpy_number(value, kind, what)
        if found is not None:
            return found
    name = getattr(kind, "__name__", "object")
    raise NotANumber(f"{what} is a {name}, not a number")


def numpy_number(value, kind, what):
    """A numpy real scalar or 0-d array of a real dtype (`np.tanh(x)` gives one) as a float;
    None when `value` is not numpy's. Lecture code that computes with numpy is right, so its
    numbers are read as numbers. A size-1 1-d array is not one: `Value(np.array([0.5]))` holds
    a vector, and the student is told to take its element. Never imports numpy: a value can
    only be numpy's if the student's code imported it."""
    numpy = sys.modules.get("numpy")
    module = getattr(kind, "__module__", None)
    if numpy is None or _type(module) is not _str or module.partition(".")[0] != "numpy":
        return None
    if not _isinstance(value, (numpy.generic, numpy.ndarray)):
        return None
    dtype = getattr(value, "dtype", None)
    if getattr(dtype, "kind", "") not in ("f", "i", "u"):
        raise NotANumber(f"{what} is a numpy {_str(dtype)} value, not a real number")
    if value.ndim != 0:
        raise NotANumber(f"{what} is a numpy array of shape {tuple(value.shape)}, not a "
                         "number (a size-1 array too: take its element, e.g. `[0]` or "
                         "`.item()`)")
    return float(value.item())


class _Strict:
    """What the C scanner of `_json` reads from a decoder: strict JSON into plain dicts, ints
    and floats, no NaN or Infinity. The `json` package's own decoder would import `re` and
    `enum` into every child (about a fifth of its start) for the same C scanner."""

    strict = True
    object_hook = object_pairs_hook = None
    parse_float, parse_int = float, int

    @staticmethod
    def parse_constant(name):
        raise ValueError(f"non-finite number {name}")


_scan = _json.make_scanner(_Strict)


def _loads(text):
    """One JSON value that is all of `text` (the parent's messages: one per line)."""
    try:
        value, end = _scan(text, 0)
    except StopIteration as stop:
        raise ValueError(f"not JSON at character {stop.value}") from None
    except SystemError:  # the C scanner's own message needs json.decoder, which is not loaded
        raise ValueError("not JSON") from None
    if end != len(text):
        raise ValueError(f"extra data at character {end}")
    return value


def _frames(tb):
    """(frame, line) from the outermost call to where it was raised (traceback.walk_tb's walk,
    without importing traceback and what it imports)."""
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def encode(value):
    """JSON text for plain data, written by hand so that patched json internals cannot lie."""
    kind = _type(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        if _isfinite(value):
            return _float_repr(value)
        return '"nan"' if value != value else ('"inf"' if value > 0 else '"-inf"')
    if kind is int:
        return _str(value)
    if kind is str:
        value = value[:MAX_TEXT]
        if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
            return '"' + value + '"'  # nothing to escape (most of what is sent)
        out = ['"']
        for ch in value:
            code = ord(ch)
            if ch in '"\\' or code < 0x20 or code > 0x7E:
                out.append(f"\\u{code:04x}" if code <= 0xFFFF else "?")
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)
    if kind in (list, tuple):
        return "[" + ",".join(encode(item) for item in value) + "]"
    if kind is dict:
        return "{" + ",".join(encode(_str(k)) + ":" + encode(v) for k, v in value.items()) + "}"
    return encode(_str(kind.__name__))


class Channel:
    def __init__(self, plan_fd, result_fd):
        self.plan_fd, self.result_fd, self.buffer = plan_fd, result_fd, b""

    def send(self, record):
        data = (encode(record) + "\n").encode("ascii")
        while data:
            data = data[_write(self.result_fd, data):]

    def receive(self):
        while b"\n" not in self.buffer:
            chunk = _read(self.plan_fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return _loads(line.decode("utf-8"))


def where(error):
    """The student's cell and line where an exception was raised, from its traceback."""
    found = None
    for frame, line in _frames(error.__traceback__):
        name = frame.f_code.co_filename
        if name.startswith("<cell "):
            found = (int(name[6:-1]), line)
    return found


def describe_error(error):
    try:
        text = f"{_type(error).__name__}: {error}"
    except BaseException:  # a hostile __str__
        text = _type(error).__name__
    record = {"error": text[:MAX_TEXT]}
    place = where(error)
    if place:
        record["cell"], record["line"] = place
    return record


# --- display-only modules -------------------------------------------------------------------

# Notebooks import plotting and display libraries at the top (the lecture's first cell does).
# They cannot change a gradient, and they are not installed in the sandbox, so they import as
# silent stand-ins: every attribute and call gives the stand-in back. numpy is *not* among
# them: code that computes with it must fail loudly, not quietly compute with a dummy.
DISPLAY_ONLY = ("matplotlib", "IPython", "graphviz", "seaborn", "tqdm", "kit.viz")


def display_only(name):
    return any(name == top or name.startswith(top + ".") for top in DISPLAY_ONLY)


class StandIn:
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __iter__(self):
        return iter(())

    def __mro_entries__(self, bases):
        return (object,)


class StandInFinder:
    """Finds display-only modules (and their submodules) as stand-ins."""

    used: "list[str]" = []  # noqa: RUF012 - one finder per child process, by design

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if not display_only(name):
            return None
        import importlib.machinery

        top = next(t for t in DISPLAY_ONLY if name == t or name.startswith(t + "."))
        if top not in cls.used:
            cls.used.append(top)
        return importlib.machinery.ModuleSpec(name, cls, is_package=True)

    @staticmethod
    def create_module(spec):
        import types

        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = lambda attribute: StandIn()
        return module

    @staticmethod
    def exec_module(module):
        pass


class PackageFinder:
    """Finds the packages the assignment allows (numpy by default) at the folders the parent
    named, and nothing else: the child runs `python -I -S`, so no site-packages is on its path,
    and putting one there would make every installed package importable. The parent found each
    folder in its own environment (run/packages.py); the walls show the child only those."""

    origins: "dict[str, str]" = {}  # noqa: RUF012 - one finder per child process, by design

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        origin = cls.origins.get(name)
        if origin is None:
            return None
        import importlib.util

        if origin.endswith(".py") or "." in origin.rpartition("/")[2]:  # a one-file module
            return importlib.util.spec_from_file_location(name, origin)
        return importlib.util.spec_from_file_location(
            name, origin + "/__init__.py", submodule_search_locations=[origin])


# --- the guard ------------------------------------------------------------------------------

# An audit hook (PEP 578), installed before any student code and never removable from Python.
# Under bubblewrap it is a second wall; on the weak path (no namespaces) it is the one that keeps
# student code to the standard library, its own scratch folder, and this process: no other
# package (someone's micrograd, sympy), no file of the grader's or another student's, no child
# process, no socket, no way to rewrite the hook. Its state lives in default arguments, which are
# bound afresh on every call from an immutable tuple, and it calls only builtins captured here,
# so patching a module cannot change what it consults. It cannot stop native code; that is why
# ctypes and friends are among the refused modules.
REFUSED_MODULES = frozenset({
    # native code and memory: ctypes and the C test modules
    "ctypes", "_ctypes", "_testcapi", "_testinternalcapi", "_testbuffer", "_testmultiphase",
    "_testsinglephase", "_testimportmultiple", "_testclinic", "_lsprof",
    # interpreters without this hook, processes, Tcl
    "_xxsubinterpreters", "_xxinterpchannels", "_interpreters", "_interpchannels",
    "_interpqueues", "_posixsubprocess", "_tkinter", "tkinter",
    # files, sockets and signals that C code reaches without an audit event
    "readline", "_posixshmem", "_multiprocessing", "_socket", "syslog", "resource",
    "_dbm", "_gdbm",
})
# Functions of already-loaded modules that act on other processes without an audit event.
UNAUDITED = (("os", "pidfd_open"), ("posix", "pidfd_open"), ("_signal", "pidfd_send_signal"),
             ("signal", "pidfd_send_signal"))
REFUSED_EVENTS = frozenset({
    "os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
    "subprocess.Popen", "pty.spawn", "os.startfile", "os.killpg", "signal.pthread_kill",
    "os.symlink", "os.link", "os.chdir", "sqlite3.connect", "sqlite3.connect/handle",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace", "sys.setprofile",
    "sys._current_frames", "sys._current_exceptions", "code.__new__",
    "sys.monitoring.register_callback", "cpython.run_command", "cpython.run_file",
    "cpython._PySys_ClearAuditHooks", "sys.remote_exec", "marshal.load",
})
WRITING_EVENTS = frozenset({
    "os.chmod", "os.chown", "os.mkdir", "os.mkfifo", "os.mknod", "os.remove", "os.rmdir",
    "os.truncate", "os.utime", "os.setxattr", "os.removexattr", "os.chflags", "shutil.rmtree",
    "shutil.chown", "os.rename",
})
READING_EVENTS = frozenset({"os.listdir", "os.scandir", "os.listxattr", "os.getxattr",
                            "glob.glob", "glob.glob/2"})
PACKAGE_FOLDERS = frozenset({"site-packages", "dist-packages"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _normal(path, cwd, type_=type, str_=str, bytes_=bytes):
    """An absolute, lexically normalised path, or None for anything but a plain str or bytes
    (a path-like object's __fspath__ could answer the hook and the open differently)."""
    kind = type_(path)
    if kind is bytes_:
        path = path.decode("utf-8", "surrogateescape")
    elif kind is not str_:
        return None
    if not path.startswith("/"):
        path = cwd() + "/" + path
    parts = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


def _inside(path, roots, packages=PACKAGE_FOLDERS, frozen=frozenset):
    """`path` (normalised) is one of `roots` or below one, and not in an installed-packages
    folder (those sit inside the standard library's folder on most interpreters)."""
    if path is None or not frozen(path.split("/")).isdisjoint(packages):
        return False
    for root in roots:  # noqa: SIM110 - `any` would be a global lookup the guard must not make
        if path == root or path.startswith(root + "/"):
            return True
    return False


def _package_native(parts, where, packages, len_=len, str_=str, type_=type):
    """An extension module `parts` (its dotted name, split) at `where` is an allowed package's
    own, at its own place: `numpy._core._multiarray_umath` is `<numpy>/_core/
    _multiarray_umath.<suffix>` and nothing else (not another name for the same file, and
    not a file the student put anywhere). `packages` pairs each allowed name with its origin."""
    if type_(where) is not str_:
        return False
    for name, origin in packages:
        if name != parts[0]:
            continue
        if "." in origin.rpartition("/")[2]:  # a one-file module: that file, no submodules
            return len_(parts) == 1 and where == origin
        if len_(parts) == 1:  # a package's own name is its folder, never a file
            return False
        expected = origin + "/" + "/".join(parts[1:]) + "."
        return where.startswith(expected) and "/" not in where[len_(expected):]
    return False


def _guard(event, args, writable=(), readable=(), allowed_modules=frozenset(), files_left=None,
           own_pid=0, protected=(), native=(), loaded=frozenset(), last_pyc=(None,),
           verified=None, packages=(), shelved=(), package_native=None, no_folders=frozenset(),
           refused_modules=REFUSED_MODULES, normal=_normal, inside=_inside, cwd=os.getcwd,
           type_=type, int_=int, str_=str, len_=len, nxt=next, stat_=os.stat, is_dir=S_ISDIR,
           oserror=OSError,
           refused_events=REFUSED_EVENTS,
           writing_events=WRITING_EVENTS, reading_events=READING_EVENTS,
           write_flags=WRITE_FLAGS, denied=PermissionError, missing=ModuleNotFoundError,
           devices=("/dev/null", "/dev/urandom", "/dev/random")):
    """The audit hook. Every name it uses is a local or a default: no global lookup that a
    patched harness module could redirect (tests/test_guard.py checks the bytecode)."""
    if event == "import":
        name = args[0]
        parts = name.split(".") if type_(name) is str_ else [""]
        if parts[0] not in allowed_modules or name in loaded:
            raise missing(f"No module named {name!r}: only the standard library, kit and the "
                          "assignment's packages can be imported while grading")
        for part in parts:
            if part in refused_modules:
                raise missing(f"No module named {name!r}: {part} is not available while "
                              "grading")
        if args[1] is not None:  # native code: a standard-library extension, under its name,
            where = normal(args[1], cwd)  # or an allowed package's, at its place in it
            base = where.rpartition("/")[2] if where is not None else ""
            if (len_(parts) != 1 or not inside(where, native) or
                    not base.startswith(name + ".")) and \
                    not package_native(parts, where, packages):
                raise missing(f"No module named {name!r} here: native code is loaded only "
                              "from the standard library and the assignment's packages, "
                              "under its own name")
        return
    if event in refused_events:
        raise denied(f"{event} is not allowed while grading")
    if event == "marshal.loads":
        # Code from bytes is how the LOAD_CONST memory exploits get in: only the code of a
        # standard-library .pyc import just opened may be unmarshalled, and the guard checks
        # the bytes against that file itself (whoever called, whatever was patched).
        where = last_pyc[0]  # student code can reach this list: checked again, as for open
        if type_(where) is not str_ or not where.endswith(".pyc") or \
                not (inside(where, native) or inside(where, shelved, no_folders)) or \
                inside(where, writable) or not verified(args[0], where):
            raise denied("marshal.loads is not allowed while grading")
        return
    if event == "open":
        path, mode, flags = args
        if type_(path) is int_:
            return
        where = normal(path, cwd)
        if where in devices:
            return
        if where is not None and where.endswith(".pyc"):
            if not (inside(where, native) or inside(where, shelved, no_folders)) or \
                    inside(where, writable):
                raise denied(f"reading compiled code {path!r} is not allowed while grading")
            last_pyc[0] = where
        writing = (type_(mode) is str_ and ("w" in mode or "a" in mode or "x" in mode
                                             or "+" in mode)) or \
            (type_(flags) is int_ and flags & write_flags)
        if writing:
            if not inside(where, writable):
                raise denied(f"writing {path!r} is not allowed while grading "
                             "(only the current folder is writable)")
            if nxt(files_left) <= 0:
                raise denied(f"writing {path!r}: too many files written while grading")
        elif not inside(where, readable) and not inside(where, shelved, no_folders):
            raise denied(f"reading {path!r} is not allowed while grading")
        elif not inside(where, writable):
            try:
                folder = is_dir(stat_(where).st_mode)
            except oserror:
                folder = False
            if folder:  # a folder's fd is a `dir_fd` that relative paths would escape by
                raise denied(f"opening the folder {path!r} is not allowed while grading")
        return
    if event in writing_events:
        for path in (args[:2] if event == "os.rename" else args[:1]):
            if type_(path) is not int_ and not inside(normal(path, cwd), writable):
                raise denied(f"{event} on {path!r} is not allowed while grading")
        return
    if event in reading_events:
        path = args[0]
        where = normal("." if path is None else path, cwd)
        if type_(path) is not int_ and not inside(where, readable) and \
                not inside(where, shelved, no_folders):
            raise denied(f"listing {path!r} is not allowed while grading")
        return
    if (event == "fcntl.fcntl" and args[1] in (8, 10, 15)) or \
            (event == "fcntl.ioctl" and args[1] in (0x8901, 0x8902)):
        # F_SETOWN, F_SETSIG, F_SETOWN_EX, FIOSETOWN, SIOCSPGRP: a file's I/O would signal
        # whichever process it names
        raise denied("directing a file's signals is not allowed while grading")
    if event == "os.kill":
        if args[0] != own_pid:
            raise denied("signalling another process is not allowed while grading")
        return
    if event.startswith("socket.") or event.startswith("ctypes."):
        raise denied(f"{event} is not allowed while grading")
    if event in ("object.__setattr__", "object.__delattr__"):
        for function in protected:  # the guard's own functions: their code and defaults
            if args[0] is function:
                raise denied("changing the grader's guard is not allowed")


# Events the guard never acts on, and the most frequent while checks run: `id()` is audited on
# every call (a student's topological sort calls it per node: 100,000 times in the deep-chain
# check), and entering the guard's frame with its ~40 defaults costs each about 1 µs more than
# this gate's does. Every other event reaches the guard as before.
QUIET_EVENTS = frozenset({"builtins.id", "object.__getattr__", "exec", "compile"})


def _gate(event, args, quiet=QUIET_EVENTS, guard=_guard):
    """The audit hook: every event but the quiet ones goes to `_guard`. Like the guard, it
    uses only locals and defaults, and the guard refuses changes to it as to itself."""
    if event in quiet:
        return
    guard(event, args)


def _same_code(data, path, read_file=os.open, read=os.read, close=os.close,
               rdonly=os.O_RDONLY, bytes_=bytes, str_=str, type_=type):
    """`data` is the code part of the .pyc at `path` (after its 16-byte header), read anew
    here: import unmarshals exactly that, and nothing else may be unmarshalled."""
    if type_(path) is not str_:
        return False
    fd = read_file(path, rdonly)
    try:
        chunks = []
        while True:
            chunk = read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        close(fd)
    return bytes_(data) == b"".join(chunks)[16:]


GUARD_DEFAULTS = _guard.__defaults__


def install_guard(program_dir, writable, packages=None):
    """Keep the rest of this process to the standard library, kit and the assignment's
    `packages` ({name: folder}, read only), `program_dir` (read) and `writable["path"]` (read
    and write, at most `writable["files"]` files). Called once, before any student code; the
    hook's settings are its positional defaults, an immutable tuple."""
    import itertools
    import sysconfig

    paths = sysconfig.get_paths()
    stdlib = tuple({os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib")})
    program_dir, scratch = (os.path.realpath(p) for p in (program_dir, writable["path"]))
    packages = tuple((name, origin) for name, origin in (packages or {}).items()
                     if name not in REFUSED_MODULES)
    allowed = (frozenset(sys.stdlib_module_names) - REFUSED_MODULES) | \
        {"kit"} | {name.partition(".")[0] for name in DISPLAY_ONLY} | \
        {name for name, _ in packages}
    # The native module behind `signal` is loaded at start-up: stripped below, so a `signal`
    # imported later (its `from _signal import *`) has nothing stripped either. The harness
    # itself uses `_signal`: importing `signal` costs a child about 8 ms (its enums).
    for module, name in UNAUDITED:
        if hasattr(sys.modules.get(module), name):
            delattr(sys.modules[module], name)
    # A module already loaded can be imported again only if someone removed it from
    # sys.modules: for a native one, to get back what was stripped. Refused.
    loaded = frozenset(name for name in sys.modules if name != "__main__")
    settings = ((scratch,), (*stdlib, program_dir, scratch, "/usr/share/zoneinfo"),
                frozenset(allowed), itertools.count(int(writable["files"]), -1), os.getpid(),
                (_gate, _guard, _normal, _inside, _same_code, _package_native), stdlib, loaded,
                [None],
                _same_code, packages, tuple(origin for _, origin in packages), _package_native,
                frozenset())
    _guard.__defaults__ = settings + GUARD_DEFAULTS[len(settings):]
    sys.addaudithook(_gate)


# --- loading the submission -----------------------------------------------------------------


class CellInterrupt(BaseException):
    """A top-level cell ran past its time: stopped as a Jupyter kernel interrupt stops it."""


def _interrupt(signum, frame):
    raise CellInterrupt()


class Missing:
    """What a name imported from an unavailable module is bound to: using it raises."""

    def __init__(self, module):
        object.__setattr__(self, "_module", module)

    def _refuse(self, *args, **kwargs):
        raise ModuleNotFoundError(f"No module named {self._module!r}: it cannot be imported "
                                  "while grading (only the standard library and the "
                                  "assignment's packages can)")

    __call__ = _refuse

    def __getattr__(self, name):
        self._refuse()


def _failed_import(tree, error, index):
    """The position in `tree.body` of cell `index`'s top-level import that `error` came from,
    or None (an ImportError raised in a function another cell defined is not one)."""
    import ast

    if not _isinstance(error, ImportError):
        return None
    line = _stopped_at(error, index)["line"]  # the line of this cell's own top-level code
    for position, statement in enumerate(tree.body):
        if statement.lineno <= line <= (statement.end_lineno or statement.lineno) and \
                _isinstance(statement, (ast.Import, ast.ImportFrom)):
            return position
    return None


def _bind_missing(statement, namespace):
    """An import's names bound to `Missing`, as a kernel without the module leaves them."""
    import ast

    for alias in statement.names:
        module = alias.name if _isinstance(statement, ast.Import) else statement.module
        bound = alias.asname or alias.name.partition(".")[0]
        if bound != "*":
            namespace[bound] = Missing(module or alias.name)


def _future_flags(tree):
    """The compiler flags of the cell's `from __future__ import ...` lines, so the statements
    run after a failed import compile as the whole cell did (annotations stay lazy)."""
    import __future__

    import ast

    flags = 0
    for statement in tree.body:
        if _isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            for alias in statement.names:
                flags |= getattr(getattr(__future__, alias.name, None), "compiler_flag", 0)
    return flags


def _run_cell(code, source, index, namespace, statuses):
    """exec one cell. After a top-level import that fails (numpy, or the repository's own
    module beside the notebook), the cell's next statements run one at a time, as a student's
    kernel would have had them: one that fails for want of a missing module (an ImportError,
    or a NameError for a name a skipped line would have made) is recorded, the first of them,
    and skipped, so the class defined further down still is."""
    try:
        exec(code, namespace)
        return True
    except ImportError as error:
        import ast  # only now: `ast` costs a child about 12 ms to import

        status = {"index": index, "status": "error"}
        status.update(describe_error(error))
        statuses.append(status)
        tree = ast.parse(source)
        position = _failed_import(tree, error, index)
        if position is None:
            return False
        _bind_missing(tree.body[position], namespace)
    flags, noted = _future_flags(tree), False
    for statement in tree.body[position + 1:]:
        one = compile(ast.Module(body=[statement], type_ignores=[]), f"<cell {index}>", "exec",
                      flags=flags, dont_inherit=True)
        try:
            exec(one, namespace)
        except (ImportError, NameError) as error:  # the module, or a name made with it
            is_import = _isinstance(statement, (ast.Import, ast.ImportFrom))
            if is_import:
                _bind_missing(statement, namespace)
            if is_import or not noted:
                status = {"index": index, "status": "error"}
                status.update(describe_error(error))
                statuses.append(status)
                noted = noted or not is_import
    return False


def _stopped_at(error, index):
    """Where an interrupt stopped cell `index`: the line of the cell's own top-level code then
    running (a later child runs the statements before it, `_before`), and the innermost
    function of the submission's then running (`Value.relu.<locals>._backward`), which the
    report names as what hung."""
    line, function = 0, ""
    for frame, number in _frames(error.__traceback__):
        code = frame.f_code
        if code.co_filename.startswith("<cell "):
            if code.co_name == "<module>":
                line = number if code.co_filename == f"<cell {index}>" else line
            else:
                function = _str(getattr(code, "co_qualname", code.co_name))[:MAX_TEXT]
    return {"line": line, "function": function}


def _before(source, line):
    """A cell an earlier child interrupted at top-level `line`, as the statements before the
    one it was stopped in (0: nothing): what its first run had done, without running into the
    hang again (what the stopped statement itself had done is lost; on a line of several
    statements, the line's first starts the cut). Line numbers stay the cell's, so messages
    still match what the student sees."""
    import ast

    if line <= 0:
        return ""
    text = source.replace("\r\n", "\n").replace("\r", "\n")  # the tokenizer's newlines
    try:
        body = ast.parse(text).body
    except BaseException:  # it ran in the first child, so it parses; run none of it if not
        return ""
    lines = text.split("\n")
    for statement in body:
        if (statement.end_lineno or statement.lineno) < line:
            continue
        decorators = [d.lineno for d in getattr(statement, "decorator_list", ())]
        if decorators:  # a decorator line starts the statement; nothing precedes it there
            return "\n".join(lines[:min(decorators) - 1])
        start = lines[statement.lineno - 1].encode()[:statement.col_offset].decode()
        return "\n".join([*lines[:statement.lineno - 1], start])
    return text


def run_cells(cells, channel, namespace, cell_seconds=None, skip=()):
    """Each cell in turn; one that raises is recorded and the next runs. A cell past
    `cell_seconds` is interrupted (SIGALRM), keeping whatever it had already defined. `skip`
    names the cells an earlier child interrupted ({index, line}): of those, only the statements
    before `line` run (`_before`), so a restarted child never waits on the same hang twice."""
    import _signal as signal  # what `signal` wraps, without its enums (see install_guard)

    if cell_seconds:
        signal.signal(signal.SIGALRM, _interrupt)
    stop = {entry["index"]: entry["line"] for entry in skip}
    statuses = []
    for cell in cells:
        index = cell["index"]
        channel.send({"kind": "cell", "index": index})
        if index in stop:
            cell = {"index": index, "source": _before(cell["source"], stop[index])}
        try:
            code = compile(cell["source"], f"<cell {index}>", "exec")
        except SyntaxError as error:
            statuses.append({"index": index, "status": "syntax", "line": error.lineno or 0,
                             "error": f"SyntaxError: {error.msg}"})
            continue
        except BaseException as error:  # ValueError for NUL bytes, RecursionError, ...
            statuses.append({"index": index, "status": "syntax", "line": 0,
                             "error": describe_error(error)["error"]})
            continue
        try:
            if cell_seconds:
                signal.setitimer(signal.ITIMER_REAL, cell_seconds)
            try:
                ran = _run_cell(code, cell["source"], index, namespace, statuses)
            finally:
                if cell_seconds:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except CellInterrupt as error:
            statuses.append({"index": index, "status": "interrupted", "error":
                             f"ran past the {cell_seconds:g} s time limit and was interrupted",
                             **_stopped_at(error, index)})
        except BaseException as error:  # SystemExit, KeyboardInterrupt and friends included
            status = {"index": index, "status": "error"}
            status.update(describe_error(error))
            statuses.append(status)
        else:
            if ran:
                statuses.append({"index": index, "status": "ok"})
    if cell_seconds:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    return statuses


def describe_value(namespace, methods):
    """What `Value` is after the cells ran; `methods` are the names the parent asks about."""
    cls = namespace.get("Value")
    if cls is None:
        similar = [name for name, item in namespace.items() if _type(name) is _str
                   and name.lower() == "value" and _isinstance(item, _type)]
        return {"found": False, "similar": similar[:3]}
    if _type(cls) is Missing:  # `from kit.engine import Value`, whose import failed
        return {"found": True, "is_class": False, "kind": "Missing",
                "module": _str(object.__getattribute__(cls, "_module"))}
    if not _isinstance(cls, _type):
        return {"found": True, "is_class": False, "kind": _type(cls).__name__}
    files = set()
    for attribute in vars(cls).values():
        code = getattr(getattr(attribute, "__func__", attribute), "__code__", None)
        if code is not None:
            files.add(code.co_filename)
    own = [name for name in files if name.startswith("<cell ")]
    return {
        "found": True,
        "is_class": True,
        "module": _str(getattr(cls, "__module__", "?")),
        "own": bool(own) or not files,
        "cell": min((int(name[6:-1]) for name in own), default=0),
        "files": sorted(files)[:3],
        "methods": [name for name in methods if callable(getattr(cls, name, None))],
    }


# --- evaluating checks ----------------------------------------------------------------------


def children(node, cls):
    for attribute in CHILD_ATTRIBUTES:
        kids = getattr(node, attribute, None)
        if kids is None:
            continue
        try:
            kids = list(kids)
        except TypeError:
            continue
        return [kid for kid in kids if _isinstance(kid, cls)]
    return []


def topological(root, cls):
    """The grader's own reverse topological order (root first), iterative, each node once."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for kid in children(node, cls):
            if id(kid) not in seen:
                stack.append((kid, False))
    order.reverse()
    return order


# --- how a node's closure is called ---------------------------------------------------------

# A closure with one parameter takes either the node it is stored on (`def _backward(node)`,
# called `node._backward(node)` by the class's own backward()) or the output's grad (kit.engine:
# `_backward(grad)`). The class's backward() says which, when it can be asked; the parameter's
# name is the fallback: these take the node, any other (`grad`, `g`, `out_grad`, `upstream`...)
# takes out.grad (tests/test_shapes.py has both conventions).
NODE_NAMES = frozenset({"self", "node", "out", "output", "v", "n", "o", "value", "val", "me",
                        "this", "result", "res", "root", "parent", "op"})
_CONVENTION = {}  # id(class) -> (class, "node" | "grad" | "none" | None): asked once per class


def backward_convention(cls):
    """How the class's own `backward()` calls a node's `_backward`: with the node ("node"),
    with a number, its grad ("grad"), or with nothing ("none"); None when it does not say.

    Asked by running it once on a lone node whose closure only records its arguments: what a
    student's walk does to the root is exactly what it does to every node. It costs one call per
    class and process, and only for classes whose closures take a parameter."""
    known = _CONVENTION.get(id(cls))
    if known is not None and known[0] is cls:
        return known[1]
    calls = []

    def recorder(*args, **kwargs):
        calls.append(args)

    answer = None
    try:
        node = cls(1.0)
        node._backward = recorder
        node.backward()
    except Exception:
        pass
    if calls:
        args = calls[0]
        if not args:
            answer = "none"
        elif args[0] is node:
            answer = "node"
        elif _type(args[0]) in (int, float):
            answer = "grad"
    _CONVENTION[id(cls)] = (cls, answer)
    return answer


def run_closure(node):
    """Call a node's `_backward` the way its class does: the lecture's `_backward()`, or with
    one argument, the node itself or out.grad (kit.engine's closures take out.grad)."""
    step = node._backward
    code = getattr(step, "__code__", None)
    if code is not None and _type(step).__name__ == "function" and code.co_argcount == 1:
        convention = backward_convention(_type(node))
        if convention is None or convention == "none":
            name = code.co_varnames[0] if code.co_varnames else ""
            convention = "node" if name in NODE_NAMES else "grad"
        step(node if convention == "node" else node.grad)
    else:
        step()


# --- what an op's closures call while they run ----------------------------------------------

# A `_backward` that differentiates its forward numerically calls a function again at points
# near its input (x + h, x - h, x + ih). `sys.setprofile` would see Python calls only (and the
# guard refuses it to everyone, the harness included), so the functions a closure can reach are
# wrapped instead, only while the op's own closures run: math's and cmath's functions, the
# class's methods, callables in the closures' globals, cells and the nodes' attributes. A
# wrapper notes its arguments' numbers (a Value's data) and calls through. The parent decides.
NEAR = 1e-3  # 0 < |p - x| <= NEAR * max(1, |x|): a nearby point, not the same one
MAX_WATCHED = 400  # wrapped callables per check, and calls noted
OPERATOR_METHODS = frozenset({"__add__", "__radd__", "__sub__", "__rsub__", "__mul__",
                              "__rmul__", "__truediv__", "__rtruediv__", "__pow__", "__rpow__",
                              "__neg__"})
_WATCHING = [None]  # the calls noted while an op's closures run; None otherwise
_NAMES = {}  # id(code) -> (code, the names it and its inner code objects use)


def _class_names(cls):
    """Every attribute name the class and its bases (not object) define."""
    names = set()
    for klass in cls.__mro__[:-1]:
        names.update(vars(klass))
    return names


def _callable_kind(item):
    return _type(item).__name__ in ("function", "builtin_function_or_method", "method",
                                    "functools.partial", "partial")


def _watched(function, label, cls):
    def watched(*args, **kwargs):
        log = _WATCHING[0]
        if log is not None and _len(log) < MAX_WATCHED:
            _WATCHING[0] = None  # what noting a call itself calls is not noted
            try:
                points = []
                for arg in args[:4]:
                    if _isinstance(arg, cls):
                        try:
                            arg = arg.data
                        except Exception:
                            continue
                    kind = _type(arg)
                    if kind is float or kind is int or kind is complex:
                        points.append(arg)
                log.append((label, points))
            finally:
                _WATCHING[0] = log
        return function(*args, **kwargs)
    return watched


class _Watch:
    """Wrap what an op's closures can call, for the time they run; put everything back.

    Only names the closures' code can reach are wrapped (the names their code objects use,
    and those of the functions those names lead to, a few levels deep): the lecture's closures
    name only `grad` and `data`, so for them nothing is wrapped at all."""

    def __init__(self, cls, nodes):
        self.cls, self.nodes, self.undo, self.calls = cls, nodes, [], []

    def _swap(self, item, label, put, restore=None):
        """Replace `item` (if it is a function) by a watching wrapper through `put`; `restore`
        (default: `put` the original back) undoes it."""
        if _len(self.undo) >= MAX_WATCHED or not _callable_kind(item):
            return
        put(_watched(item, label, self.cls))
        self.undo.append(restore or (lambda: put(item)))

    @staticmethod
    def _names(code, depth=0):
        """Every name `code` and the code objects inside it use (kept per code object: each
        check makes new closures, from the same code)."""
        known = _NAMES.get(id(code))
        if known is not None and known[0] is code:
            return known[1]
        names = set(code.co_names)
        if depth < 4:
            for const in code.co_consts:
                if _type(const).__name__ == "code":
                    names |= _Watch._names(const, depth + 1)
        names = frozenset(names)
        if _len(_NAMES) < 10_000:
            _NAMES[id(code)] = (code, names)
        return names

    def _reach(self, closures):
        """The names the closures use, following the functions the class and the closures'
        globals and cells hold under those names, a few levels deep."""
        names, seen, todo = set(), set(), list(closures)
        cls = self.cls
        for _ in range(4):
            more = []
            for function in todo:
                code = getattr(function, "__code__", None)
                if code is None or id(code) in seen:
                    continue
                seen.add(id(code))
                own = self._names(code)
                names |= own
                for cell in getattr(function, "__closure__", None) or ():
                    try:
                        more.append(cell.cell_contents)
                    except ValueError:
                        continue
                namespace = getattr(function, "__globals__", None)
                for name in own:
                    if _type(namespace) is dict and name in namespace:
                        more.append(namespace[name])
                    item = getattr(cls, name, None) if name in self.class_names else None
                    if item is not None:
                        more.append(item)
            todo = [item for item in more if _type(item).__name__ == "function"]
        return names

    def _wrap_class(self, names):
        cls = self.cls
        title = getattr(cls, "__name__", "Value")
        for name in names:
            if name not in self.class_names or (name.startswith("__") and
                                          name not in OPERATOR_METHODS):
                continue
            item = next((vars(klass)[name] for klass in cls.__mro__[:-1]
                         if name in vars(klass)), None)
            if _type(item).__name__ != "function":
                continue
            own = vars(cls).get(name)

            def put(new, name=name):
                setattr(cls, name, new)

            def restore(name=name, own=own):
                if own is None:
                    delattr(cls, name)
                else:
                    setattr(cls, name, own)
            self._swap(item, f"{title}.{name}", put, restore)

    def __enter__(self):
        closures, seen = [], set()
        for node in self.nodes:
            closure = getattr(node, "_backward", None)
            if getattr(closure, "__code__", None) is not None and id(closure) not in seen \
                    and getattr(closure, "__globals__", None) is not globals():
                seen.add(id(closure))  # (not the grader's own rules: check:op `primitives`)
                closures.append(closure)
        if not closures:
            return self
        self.class_names = _class_names(self.cls)
        names = self._reach(closures)
        for module_name in ("math", "cmath"):
            module = sys.modules.get(module_name)
            for name in names if module else ():
                item = vars(module).get(name)
                if _type(item).__name__ == "builtin_function_or_method":
                    self._swap(item, f"{module_name}.{name}",
                               lambda new, m=module, n=name: setattr(m, n, new))
        # Operators (`Value(x + h) * 2`) only when a closure can make a new node.
        makes = getattr(self.cls, "__name__", None) in names or "__class__" in names or \
            "type" in names
        self._wrap_class(names | OPERATOR_METHODS if makes else names)
        done = set()
        for closure in closures:
            namespace = closure.__globals__
            if _type(namespace) is dict and id(namespace) not in done:
                done.add(id(namespace))
                for name in names:
                    if name in namespace:
                        self._swap(namespace[name], name,
                                   lambda new, d=namespace, n=name: d.__setitem__(n, new))
            code = closure.__code__
            for name, cell in zip(code.co_freevars, closure.__closure__ or (), strict=False):
                try:
                    item = cell.cell_contents
                except ValueError:
                    continue
                self._swap(item, name, lambda new, c=cell: setattr(c, "cell_contents", new))
        for node in self.nodes:
            attributes = getattr(node, "__dict__", None)
            if _type(attributes) is dict:
                for name in names:
                    if name != "_backward" and name in attributes:
                        self._swap(attributes[name], name,
                                   lambda new, d=attributes, n=name: d.__setitem__(n, new))
        _WATCHING[0] = self.calls
        return self

    def __exit__(self, *exc):
        _WATCHING[0] = None
        for restore in reversed(self.undo):
            try:
                restore()
            except Exception:
                pass
        return False

    def facts(self, inputs):
        """Plain counts: calls at a point near (not at) an input's value, and calls with a
        complex argument; the smallest step seen. Empty when neither happened."""
        near = complex_calls = 0
        step = None
        via = ""
        for label, points in self.calls:
            hit = False
            for point in points:
                if _type(point) is complex:
                    if point.imag != 0:
                        complex_calls += 1
                        via = via or label
                        hit = True
                        break
                    point = point.real
                for x in inputs:
                    distance = abs(float(point) - x)
                    scale = max(1.0, abs(x))
                    if 0 < distance <= NEAR * scale:
                        near += 1
                        step = distance if step is None else min(step, distance)
                        via = via or label
                        hit = True
                        break
                if hit:
                    break
        if not near and not complex_calls:
            return {}
        found = {"near": near, "complex": complex_calls, "calls": _len(self.calls),
                 "via": via[:60]}
        if step is not None:
            found["step"] = step
        return found


def labels(order, leaves):
    leaf_ids = {id(leaf) for leaf in leaves}
    found = []
    for node in order:
        if id(node) not in leaf_ids:
            label = getattr(node, "_op", "")
            found.append(label if _type(label) is str else "?")
    return found[:20]


def forward(cls, case, shift=None, made=None):
    env = dict(made) if made is not None else \
        {name: cls(value) for name, value in case["leaves"].items()}
    if shift:
        name, delta = shift
        env[name] = cls(case["leaves"][name] + delta)
    leaves = dict(env)
    env.update(case.get("consts", {}))
    out = eval(case["build"], {"__builtins__": {}}, env)
    return out, leaves


_COMPILED = {}


def _compiled(code):
    """A rule's formula, compiled once per child (every case of every group sends the same)."""
    if code not in _COMPILED:
        _COMPILED[code] = compile(code, "<rule>", "eval")
    return _COMPILED[code]


def _node(cls, data, made, label, original, self, args):
    """A node of the student's class for a stand-in's output, with children `made`: built as
    `Value(data)` (every class takes that; what its second argument means varies: children,
    a grad, a label) with the children set on it, else with the lecture's `Value(data,
    children, op)`, else by the student's own method (`original`; its data is replaced)."""
    out = None
    for make in (lambda: cls(data), lambda: cls(data, tuple(made), label)):
        try:
            candidate = make()
        except Exception:
            continue
        if _isinstance(candidate, cls):
            out = candidate
            break
    if out is None:
        if original is None:
            raise TypeError(f"cannot make a {cls.__name__} from a number for the grader's "
                            f"{label}")
        out = original(self, *args)
    if {id(kid) for kid in children(out, cls)} != {id(kid) for kid in made}:
        _set_children(out, made)
    try:
        out.data = data
    except Exception:
        pass
    return out


def _set_children(node, made):
    """Children on the attribute the grader's walk reads (`children`): the class's own, the
    first of CHILD_ATTRIBUTES it has, else `_prev`, as the lecture names it."""
    for attribute in CHILD_ATTRIBUTES:
        current = getattr(node, attribute, None)
        if current is not None:
            kind = set if _isinstance(current, (set, frozenset)) else tuple
            try:
                setattr(node, attribute, kind(made))
                return
            except Exception:
                break
    try:
        node._prev = set(made)
    except Exception:
        pass


def _reference_method(cls, original, key, rule, used):
    """The grader's whole op (`rule`, run/protocol.py: check:op `primitives`) as a method of
    the student's class: it computes the forward from the operands' data, makes the node the
    student's way, and puts the grader's closure on it. The student's method (`original`,
    None when the class lacks it) is called only when their class cannot be built from a
    number. `used` collects the keys of the rules that ran."""
    symbols, inputs = rule["symbols"], rule["inputs"]
    value_code = _compiled(rule["value"])
    grads = {name: _compiled(code) for name, code in rule["grads"].items()}
    scope = {"__builtins__": {}, "mpmath": _MATH}  # the oracle's formulas name mpmath

    def method(self, *args):
        used.add(key)
        operands = [self, *args][:_len(symbols)]
        bound = {}
        for symbol, value in zip(symbols, operands, strict=False):
            if symbol in inputs and not _isinstance(value, cls):  # a plain number: it takes
                value = cls(value)                                # no gradient anywhere
            bound[symbol] = value

        def data():
            return {name: (v.data if _isinstance(v, cls) else v) for name, v in bound.items()}

        kept = [(v, getattr(v, "_backward", None)) for v in bound.values() if _isinstance(v, cls)]
        result = eval(value_code, scope, data())
        made = [bound[name] for name in inputs]
        out = _node(cls, result, made, key, original, self, args)
        for value, closure in kept:  # the inputs keep their own closures
            if closure is not None and getattr(value, "_backward", None) is not closure:
                value._backward = closure

        def _backward(*_grad):
            env = data()
            for name in inputs:
                bound[name].grad += eval(grads[name], scope, env) * out.grad

        out._backward = _backward
        return out

    return method


class _MathFunctions:
    """`mpmath.tanh(x)` in a rule, computed with `math` (the child has no mpmath)."""

    def __getattr__(self, name):
        return float if name == "mpf" else getattr(math, name)


_MATH = _MathFunctions()


class _Primitives:
    """Stand the grader's rules in for the student's ops (by method name) while one check
    runs, whether the class has them or not, then put the class back exactly as it was.
    `used` is which of them the check's code really called."""

    def __init__(self, cls, rules):
        self.cls, self.rules, self.saved, self.used = cls, rules or {}, [], set()

    def __enter__(self):
        for key, rule in self.rules.items():
            name = rule["method"]
            original = getattr(self.cls, name, None)
            self.saved.append((name, self.cls.__dict__.get(name)))
            setattr(self.cls, name, _reference_method(
                self.cls, original if callable(original) else None, key, rule, self.used))
        return self

    def __exit__(self, *exc):
        for name, own in reversed(self.saved):
            if own is None:
                delattr(self.cls, name)
            else:
                setattr(self.cls, name, own)
        return False


class _Kept(Exception):
    """The student's code raised after part of a check's answer was known (an op's forward
    value before its `_backward` raised): the error and what was known, together."""

    def __init__(self, known, error):
        super().__init__("kept")
        self.known, self.error = known, error


def run_op(cls, case):
    known = {}
    with _Primitives(cls, case.get("primitives")) as primitives:
        try:
            record = _run_op(cls, case, known)
        except Exception as error:  # not BaseException: the in-process runner's timeout
            if "out" not in known:
                raise
            raise _Kept(known, error) from None
    if primitives.used:
        record["stood_in"] = sorted(primitives.used)
    return record


def _closures_before(leaves):
    return {name: getattr(leaf, "_backward", None) for name, leaf in leaves.items()}


def _moved(before, leaves, out):
    """The inputs whose `_backward` the forward replaced while the output kept the one every
    new node starts with: the class stored the op's closure on its input, not on `out`."""
    if not before:
        return []
    fresh = next(iter(before.values()))
    closure = getattr(out, "_backward", None)
    if closure is not fresh and getattr(closure, "__code__", 0) is not \
            getattr(fresh, "__code__", 1):
        return []
    return [name for name, leaf in leaves.items()
            if getattr(leaf, "_backward", None) is not before[name]]


# Flags a PyTorch-minded class keeps on each value; False on a plain `Value(x)` means the class
# may skip it, where the lecture gives every Value a grad. Reported as a fact (`flags`).
FLAG_NAMES = ("requires_grad", "_requires_grad", "needs_grad", "track_grad")


def plain_flags(node):
    """The flag attributes that are False on `node` (a plain `Value(x)`)."""
    found = []
    for name in FLAG_NAMES:
        try:
            if getattr(node, name, None) is False:
                found.append(name)
        except Exception:
            continue
    return found


def _run_op(cls, case, known):
    env = {name: cls(value) for name, value in case["leaves"].items()}
    before = _closures_before(env)
    out, leaves = forward(cls, case, made=env)
    record = {"out": number(out.data, "the output's data")}
    known["out"] = record["out"]
    moved = _moved(before, leaves, out)
    if moved:
        record["moved"] = moved
        known["moved"] = moved
    flags = plain_flags(next(iter(leaves.values()))) if leaves else []
    if flags:
        record["flags"] = known["flags"] = flags
    for name, grad in case["pre"].items():
        leaves[name].grad = _like(leaves[name], grad)
    out.grad = _like(out, case["upstream"])
    order = topological(out, cls)
    inputs = {id(leaf) for leaf in leaves.values()}
    own = [node for node in order if id(node) not in inputs]  # only the closures this op made:
    watch = _Watch(cls, own + list(leaves.values()))         # an input's stands for the op
    with watch:                                               # that made it, not this one
        try:
            for node in own:
                run_closure(node)
        finally:
            found = watch.facts([float(value) for value in case["leaves"].values()])
            if found:
                known["numeric"] = found
    if found:
        record["numeric"] = found
    record["grads"] = {name: number(leaf.grad, f"{name}.grad") for name, leaf in leaves.items()}
    record["ops"] = labels(order, leaves.values())
    fd = {}
    for name, step in case.get("fd", {}).items():
        plus = number(forward(cls, case, (name, step))[0].data, "the output's data")
        minus = number(forward(cls, case, (name, -step))[0].data, "the output's data")
        fd[name] = [plus, minus]
    if fd:
        record["fd"] = fd
    if case.get("own_backward"):
        record.update(_own_backward(cls, case))
    return record


def _like(node, value):
    """`value` as the kind of number the node's grad already is: a class that keeps grads as
    numpy arrays (`np.zeros_like(data)`) gets a numpy number its closures can take `.shape`
    of, a plain class a float."""
    current = getattr(node, "grad", None)
    if current is None or _type(current) in (float, int):
        return value
    try:
        return current * 0 + value
    except Exception:
        return value


def _own_backward(cls, case):
    """The student's own backward() on a fresh node of the op: a fact for the parent (which
    blames the op only when that backward() works on the grader's graphs)."""
    try:
        out = forward(cls, case)[0]
        out.backward()
    except Exception as error:
        described = describe_error(error)
        place = (f" (cell {described['cell']}, line {described['line']})"
                 if "cell" in described else "")
        return {"own_backward": (described["error"] + place)[:MAX_TEXT]}
    return {}


_KEEPS_INPUTS = {}


def _keep_closure(value, closure):
    try:
        value._backward = closure
    except Exception:
        pass


def combine(op, a, b):
    """A node with children (a, b) made the student's way, to carry the grader's closure.

    The student's op may set closures on its inputs as well (a class that stores each closure
    on `self._backward`): the inputs keep the closures the grader gave them."""
    cls = _type(a)
    kept_a, kept_b = getattr(a, "_backward", None), getattr(b, "_backward", None)
    try:
        node = a + b if op == "+" else a * b
    except Exception:
        node = None
    if not _isinstance(node, cls):  # the op is missing, raises or returns no Value
        node = _node(cls, 0.0, (a, b), op, None, a, (b,))
    elif _KEEPS_INPUTS.get((cls, op)) is not True:
        # Whether the student's op records its inputs, asked of its first node (a 10,000-node
        # chain asks once): a node without them gets them, so backward() can reach them.
        kept_inputs = {id(kid) for kid in children(node, cls)} == {id(a), id(b)}
        if kept_inputs:
            _KEEPS_INPUTS[(cls, op)] = True
        else:
            _set_children(node, (a, b))
    # (written out, not a loop: this runs once per node of the 10,000-node chain)
    if kept_a is not None and getattr(a, "_backward", None) is not kept_a:
        _keep_closure(a, kept_a)
    if kept_b is not None and getattr(b, "_backward", None) is not kept_b:
        _keep_closure(b, kept_b)
    value = a.data + b.data if op == "+" else a.data * b.data
    node.data = value
    if op == "+":
        def _backward(*_grad):  # either closure convention (see run_closure)
            a.grad += node.grad
            b.grad += node.grad
    else:
        def _backward(*_grad):  # either closure convention (see run_closure)
            a.grad += b.data * node.grad
            b.grad += a.data * node.grad
    node._backward = _backward
    return node


def build_graph(cls, spec):
    made = {}
    if "chain" in spec:
        x = made["x"] = cls(spec["x"])
        node = x
        for _ in range(spec["chain"]):
            node = combine("+", node, x)
        return made, node
    for item in spec["nodes"]:
        name, op = item[0], item[1]
        made[name] = cls(item[2]) if op == "leaf" else combine(op, made[item[2]], made[item[3]])
    return made, made[spec["root"]]


def run_backward(cls, case):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 25000))
    graphs = []
    for spec in case["graphs"]:
        made, root = build_graph(cls, spec)
        root.backward()
        graphs.append((spec, made, root))
    if case.get("repeat"):
        spec, made, root = graphs[0]
        for node in topological(root, cls):
            node.grad = _like(node, 0.0)
        root.backward()
    result = []
    for spec, made, _root in graphs:
        names = spec.get("report", list(made))
        result.append({name: number(made[name].grad, f"{name}.grad") for name in names})
    record = {"graphs": result}
    flags = plain_flags(cls(0.5))
    if flags:
        record["flags"] = flags
    return record


def run_reference(cls, case):
    """The lecture's program end to end: the student's ops and their own backward()."""
    env = {"a": cls(case["a"]), "b": cls(case["b"])}
    for line in case["program"]:
        exec(line, {"__builtins__": {}}, env)
    g = env["g"]
    record = {"g": number(g.data, "g.data")}
    g.backward()
    record["a.grad"] = number(env["a"].grad, "a.grad")
    record["b.grad"] = number(env["b"].grad, "b.grad")
    return record


def plain(value, what):
    """A reported value as plain data: a number, or a (nested) list of numbers, read strictly."""
    if _type(value) in (list, tuple):
        return [plain(item, what) for item in value][:10_000]
    return number(value, what)


def run_program(namespace, case):
    """Grader-written lines run beside the student's names (their functions and classes, as
    the notebook left them), then each reported expression as plain numbers. The lines only
    call the student's code and say what came out; the parent decides what it means."""
    env = dict(namespace)
    env.update(case.get("inputs", {}))
    env["math"] = math
    for line in case["program"]:
        exec(line, env)
    return {"values": {name: plain(eval(expression, env), name)
                       for name, expression in case["report"].items()}}


def _with_value(runner):
    def run(namespace, case):
        return runner(namespace.get("Value"), case)
    return run


RUNNERS = {"op": _with_value(run_op), "backward": _with_value(run_backward),
           "reference": _with_value(run_reference), "program": run_program}


def evaluate(namespace, case, escapes=BaseException):
    """One check's record. An exception of type `escapes` from student code costs only this
    check (the in-process runner narrows it to Exception so its own timeout gets through)."""
    record = {"id": case["id"]}
    try:
        record.update(RUNNERS[case["kind"]](namespace, case))
    except _Kept as kept:  # the forward's value, then what the closures raised
        record.update(kept.known)
        if _isinstance(kept.error, NotANumber):
            record["error"] = f"NotANumber: {kept.error}"
        elif _isinstance(kept.error, escapes):
            record.update(describe_error(kept.error))
        else:
            raise kept.error from None
    except NotANumber as error:
        record["error"] = f"NotANumber: {error}"
    except escapes as error:
        record.update(describe_error(error))
    return record


# While checks run, the cycle collector looks at new objects only every 100,000 allocations,
# not every 700: a check builds graphs of up to 10,000 nodes (lecture-style classes make each a
# cycle), and collecting them piecemeal cost the deep-chain check about a third of its time.
# Garbage still cannot pile up past that many objects, so the memory limit means what it did.
CHECK_GC_THRESHOLD = (100_000, 50, 100)


class _Patched:
    """A group's `patch`: `Value`'s method replaced, for this group only, by an edit of the
    submission's own (the parent's, graders/judge/edits.py), compiled beside the notebook's
    names as the original was; the class is put back exactly as it was afterwards. `error`
    says why the edit could not be made (every check of the group then says so)."""

    def __init__(self, namespace, patch):
        self.cls, self.patch, self.saved, self.error = namespace.get("Value"), patch, None, None
        self.namespace = namespace

    def __enter__(self):
        if not self.patch:
            return self
        name = self.patch["method"]
        try:
            original = self.cls.__dict__.get(name)
            scope = getattr(original, "__globals__", self.namespace)
            made = {}
            exec(compile(self.patch["source"], "<edit>", "exec"), scope, made)
            self.saved = (name, original)
            setattr(self.cls, name, made[name])
        except BaseException as error:
            self.error = describe_error(error)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            name, original = self.saved
            if original is None:
                delattr(self.cls, name)
            else:
                setattr(self.cls, name, original)
        return False


def serve(channel, namespace):
    _gc.freeze()  # the harness and the loaded cells: never garbage, never scanned again
    _gc.set_threshold(*CHECK_GC_THRESHOLD)
    while True:
        request = channel.receive()
        if request is None or request.get("kind") == "quit":
            return
        shared = request.get("primitives")  # the rules every case of the group stands in
        with _Patched(namespace, request.get("patch")) as patched:
            for case in request["cases"]:
                if shared is not None:
                    case["primitives"] = shared
                if patched.error is not None:
                    channel.send({"id": case["id"], **patched.error})
                    continue
                channel.send(evaluate(namespace, case))
        used = _times()  # this process's CPU so far: a benchmark's count where no cgroup keeps one
        channel.send({"kind": "done", "group": request["group"], "cpu": used.user + used.system})


def flush():
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass


def main():
    program_path, plan_fd, result_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(program_path, encoding="utf-8") as handle:
        program = _loads(handle.read())
    channel = Channel(plan_fd, result_fd)
    # The course's own library (kit: engine, nn, data), pure Python, shipped beside this file.
    library = os.path.join(os.path.dirname(os.path.abspath(program_path)), "lib")
    if os.path.isdir(library):
        sys.path.append(library)
    # Before any student code: which interpreter this really is (a sandbox that hides the
    # interpreter's own library can make the loader fall back to another libpython).
    channel.send({"kind": "hello", "python": sys.version})
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    # First: a display library is a stand-in whether or not one is installed, on every path.
    sys.meta_path.insert(0, StandInFinder)
    # Then the assignment's packages (numpy), each at the one folder the parent named; found
    # only when student code imports them, so a child that does not pays nothing.
    PackageFinder.origins = dict(program.get("packages") or {})
    sys.meta_path.insert(1, PackageFinder)
    if program.get("writable"):
        os.chdir(program["writable"]["path"])
        if program.get("guard"):
            install_guard(os.path.dirname(os.path.abspath(program_path)), program["writable"],
                          PackageFinder.origins)
    statuses = run_cells(program["cells"], channel, namespace, program.get("cell_seconds"),
                         program.get("skip", ()))
    flush()  # what the cells printed reaches the parent before (or with) the "loaded" record
    try:
        value = describe_value(namespace, program["methods"])
    except BaseException as error:
        value = {"found": True, "is_class": False, "kind": describe_error(error)["error"]}
    channel.send({"kind": "loaded", "cells": statuses, "value": value,
                  "stand_ins": list(StandInFinder.used)})
    try:
        serve(channel, namespace)
    finally:
        flush()
        _exit(0)  # skip atexit hooks and __del__: nothing runs after the last record


if __name__ == "__main__":
    main()
