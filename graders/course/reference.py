"""Assignment 2's `Value` class, lifted from the reference engine, `kit/engine.py`.

The notebook's class is kit/engine.py itself, read with `ast` so its comments and layout come
along: one copy of each op's code. What the notebook changes:

- each op's answer becomes a solution region (`authoring.todo`): a primitive's `_backward`
  closure body, a derived op's whole body, the body of `backward()`;
- a method of an op this assignment does not grade (`log`, `sigmoid`) is left out, and a
  config's declared ops come in (`graders.course.methods`): as methods of their own before
  `backward()`'s section, or as a branch at the top of a method the class has (`x ** y`);
- the module docstring stays in kit/engine.py (it is for readers of the engine, not students).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Mapping

from graders.course.task_ids import Task
from graders.spec import optable

# authoring.todo: (task, solution, what, indent) -> the region and the stub's raise, indented
Todo = Callable[..., str]


def engine_source() -> str:
    import kit.engine

    return inspect.getsource(kit.engine)


def _docstring_end(node: ast.FunctionDef) -> int:
    """The 1-based line after which a function's code starts: its docstring's last line, or
    its `def` line (the engine writes every signature on one line)."""
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return first.end_lineno
    return node.lineno


def _section_start(lines: list[str], index: int) -> int:
    """The 0-based index of the first comment line above line `index` (the section's banner,
    `# ---- backpropagation ---`), over blank lines; `index` when there is none."""
    start = index
    while start > 0 and (not lines[start - 1].strip()
                         or lines[start - 1].lstrip().startswith("#")):
        start -= 1
    while start < index and not lines[start].strip():
        start += 1
    return start


def value_class(todo: Todo, tasks: Mapping[str, Task],
                declared: tuple[optable.OpSpec, ...] = (),
                solutions: Mapping[str, str] | None = None) -> str:
    """The class students complete: kit/engine.py with each task's answer a solution region.

    `tasks` maps every base op's key (and "backward") to the task its stub names; `declared`
    ops come from a config, with sympy's solution or the config's own (`solutions`)."""
    from graders.course import methods

    source = engine_source()
    lines = source.split("\n")
    tree = ast.parse(source)
    by_method = {optable.op(key).method: key for key in tasks if key != "backward"}
    declared_by_method = {spec.method: spec for spec in declared}
    solutions = solutions or {}
    # (first, last) 0-based line ranges and what replaces them, applied bottom up
    edits: list[tuple[int, int, list[str]]] = []

    def region(item: Task, first: int, last: int, what: str) -> None:
        """Lines first..last (1-based) become `item`'s solution region."""
        body = "\n".join(lines[first - 1:last])
        indent = len(body) - len(body.lstrip(" "))
        edits.append((first - 1, last - 1,
                      todo(item, textwrap.dedent(body), what, indent=indent).split("\n")))

    def declared_task(spec: optable.OpSpec) -> Task:
        return Task("", spec.task, spec.key, spec.title, spec.points)

    def declared_stub(spec: optable.OpSpec, indent: int) -> str:
        _, solution = methods.forward_and_solution(spec, solutions.get(spec.key, ""))
        return todo(declared_task(spec), solution, f"{spec.key} backward",
                    indent=indent).lstrip()

    doc = tree.body[0]
    if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant):
        edits.append((doc.lineno - 1, doc.end_lineno, []))  # the docstring and its blank line
    cls = next(node for node in tree.body
               if isinstance(node, ast.ClassDef) and node.name == "Value")
    backward_at = None
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        key = by_method.get(node.name)
        # a declared op sharing a method the class keeps is a branch of it; one whose method
        # this class leaves out (a config's own `sigmoid`) is added like any other
        spec = declared_by_method.pop(node.name, None) if key is not None else None
        if node.name == "backward":
            backward_at = _section_start(lines, node.lineno - 1)
            region(tasks["backward"], _docstring_end(node) + 1, node.end_lineno, "backward()")
        elif key is not None:
            closure = next((inner for inner in node.body if isinstance(inner, ast.FunctionDef)
                            and inner.name == "_backward"), None)
            if closure is not None:  # a primitive: the closure's body is the answer
                region(tasks[key], closure.lineno + 1, closure.end_lineno, f"{key} backward")
            else:  # derived: the whole body, named by the `# self - other` on its def line
                comment = lines[node.lineno - 1].partition("#")[2].strip()
                region(tasks[key], _docstring_end(node) + 1, node.end_lineno,
                       f"{key} ({comment or optable.op(key).title})")
            if spec is not None:  # a declared op shares this method: a branch at its top
                at = _docstring_end(node)
                branch = methods.branch(spec, declared_stub(spec, 16)).rstrip("\n") + "\n"
                edits.append((at, at - 1, branch.split("\n")))
        elif node.name in optable.METHODS:  # an op this assignment leaves out
            edits.append((node.lineno - 1, node.end_lineno, []))  # and its blank line
    if declared_by_method:  # methods of their own, after the primitives (before the banner)
        assert backward_at is not None, "kit/engine.py's Value has no backward()"
        added = "\n".join(methods.method(spec, declared_stub(spec, 12))
                          for spec in declared_by_method.values())
        edits.append((backward_at, backward_at - 1, added.split("\n")))
    for first, last, new in sorted(edits, key=lambda edit: (edit[0], edit[1]), reverse=True):
        lines[first:last + 1] = new
    return "\n".join(lines).strip() + "\n"
