"""The source of a declared op's method of `Value`, written from its sympy expressions.

`gradkit course new` gives students the forward computation of every op and a `_backward`
stub; for an op declared in a config, both come from the config's one formula: the forward is
sympy's Python for the value, the solution (unless the config gives its own `solution`) is
sympy's derivative times `out.grad`, accumulated. An op whose method the base class already
has (`x ** y` beside `x ** k`) becomes a branch at the top of that method.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from graders.spec.optable import OpSpec


@dataclass(frozen=True)
class Signature:
    """How a build calls its method: the parameters after self, and what each symbol is in
    the method's code."""

    params: tuple[str, ...]
    names: dict[str, str]  # symbol -> Python in the method ("self.data", "other.data", "c")
    values: tuple[str, ...]  # parameters that are Values (converted on entry)


def signature(spec: OpSpec) -> Signature:
    tree = ast.parse(spec.build, mode="eval").body
    names = {"x": "self.data"}
    if isinstance(tree, ast.Call):
        params, values = [], []
        for arg in tree.args:
            if isinstance(arg, ast.Name):
                param = "other" if arg.id == "y" else arg.id
                params.append(param)
                names[arg.id] = "other.data" if arg.id == "y" else arg.id
                if arg.id == "y":
                    values.append(param)
        return Signature(tuple(params), names, tuple(values))
    if isinstance(tree, ast.BinOp):
        other = tree.right if isinstance(tree.left, ast.Name) and tree.left.id == "x" \
            else tree.left
        if isinstance(other, ast.Name):
            is_value = other.id == "y"
            names[other.id] = "other.data" if is_value else "other"
            return Signature(("other",), names, ("other",) if is_value else ())
        return Signature(("other",), names, ())
    return Signature((), names, ())


def _python(expr, names: dict[str, str]) -> str:
    import sympy as sp
    from sympy.printing.pycode import PythonCodePrinter

    shown = expr.subs({sp.Symbol(s, real=True): sp.Symbol(code) for s, code in names.items()})
    return PythonCodePrinter({"fully_qualified_modules": True}).doprint(shown)


def forward_and_solution(spec: OpSpec, solution: str = "") -> tuple[str, str]:
    """The forward expression and the `_backward` body (the config's, or sympy's)."""
    import sympy as sp

    from graders.judge.oracle import SYMBOLS, _declared_reader

    symbols = {name: sp.Symbol(name, real=True) for name in SYMBOLS}
    read = _declared_reader(sp, spec, symbols)
    value = read(spec.value, "value")
    names = signature(spec).names
    if solution:
        return _python(value, names), textwrap.dedent(solution).strip()
    lines = []
    for symbol in spec.inputs:
        target = "self" if symbol == "x" else "other"
        local = sp.piecewise_fold(sp.diff(value, symbols[symbol]))
        lines.append(f"{target}.grad += ({_python(local, names)}) * out.grad")
    return _python(value, names), "\n".join(lines)


def body(spec: OpSpec, todo: str, indent: int) -> str:
    """The lines that compute `out`, set its `_backward` and return it. `todo` is the stub
    (`authoring.todo` at `indent + 4`: its first line unindented, the rest indented)."""
    forward, _ = forward_and_solution(spec)
    sig = signature(spec)
    children = ", ".join(["self", *sig.values]) + ("," if not sig.values else "")
    pad = " " * indent
    lines = [f"{pad}other = other if isinstance(other, Value) else Value(other)"
             for _ in sig.values[:1]]
    lines += [f"{pad}out = Value({forward}, ({children}), {spec.key!r})", "",
              f"{pad}def _backward():", f"{pad}    {todo}", "",
              f"{pad}out._backward = _backward", f"{pad}return out"]
    return "\n".join(lines) + "\n"


def method(spec: OpSpec, todo: str) -> str:
    """A whole method for a declared op the base class does not have."""
    params = ", ".join(["self", *signature(spec).params])
    return (f"    def {spec.method}({params}):  # task {spec.task}: {spec.title}\n"
            + body(spec, todo, 8))


def branch(spec: OpSpec, todo: str) -> str:
    """The same op as a branch at the top of a method the base class has (its operand is a
    Value here, a plain number in the base's own code)."""
    return (f"        if isinstance(other, Value):  # task {spec.task}: {spec.title}\n"
            + body(spec, todo, 12).replace(
                "            other = other if isinstance(other, Value) else Value(other)\n", "",
                1))
