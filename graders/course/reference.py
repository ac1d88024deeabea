"""Assignment 2's `Value` class: the lecture's form, each op's answer lifted from `kit/engine.py`.

Students follow the lecture video line by line, so the notebook's class is the lecture's:
closures `def _backward():` that read `out.grad`, a `backward()` that sorts the graph itself,
no type hints, no input checks. That structure (the class skeleton, each primitive's forward
lines, `__init__`, `__repr__`, `backward()`) is lecture-only and lives in a template,
`graders/course/templates/notebooks/_value_class.py.j2`. What the lecture and the reference
engine share, each op's math, is written once, in kit/engine.py, and lifted from it with `ast`:

- a primitive's answer is its engine `_backward(grad)` closure body with `grad` read as
  `out.grad` (the lecture's closure takes no argument), and a forward local the engine hands to
  `out` as its data (`e = math.exp(...)`, `out = Value(e, ...)`) read as `out.data` wherever the
  lecture's forward does not bind that name itself (its tanh keeps `t`): `lecture_backward`;
- a derived op (`-`, `/`, `__r*__`) is its engine method, annotations dropped, its one-line
  body with the engine's input check `_checked(other, "-")` read as plain `other`:
  `lecture_derived`;
- anything else in a lifted body is the engine's text, byte for byte; a name the result reads
  that the lecture's method does not have is an error here, not a NameError in a notebook.

A config's declared ops (`graders.course.methods`) join the class as the lecture would write
them: a method of its own before `backward()`, or a branch at the top of a method the class
has (`x ** y` beside `x ** k`).
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import re
import textwrap
from collections.abc import Callable, Mapping

from graders.course.task_ids import Task
from graders.spec import optable

# authoring.todo: (task, solution, what, indent) -> the region and the stub's raise, indented
Todo = Callable[..., str]
# renders the skeleton template with the given values
Render = Callable[..., str]

# What the skeleton holds where a primitive's `_backward` body goes (`{{ backward("add") }}`).
_SLOT = re.compile(r"^( *)__lifted_backward__\('(\w+)'\)$", re.MULTILINE)
# The engine's input check a derived op wraps its operand in: the lecture checks nothing.
CHECK = "_checked"


# --- the engine, read with ast -------------------------------------------------------------


def engine_source() -> str:
    import kit.engine

    return inspect.getsource(kit.engine)


@functools.lru_cache(maxsize=1)
def _engine() -> tuple[str, dict[str, ast.FunctionDef]]:
    source = engine_source()
    cls = next(node for node in ast.parse(source).body
               if isinstance(node, ast.ClassDef) and node.name == "Value")
    return source, {node.name: node for node in cls.body if isinstance(node, ast.FunctionDef)}


def _method(key: str) -> ast.FunctionDef:
    name = optable.op(key).method
    methods = _engine()[1]
    if name not in methods:
        raise ValueError(f"kit/engine.py's Value has no {name}(), the method of op {key!r}")
    return methods[name]


def _closure(node: ast.FunctionDef) -> ast.FunctionDef | None:
    return next((inner for inner in node.body
                 if isinstance(inner, ast.FunctionDef) and inner.name == "_backward"), None)


def is_primitive(key: str) -> bool:
    """Whether op `key`'s engine method carries a `_backward` closure (else it is derived)."""
    return _closure(_method(key)) is not None


def _out_data(node: ast.FunctionDef) -> str | None:
    """The local the engine makes `out` from (`out = Value(e, ...)`): in the lecture, out.data."""
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name) \
                and statement.targets[0].id == "out" and isinstance(statement.value, ast.Call) \
                and statement.value.args and isinstance(statement.value.args[0], ast.Name):
            return statement.value.args[0].id
    return None


def _rewrite(statements: list[ast.stmt], replace: Callable[[ast.AST], str | None]) -> str:
    """The engine's text of `statements`, dedented, each node `replace` maps to a string
    replaced by it (outermost first; nothing inside a replaced node is visited)."""
    source = _engine()[0]
    lines = source.split("\n")
    first, last = statements[0].lineno, statements[-1].end_lineno
    edits: list[tuple[int, int, int, int, str]] = []

    def visit(node: ast.AST) -> None:
        new = replace(node)
        if new is not None:
            edits.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset,
                          new))
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in statements:
        visit(statement)
    # ast's columns count UTF-8 bytes: edit the encoded lines, last edit first
    text = [line.encode() for line in lines[first - 1:last]]
    for line, col, end_line, end_col, new in sorted(edits, reverse=True):
        head, tail = text[line - first][:col], text[end_line - first][end_col:]
        text[line - first:end_line - first + 1] = [head + new.encode() + tail]
    return textwrap.dedent("\n".join(chunk.decode() for chunk in text))


def _check_names(key: str, code: str, bound: set[str]) -> None:
    """Every name the lifted `code` reads is one the lecture's method has."""
    known = bound | {"math", "Value", "out", *dir(builtins)}
    missing = sorted({node.id for node in ast.walk(ast.parse(code))
                      if isinstance(node, ast.Name) and node.id not in known})
    if missing:
        raise ValueError(f"op {key!r}: kit/engine.py's code reads {', '.join(missing)}, which "
                         "the lecture's method does not define (see graders/course/reference.py)")


def lecture_backward(key: str, bound: set[str] | frozenset[str] = frozenset()) -> str:
    """Primitive `key`'s `_backward` body in the lecture's form (`bound`: the names the
    lecture's method defines before its closure: parameters and forward locals)."""
    node = _method(key)
    closure = _closure(node)
    if closure is None:
        raise ValueError(f"op {key!r}: kit/engine.py's {node.name} has no _backward closure")
    grad = closure.args.args[0].arg
    data = _out_data(node)

    def replace(name: ast.AST) -> str | None:
        if isinstance(name, ast.Name) and name.id == grad:
            return "out.grad"
        if isinstance(name, ast.Name) and name.id == data and data not in bound:
            return "out.data"
        return None

    code = _rewrite(closure.body, replace)
    _check_names(key, code, set(bound))
    return code


def lecture_derived(key: str) -> tuple[str, str]:
    """Derived op `key` in the lecture's form: its `def` line (no annotations, the engine's
    `# self - other` comment kept) and its body."""
    node = _method(key)
    if _closure(node) is not None:
        raise ValueError(f"op {key!r}: kit/engine.py's {node.name} is a primitive")
    params = [arg.arg for arg in node.args.args]
    comment = _engine()[0].split("\n")[node.lineno - 1].partition("#")[2].strip()
    head = f"def {node.name}({', '.join(params)}):" + (f"  # {comment}" if comment else "")

    def replace(call: ast.AST) -> str | None:
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) \
                and call.func.id == CHECK:
            return ast.get_source_segment(_engine()[0], call.args[0])
        return None

    code = _rewrite(node.body, replace)
    _check_names(key, code, set(params))
    return head, code


# --- the class -----------------------------------------------------------------------------


def _bound(tree: ast.Module) -> dict[str, tuple[str, set[str]]]:
    """For each `backward(key)` slot of the skeleton's `Value`: the method it is in, and that
    method's parameters and the names its own body assigns (the lecture's forward locals)."""
    cls = next(node for node in tree.body
               if isinstance(node, ast.ClassDef) and node.name == "Value")
    slots = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            names = {arg.arg for arg in node.args.args}
            for statement in node.body:
                if isinstance(statement, ast.Assign):
                    names |= {target.id for target in statement.targets
                              if isinstance(target, ast.Name)}
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) \
                        and call.func.id == "__lifted_backward__":
                    slots[call.args[0].value] = (node.name, names)
    return slots


def value_class(todo: Todo, render: Render, tasks: Mapping[str, Task],
                declared: tuple[optable.OpSpec, ...] = (),
                solutions: Mapping[str, str] | None = None) -> str:
    """The class students complete: the skeleton (`render`: `_value_class.py.j2`) with each
    task's answer, lifted from kit/engine.py, a solution region.

    `tasks` maps every base op's key (and "backward") to the task its stub names; `declared`
    ops come from a config, with sympy's solution or the config's own (`solutions`)."""
    derived = []
    for key, item in tasks.items():
        if key != "backward" and not is_primitive(key):
            head, body = lecture_derived(key)
            derived.append(f"    {head}\n"
                           + todo(item, body, f"{key} ({head.partition('# ')[2] or item.title})",
                                  indent=8))
    skeleton = render(tasks=tasks, derived_methods="\n\n".join(derived),
                      backward=lambda key: f"__lifted_backward__({key!r})")
    slots = _bound(ast.parse(skeleton))

    def lifted(match: re.Match) -> str:
        indent, key = len(match.group(1)), match.group(2)
        method, bound = slots[key]
        if method != optable.op(key).method:
            raise ValueError(f"_value_class.py.j2: backward({key!r}) in {method}(), not in "
                             f"{optable.op(key).method}()")
        return todo(tasks[key], lecture_backward(key, bound), f"{key} backward", indent=indent)

    text = _SLOT.sub(lifted, skeleton)
    missing = [key for key, item in tasks.items()
               if f"not implemented: task {item.task}, {key}" not in text]
    if missing:
        raise ValueError(f"_value_class.py.j2 has no stub for {', '.join(missing)}: a new "
                         "primitive needs its lecture forward there, with {{ backward(key) }}")
    return _with_declared(todo, text, declared, solutions or {})


def _with_declared(todo: Todo, text: str, declared: tuple[optable.OpSpec, ...],
                   solutions: Mapping[str, str]) -> str:
    """The class with a config's declared ops: a branch at the top of the method a declared op
    shares with the class (`x ** y` in `__pow__`), else a method of its own before backward()."""
    from graders.course import methods

    for spec in declared:
        item = Task("", spec.task, spec.key, spec.title, spec.points)
        _, solution = methods.forward_and_solution(spec, solutions.get(spec.key, ""))
        head = f"    def {spec.method}(self, other):\n"
        if head in text:
            stub = todo(item, solution, f"{spec.key} backward", indent=16).lstrip()
            text = text.replace(head, head + methods.branch(spec, stub), 1)
        else:
            stub = todo(item, solution, f"{spec.key} backward", indent=12).lstrip()
            text = text.replace("    def backward(self):",
                                methods.method(spec, stub) + "\n    def backward(self):", 1)
    return text
