"""Ops an instructor declares in an assignment config: `[op.KEY]` tables become `OpSpec` rows.

A config lists the graded ops in `ops = [...]` (a subset or order, as for built-in ones) and
declares a new one in an `[op.KEY]` table. A declared op is the same row the built-in table
holds (`graders.spec.optable.OpSpec`), so the oracle, probes, scorer, diagnosis and reports
grade it with no code of its own. This module is pure data handling (standard library only):
it reads the table's shape and the `build` expression's syntax; the oracle then reads the
sympy side (the forward value, the mistakes) and `graders.judge.domains` derives probe
domains where the config gives none.

    [op.sin]
    build = "x.sin()"              # how the student's class computes it; x, y are Values,
    value = "sin(x)"               # c, k plain numbers; the forward value, in sympy
    points = 1
    title = "sin(a)"               # optional: defaults to the value
    task = "2.15"                  # optional: numbered after the base assignment's required tasks
    [op.sin.domain]               # optional: symbols not given are derived from the expression
    x = { low = 0.3, high = 3.0, sign = "both" }
    [[op.sin.mistakes]]           # optional: besides the five generic ones
    key = "cos_sign"
    x = "g - cos(x)*u"             # what x.grad ends as (g: before, u: out.grad)
    hint = "d/dx sin(x) = cos(x), with a plus sign"
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from graders.spec.optable import Domain, Mistake, OpSpec
from graders.spec.settings import unknown_setting

VALUE_SYMBOLS = ("x", "y")  # the op's `Value` inputs
NUMBER_SYMBOLS = ("c", "k")  # plain-number operands
OP_KEYS = {"build", "value", "points", "title", "task", "domain", "mistakes", "note"}
DOMAIN_KEYS = {"low", "high", "sign", "gap", "choices"}
MISTAKE_KEYS = {"key", "hint", "title", *VALUE_SYMBOLS}
KEY = re.compile(r"[a-z][a-z0-9_]{0,30}")

# An operator in `build` and the method of `Value` it calls: the left operand's, or, when the
# left operand is a plain number, the right operand's reflected one.
BINARY_METHODS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
                  ast.Pow: "pow", ast.FloorDiv: "floordiv", ast.Mod: "mod"}
UNARY_METHODS = {ast.USub: "__neg__", ast.UAdd: "__pos__", ast.Invert: "__invert__"}


class DeclarationError(ValueError):
    """A declared op the grader cannot use; the message names the file and the op."""


def _names(tree: ast.AST) -> list[str]:
    return [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]


def method_of(build: str, where: str) -> str:
    """The method of `Value` that `build` calls, or a one-line refusal naming `where`."""
    try:
        tree = ast.parse(build, mode="eval").body
    except SyntaxError:
        raise DeclarationError(f"{where}: build = {build!r} is not a Python expression") from None
    unknown = sorted(set(_names(tree)) - {*VALUE_SYMBOLS, *NUMBER_SYMBOLS})
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
        name = tree.func.id
        raise DeclarationError(f"{where}: build = {build!r} calls a function; Value can only "
                               f"be asked through a method or an operator: x.{name}()")
    if unknown:
        raise DeclarationError(f"{where}: build = {build!r} names {unknown[0]!r}; use x and y "
                               "for Values, c and k for plain numbers")
    if "x" not in _names(tree):
        raise DeclarationError(f"{where}: build = {build!r} must use the Value x")
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Call, ast.Attribute, ast.BinOp, ast.UnaryOp, ast.Name,
                                 ast.Constant, ast.Load, ast.operator, ast.unaryop)):
            raise DeclarationError(f"{where}: build = {build!r}: only one method call or one "
                                   f"operator on x is graded, not {type(node).__name__}")
        if isinstance(node, ast.Constant) and type(node.value) not in (int, float):
            raise DeclarationError(f"{where}: build = {build!r}: constants must be numbers")
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Attribute) \
            and isinstance(tree.func.value, ast.Name) and tree.func.value.id == "x":
        name = tree.func.attr
        if name.startswith("_") or tree.keywords:
            raise DeclarationError(f"{where}: build = {build!r}: call a public method of x "
                                   "with plain arguments")
        if any(not isinstance(arg, (ast.Name, ast.Constant)) for arg in tree.args):
            raise DeclarationError(f"{where}: build = {build!r}: a method's arguments must "
                                   "be x, y, c, k or numbers")
        return name
    if isinstance(tree, ast.BinOp) and type(tree.op) in BINARY_METHODS:
        operands = (tree.left, tree.right)
        if not all(isinstance(o, (ast.Name, ast.Constant)) for o in operands):
            raise DeclarationError(f"{where}: build = {build!r}: one operator between two "
                                   "names or numbers")
        left_is_value = isinstance(tree.left, ast.Name) and tree.left.id in VALUE_SYMBOLS
        stem = BINARY_METHODS[type(tree.op)]
        return f"__{stem}__" if left_is_value else f"__r{stem}__"
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.operand, ast.Name) \
            and tree.operand.id == "x" and type(tree.op) in UNARY_METHODS:
        return UNARY_METHODS[type(tree.op)]
    raise DeclarationError(f"{where}: build = {build!r}: Value cannot be asked to build "
                           "this; write a method call on x (x.sin()) or one operator "
                           "(x ** y, c - x)")


def reuse_of(build: str, value: str) -> tuple[str | None, str | None]:
    """The build and value with y replaced by x (one node used twice), for two-input ops."""
    if "y" not in _names(ast.parse(build, mode="eval")):
        return None, None

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return ast.Name("x", node.ctx) if node.id == "y" else node

    def rename(text: str) -> str:
        return ast.unparse(Rename().visit(ast.parse(text, mode="eval")))

    return rename(build), rename(value)


def _domain(data: Any, where: str) -> Domain:
    if not isinstance(data, dict) or set(data) - DOMAIN_KEYS:
        raise DeclarationError(f"{where}: give a table with {', '.join(sorted(DOMAIN_KEYS))}")
    try:
        return Domain(low=float(data.get("low", 0.3)), high=float(data.get("high", 3.0)),
                      sign=str(data.get("sign", "both")),
                      gap=tuple(map(float, data["gap"])) if data.get("gap") else None,
                      choices=tuple(map(float, data.get("choices", ()))))
    except (TypeError, ValueError):
        raise DeclarationError(f"{where}: low, high and gap must be numbers") from None


def _mistake(data: Any, where: str, inputs: tuple[str, ...]) -> Mistake:
    if not isinstance(data, dict) or set(data) - MISTAKE_KEYS:
        raise DeclarationError(f"{where}: a mistake has key, hint, title and, per input "
                               "(x, y), the formula of what its .grad ends as")
    key, hint = data.get("key"), data.get("hint")
    if not isinstance(key, str) or not KEY.fullmatch(key) or not isinstance(hint, str):
        raise DeclarationError(f"{where}: a mistake needs key (lower_case) and hint (text)")
    grads = {name: data[name] for name in VALUE_SYMBOLS if name in data}
    if not grads or any(not isinstance(text, str) for text in grads.values()):
        raise DeclarationError(f"{where}: mistake {key!r} gives no formula for x or y")
    extra = sorted(set(grads) - set(inputs))
    if extra:
        raise DeclarationError(f"{where}: mistake {key!r} gives a formula for {extra[0]}, "
                               "which is not a Value input of the build")
    return Mistake(key, MappingProxyType(grads), hint, str(data.get("title", "")))


def op_from_data(key: str, data: Any, where: str, task: str) -> OpSpec:
    """One declared op as a table row; `task` is used when the config names none."""
    where = f"{where}: op.{key}"
    if not KEY.fullmatch(key):
        raise DeclarationError(f"{where}: an op key is lower_case letters, digits and _")
    if not isinstance(data, dict):
        raise DeclarationError(f"{where}: expected a table with build, value and points")
    refusal = unknown_setting(data, OP_KEYS, where)
    if refusal:
        raise DeclarationError(refusal)
    for field in ("build", "value"):
        if not isinstance(data.get(field), str) or not data[field].strip():
            raise DeclarationError(f"{where}: {field} is missing (a text expression)")
    points = data.get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        raise DeclarationError(f"{where}: points = {points!r}: give a number >= 0")
    build, value = data["build"].strip(), data["value"].strip()
    method = method_of(build, where)
    names = _names(ast.parse(build, mode="eval"))
    inputs = tuple(name for name in VALUE_SYMBOLS if name in names)
    given = data.get("domain", {})
    if not isinstance(given, dict):
        raise DeclarationError(f"{where}: domain must be a table of symbols")
    symbols = tuple(dict.fromkeys(n for n in names if n in (*VALUE_SYMBOLS, *NUMBER_SYMBOLS)))
    stray = sorted(set(given) - set(symbols))
    if stray:
        raise DeclarationError(f"{where}: domain.{stray[0]}: the build has no {stray[0]}")
    domains: tuple[Mapping[str, Domain], ...] = ()
    if given:  # symbols it leaves out are drawn from the derived domain
        domains = (MappingProxyType({n: _domain(given[n], f"{where}: domain.{n}")
                                     for n in symbols if n in given}),)
    mistakes = data.get("mistakes", [])
    if not isinstance(mistakes, list):
        raise DeclarationError(f"{where}: mistakes must be a list of tables ([[op.{key}."
                               "mistakes]])")
    reuse, reuse_value = reuse_of(build, value)
    return OpSpec(
        key=key, task=str(data.get("task", task)), title=str(data.get("title", value)),
        build=build, value=value, inputs=inputs, domains=domains, points=float(points),
        method=method, reuse=reuse, reuse_value=reuse_value,
        mistakes=tuple(_mistake(m, where, inputs) for m in mistakes),
        note=str(data.get("note", "")), origin=where.rpartition(": op.")[0],
        symbols=symbols)


def ops_from_data(data: Any, where: str, first_task: tuple[int, int]) -> tuple[OpSpec, ...]:
    """Every `[op.KEY]` table, in the file's order, tasks numbered on from `first_task`."""
    if not isinstance(data, dict):
        raise DeclarationError(f"{where}: op must be a table of [op.KEY] tables")
    major, minor = first_task
    return tuple(op_from_data(key, table, where, f"{major}.{minor + index}")
                 for index, (key, table) in enumerate(data.items()))


def op_to_data(spec: OpSpec) -> dict[str, Any]:
    """A declared op as the `[op.KEY]` table it was read from (an autograder zip carries it)."""
    data: dict[str, Any] = {"build": spec.build, "value": spec.value, "points": spec.points,
                            "title": spec.title, "task": spec.task}
    if spec.note:
        data["note"] = spec.note
    if spec.domains:
        data["domain"] = {name: {"low": d.low, "high": d.high, "sign": d.sign,
                                 "gap": list(d.gap) if d.gap else [],
                                 "choices": list(d.choices)}
                          for name, d in spec.domains[0].items()}
    if spec.mistakes:
        data["mistakes"] = [{"key": m.key, "hint": m.hint, "title": m.title, **m.grads}
                            for m in spec.mistakes]
    return data
