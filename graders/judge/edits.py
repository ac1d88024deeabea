"""The line that is wrong: the catalogue's single edits of a failing op's own code, verified.

For an op that fails, every mistake the catalogue (graders/spec/optable.py) lists for it names
the edit that undoes it (`Mistake.fix`, a key of `FIXES`). This module finds where in the
student's own method each edit applies and writes the edited method's source (`candidates`);
`api.grade` runs each edited method in the same sandboxed child with the op's own probes, and
`located` names a line only when exactly one edit made every check pass. Parsing the submitted
text is not running it: the edited code runs only in the child; nothing here is a guess.
"""

from __future__ import annotations

import ast
import copy
import pickle
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from graders.model import WrongLine
from graders.spec import optable
from graders.spec.optable import OpSpec

MAX_EDITS = 24  # edited variants asked per failing op: the cost of a failing grade is bounded
MAX_OPS = 8  # failing ops searched per submission
MAX_CELL_CHARS = 200_000  # a cell larger than this is not parsed for edits
# What an edit of a strange tree may raise (nesting past the recursion limit, a node no code
# makes): that edit is not made, and the parent goes on
CANNOT = (RecursionError, MemoryError, ValueError, TypeError, AttributeError, IndexError,
          pickle.PicklingError)


@dataclass(frozen=True)
class Candidate:
    """One edit of one op's method: what it undoes, where, and the method it makes."""

    op: str
    method: str
    mistake: str
    title: str
    cell: int
    lines: tuple[int, ...]
    was: tuple[str, ...]
    fix: tuple[str, ...]
    source: str  # the edited method as a `def` at column 0, run in the child only

    def located(self, notebook: bool, show_fix: bool) -> WrongLine:
        return WrongLine(self.cell if notebook else None, self.lines, self.mistake, self.title,
                         self.was, self.fix, show_fix)


@dataclass
class Scope:
    """What the edits need to know about one method of `Value`: its parameters (the first is
    the op's input x, the second its other operand), which of them are `Value`s, the name of
    the output `Value`, and the names that stand for an input's or the output's value."""

    method: ast.FunctionDef
    closure: ast.FunctionDef | None
    params: list[str]
    values: list[str]  # params that are `Value`s (their `.grad` is the op's to update)
    out: str | None
    input_aliases: dict[str, str]  # name -> param: `x = self.data`
    output_aliases: set[str]  # `t` in `out = Value(t, ...)`

    def is_input_value(self, node: ast.AST, param: str | None = None) -> bool:
        if isinstance(node, ast.Attribute) and node.attr == "data" \
                and isinstance(node.value, ast.Name) and node.value.id in self.values:
            return param is None or node.value.id == param
        return isinstance(node, ast.Name) and node.id in self.input_aliases \
            and (param is None or self.input_aliases[node.id] == param)

    def is_output_value(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute) and node.attr == "data" \
                and isinstance(node.value, ast.Name) and node.value.id == self.out:
            return True
        return isinstance(node, ast.Name) and node.id in self.output_aliases

    def output_value(self) -> ast.expr:
        return _attr(self.out or "out", "data")

    def upstream(self) -> ast.expr:
        return _attr(self.out or "out", "grad")


def _copy(node: ast.AST) -> ast.AST:
    """A deep copy of a syntax tree: through pickle, a few times faster than `copy.deepcopy`
    (copying was most of what the search cost the parent)."""
    return pickle.loads(pickle.dumps(node, pickle.HIGHEST_PROTOCOL))


def _attr(name: str, attr: str) -> ast.expr:
    return ast.Attribute(ast.Name(name, ast.Load()), attr, ast.Load())


def _is_value_call(node: ast.AST) -> bool:
    """`Value(...)`, `type(self)(...)` or `self.__class__(...)`: the op's output being made."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "Value") or (
        isinstance(func, ast.Call) and isinstance(func.func, ast.Name)
        and func.func.id == "type") or (
        isinstance(func, ast.Attribute) and func.attr == "__class__")


def scope(method: ast.FunctionDef, spec: OpSpec) -> Scope:
    """The method's scope for the edits (see `Scope`)."""
    params = [arg.arg for arg in method.args.args]
    values = params[:len(spec.inputs)] if spec.kind == "op" else params[:1]
    out, closure, closure_name = None, None, "_backward"
    aliases: dict[str, str] = {}
    outputs: set[str] = set()
    for node in method.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Attribute) and target.attr == "_backward" \
                    and isinstance(target.value, ast.Name) and isinstance(value, ast.Name):
                closure_name = value.id
                if target.value.id not in params:  # not stored on an input (a mistake)
                    out = target.value.id
            elif isinstance(target, ast.Name) and _is_value_call(value):
                out = out or target.id
                if value.args and isinstance(value.args[0], ast.Name):
                    outputs.add(value.args[0].id)
            elif isinstance(target, ast.Name) and isinstance(value, ast.Attribute) \
                    and value.attr == "data" and isinstance(value.value, ast.Name) \
                    and value.value.id in params:
                aliases[target.id] = value.value.id
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Name) and out is None:
            out = node.value.id
    for node in method.body:
        if isinstance(node, ast.FunctionDef) and node.name == closure_name:
            closure = node
    return Scope(method, closure, params, values, out, aliases, outputs)


def _grad_target(node: ast.stmt, values: Sequence[str]) -> str | None:
    """The param whose `.grad` the statement sets (`self.grad += ...`), if it is one."""
    target = node.target if isinstance(node, ast.AugAssign) else \
        node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
    if isinstance(target, ast.Attribute) and target.attr == "grad" \
            and isinstance(target.value, ast.Name) and target.value.id in values:
        return target.value.id
    return None


def _walk_statements(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Every statement of `body`, nested blocks too, not those of nested functions."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for name in ("body", "orelse", "finalbody"):
            yield from _walk_statements(getattr(node, name, []) or [])
        for handler in getattr(node, "handlers", []) or []:
            yield from _walk_statements(handler.body)


def _replace_in(expr: ast.expr, match: Callable[[ast.AST], bool],
                make: Callable[[ast.expr], ast.expr], skip_exponents: bool = False) -> int:
    """Replace every subexpression of `expr` (not `expr` itself) that `match`es; how many."""
    count = 0
    for parent in ast.walk(expr):
        for name, value in ast.iter_fields(parent):
            if skip_exponents and isinstance(parent, ast.BinOp) \
                    and isinstance(parent.op, ast.Pow) and name == "right":
                continue
            if isinstance(value, ast.AST) and match(value):
                setattr(parent, name, make(value))
                count += 1
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, ast.AST) and match(item):
                        value[index] = make(item)
                        count += 1
    return count


def _on_value(statement: ast.stmt, edit: Callable[[ast.expr], ast.expr | None]) -> bool:
    """Apply `edit` to the statement's right-hand side; True when it changed something."""
    new = edit(statement.value)
    if new is None:
        return False
    statement.value = new
    return True


def _in_place(match: Callable[[ast.AST], bool], make: Callable[[ast.expr], ast.expr],
              skip_exponents: bool = False) -> Callable[[ast.expr], ast.expr | None]:
    def edit(value: ast.expr) -> ast.expr | None:
        holder = ast.Expr(value)
        count = _replace_in(holder, match, make, skip_exponents)
        return holder.value if count else None
    return edit


def _mentions(expr: ast.AST, match: Callable[[ast.AST], bool]) -> bool:
    return any(match(node) for node in ast.walk(expr))


# --- the fixes: each edits one statement in place, or says it does not apply -----------------
# A fix takes (statement, scope) and returns True when it changed it; it is tried at each
# statement of the closure that updates an input's `.grad` (`_sites`).


def _accumulate(s: ast.stmt, sc: Scope) -> bool:
    if not isinstance(s, ast.Assign):
        return False
    s.__class__ = ast.AugAssign
    s.target, s.op = s.targets[0], ast.Add()
    del s.targets
    return True


def _times_upstream(s: ast.stmt, sc: Scope) -> bool:
    if not (isinstance(s, ast.AugAssign) and isinstance(s.op, (ast.Add, ast.Sub))) \
            or _mentions(s.value, lambda n: ast.dump(n) == ast.dump(sc.upstream())):
        return False
    s.value = ast.BinOp(s.value, ast.Mult(), sc.upstream())
    return True


def _upstream_accumulate(s: ast.stmt, sc: Scope) -> bool:
    if not isinstance(s, ast.Assign) or \
            _mentions(s.value, lambda n: ast.dump(n) == ast.dump(sc.upstream())):
        return False
    _accumulate(s, sc)
    s.value = ast.BinOp(s.value, ast.Mult(), sc.upstream())
    return True


def _flip_sign(s: ast.stmt, sc: Scope) -> bool:
    if isinstance(s, ast.AugAssign) and isinstance(s.op, ast.Sub):
        s.op = ast.Add()
        return True
    if isinstance(s, ast.AugAssign) and isinstance(s.value, ast.UnaryOp) \
            and isinstance(s.value.op, ast.USub):
        s.value = s.value.operand
        return True
    return False


def _other_operand(s: ast.stmt, sc: Scope) -> bool:
    own = _grad_target(s, sc.values)
    others = [p for p in sc.values if p != own]
    if len(others) != 1:
        return False
    return _on_value(s, _in_place(lambda n: sc.is_input_value(n, own),
                                  lambda n: _attr(others[0], "data")))


def _output_for_input(s: ast.stmt, sc: Scope) -> bool:
    own = _grad_target(s, sc.values)
    return _on_value(s, _in_place(lambda n: sc.is_input_value(n, own),
                                  lambda n: sc.output_value()))


def _square_output(s: ast.stmt, sc: Scope) -> bool:
    return _on_value(s, _in_place(sc.is_output_value,
                                  lambda n: ast.BinOp(n, ast.Pow(), ast.Constant(2)),
                                  skip_exponents=True))


def _squared(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) \
        and isinstance(node.right, ast.Constant) and node.right.value == 2


def _one_minus_square(s: ast.stmt, sc: Scope) -> bool:
    return _on_value(s, _in_place(_squared,
                                  lambda n: ast.BinOp(ast.Constant(1), ast.Sub(), n)))


def _output_one_minus(s: ast.stmt, sc: Scope) -> bool:
    def make(n: ast.expr) -> ast.expr:
        return ast.BinOp(n, ast.Mult(), ast.BinOp(ast.Constant(1), ast.Sub(), copy.deepcopy(n)))
    return _on_value(s, _in_place(sc.is_output_value, make))


def _power_of_input(sc: Scope) -> Callable[[ast.AST], bool]:
    return lambda n: isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) \
        and sc.is_input_value(n.left)


def _lower_exponent(s: ast.stmt, sc: Scope) -> bool:
    def make(n: ast.BinOp) -> ast.expr:
        return ast.BinOp(n.left, ast.Pow(), ast.BinOp(n.right, ast.Sub(), ast.Constant(1)))
    return _on_value(s, _in_place(_power_of_input(sc), make))


def _minus_one(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) \
        and isinstance(node.right, ast.Constant) and node.right.value == 1


def _exponent_coefficient(s: ast.stmt, sc: Scope) -> bool:
    if len(sc.params) < 2 or _mentions(
            s.value, lambda n: isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) and any(
                isinstance(side, ast.Name) and side.id == sc.params[1]
                for side in (n.left, n.right))):
        return False

    def make(n: ast.BinOp) -> ast.expr:
        k = n.right.left if _minus_one(n.right) else \
            ast.BinOp(n.right, ast.Add(), ast.Constant(1))
        return ast.BinOp(copy.deepcopy(k), ast.Mult(), n)
    return _on_value(s, _in_place(_power_of_input(sc), make))


def _coefficient_k(s: ast.stmt, sc: Scope) -> bool:
    return _on_value(s, _in_place(_minus_one, lambda n: n.left, skip_exponents=True))


def _exponent_parentheses(s: ast.stmt, sc: Scope) -> bool:
    def match(n: ast.AST) -> bool:
        return isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) \
            and _power_of_input(sc)(n.left)

    def make(n: ast.BinOp) -> ast.expr:
        power = n.left
        return ast.BinOp(power.left, ast.Pow(), ast.BinOp(power.right, ast.Sub(), n.right))
    return _on_value(s, _in_place(match, make))


NEGATED = {ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.GtE: ast.Lt}


def _flip_mask(s: ast.stmt, sc: Scope) -> bool:
    def match(n: ast.AST) -> bool:
        return isinstance(n, ast.Compare) and len(n.ops) == 1 and type(n.ops[0]) in NEGATED

    def make(n: ast.Compare) -> ast.expr:
        return ast.Compare(n.left, [NEGATED[type(n.ops[0])]()], n.comparators)
    return _on_value(s, _in_place(match, make))


def _mask(sc: Scope) -> ast.expr:
    return ast.Compare(sc.output_value(), [ast.Gt()], [ast.Constant(0)])


def _add_mask(s: ast.stmt, sc: Scope) -> bool:
    if not isinstance(s, ast.AugAssign) or _mentions(s.value, lambda n: isinstance(
            n, (ast.Compare, ast.IfExp))):
        return False
    s.value = ast.BinOp(_mask(sc), ast.Mult(), s.value)
    return True


def _mask_output(s: ast.stmt, sc: Scope) -> bool:
    if _mentions(s.value, lambda n: isinstance(n, (ast.Compare, ast.IfExp))):
        return False
    return _on_value(s, _in_place(sc.is_output_value,
                                  lambda n: ast.Compare(n, [ast.Gt()], [ast.Constant(0)])))


def _square_divisor(s: ast.stmt, sc: Scope) -> bool:
    def match(n: ast.AST) -> bool:
        return isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) \
            and sc.is_input_value(n.right) and not _squared(n.right)

    def make(n: ast.BinOp) -> ast.expr:
        return ast.BinOp(n.left, ast.Div(), ast.BinOp(n.right, ast.Pow(), ast.Constant(2)))
    return _on_value(s, _in_place(match, make))


def _divide_by_divisor(s: ast.stmt, sc: Scope) -> bool:
    own = _grad_target(s, sc.values)
    others = [p for p in sc.values if p != own]
    if len(others) != 1:
        return False
    return _on_value(s, _in_place(lambda n: sc.is_input_value(n, others[0]),
                                  lambda n: ast.BinOp(ast.Constant(1), ast.Div(), n)))


def _log_derivative(s: ast.stmt, sc: Scope) -> bool:
    def match(n: ast.AST) -> bool:
        func = getattr(n, "func", None)
        name = func.id if isinstance(func, ast.Name) else \
            func.attr if isinstance(func, ast.Attribute) else ""
        return isinstance(n, ast.Call) and name == "log" and len(n.args) == 1

    return _on_value(s, _in_place(match, lambda n: ast.BinOp(ast.Constant(1), ast.Div(),
                                                             n.args[0])))


FIXES: dict[str, Callable[[ast.stmt, Scope], bool]] = {
    "accumulate": _accumulate,
    "times_upstream": _times_upstream,
    "upstream_accumulate": _upstream_accumulate,
    "flip_sign": _flip_sign,
    "other_operand": _other_operand,
    "output_for_input": _output_for_input,
    "square_output": _square_output,
    "one_minus_square": _one_minus_square,
    "output_one_minus": _output_one_minus,
    "lower_exponent": _lower_exponent,
    "exponent_coefficient": _exponent_coefficient,
    "coefficient_k": _coefficient_k,
    "exponent_parentheses": _exponent_parentheses,
    "flip_mask": _flip_mask,
    "add_mask": _add_mask,
    "mask_output": _mask_output,
    "square_divisor": _square_divisor,
    "divide_by_divisor": _divide_by_divisor,
    "log_derivative": _log_derivative,
}


# --- fixes that replace a whole statement (a missing one, or one outside the closure) --------


def _derivative_expression(text: str, sc: Scope, spec: OpSpec) -> ast.expr | None:
    """The oracle's local derivative as code over the method's names (x -> self.data, the
    other operand -> other.data or other), or None when it needs more than arithmetic."""
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval").body
    except SyntaxError:
        return None
    names = {spec.inputs[0]: sc.params[0]} if sc.params else {}
    rest = [s for s in (spec.symbols or ("x", "y", "c", "k")) if s != spec.inputs[0]
            and s in spec.build]
    if len(sc.params) > 1 and rest:
        names[rest[0]] = sc.params[1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) or (isinstance(node, ast.Name) and node.id not in names):
            return None

    def make(n: ast.Name) -> ast.expr:
        param = names[n.id]
        return _attr(param, "data") if param in sc.values else ast.Name(param, ast.Load())
    holder = ast.Expr(tree)
    _replace_in(holder, lambda n: isinstance(n, ast.Name), make)
    return holder.value


def _update_missing(s: ast.stmt, sc: Scope, spec: OpSpec,
                    derivative: dict[str, str]) -> ast.stmt | None:
    if not isinstance(s, ast.Pass) or sc.closure is None:
        return None
    updated = {_grad_target(n, sc.values) for n in _walk_statements(sc.closure.body)}
    missing = [p for p in sc.values if p not in updated]
    if len(missing) != 1 or len(sc.values) < 2:  # one input of several: not an unwritten stub
        return None
    symbol = spec.inputs[sc.values.index(missing[0])]
    local = _derivative_expression(derivative.get(symbol, ""), sc, spec)
    if local is None:
        return None
    return ast.AugAssign(_attr(missing[0], "grad"), ast.Add(),
                         ast.BinOp(local, ast.Mult(), sc.upstream()))


def _closure_on_output(s: ast.stmt, sc: Scope, spec: OpSpec,
                       derivative: dict[str, str]) -> ast.stmt | None:
    if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and sc.out) or \
            _grad_target(s, sc.params) is not None:
        return None
    target = s.targets[0]
    if isinstance(target, ast.Attribute) and target.attr == "_backward" \
            and isinstance(target.value, ast.Name) and target.value.id in sc.params:
        return ast.Assign([_attr(sc.out, "_backward")], s.value, lineno=s.lineno)
    return None


def _swap_forward(s: ast.stmt, sc: Scope, spec: OpSpec,
                  derivative: dict[str, str]) -> ast.stmt | None:
    """`a - b` written for `b - a`: swapped, or, in a reflected method (`__rsub__`, where
    swapping would call the method itself again), negated."""
    if not (isinstance(s, ast.Return) and isinstance(s.value, ast.BinOp)
            and isinstance(s.value.op, (ast.Sub, ast.Div, ast.Pow))):
        return None
    value = s.value
    if not sc.method.name.startswith("__r"):
        return ast.Return(ast.BinOp(value.right, value.op, value.left))
    if isinstance(value.op, ast.Sub):
        return ast.Return(ast.UnaryOp(ast.USub(), value))
    if isinstance(value.op, ast.Div):
        return ast.Return(ast.BinOp(value, ast.Pow(), ast.Constant(-1)))
    return None


def _reverse_order(s: ast.stmt, sc: Scope, spec: OpSpec,
                   derivative: dict[str, str]) -> ast.stmt | None:
    calls_backward = _mentions(ast.Module(s.body if isinstance(s, ast.For) else [], []),
                               lambda n: isinstance(n, ast.Attribute) and n.attr == "_backward")
    if isinstance(s, ast.For) and calls_backward and isinstance(s.iter, ast.Name):
        new = copy.copy(s)
        new.iter = ast.Call(ast.Name("reversed", ast.Load()), [s.iter], [])
        return new
    return None


def _seed_output(s: ast.stmt, sc: Scope, spec: OpSpec,
                 derivative: dict[str, str]) -> ast.stmt | None:
    seeded = any(_grad_target(n, sc.params[:1]) for n in sc.method.body)
    if isinstance(s, ast.Pass) and sc.params and not seeded and s in sc.method.body:
        return ast.Assign([_attr(sc.params[0], "grad")], ast.Constant(1.0), lineno=s.lineno)
    return None


def _visited_check(s: ast.stmt, sc: Scope, spec: OpSpec,
                   derivative: dict[str, str]) -> ast.stmt | None:
    if not (isinstance(s, ast.If) and isinstance(s.test, ast.Constant) and s.test.value is True):
        return None
    sets = [n.targets[0].id for n in sc.method.body if isinstance(n, ast.Assign)
            and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
            and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Name)
            and n.value.func.id == "set" and not n.value.args]
    inner = next((f for f in sc.method.body if isinstance(f, ast.FunctionDef)
                  and s in list(_walk_statements(f.body)) and f.args.args), None)
    if len(sets) != 1 or inner is None:
        return None
    new = copy.copy(s)
    new.test = ast.Compare(ast.Name(inner.args.args[0].arg, ast.Load()), [ast.NotIn()],
                           [ast.Name(sets[0], ast.Load())])
    return new


StatementFix = Callable[[ast.stmt, Scope, OpSpec, dict[str, str]], "ast.stmt | None"]
# Fixes that replace a statement, and where they look: the closure, or the method's own body.
REPLACING: dict[str, tuple[str, StatementFix]] = {
    "update_missing": ("closure", _update_missing),
    "closure_on_output": ("method", _closure_on_output),
    "swap_forward": ("method", _swap_forward),
    "reverse_order": ("method", _reverse_order),
    "seed_output": ("method", _seed_output),
    "visited_check": ("method", _visited_check),
}


def catalogue(spec: OpSpec) -> list[tuple[str, str, str]]:
    """(mistake key, title, fix) of every catalogued mistake an edit can undo in this op: the
    generic ones and the observed ones for an op, then the op's own (optable)."""
    found: list[tuple[str, str, str]] = []
    if spec.kind == "op":
        found += [(m.key, m.title, m.fix) for m in optable.GENERIC_MISTAKES]
        found += [(m.key, m.title, m.fix) for m in optable.OBSERVED_MISTAKES]
    found += [(m.key, m.title, m.fix) for m in spec.mistakes]
    return [(key, title, fix) for key, title, fix in found
            if fix in FIXES or fix in REPLACING]


# --- finding the method and making the candidates --------------------------------------------


def find_method(cells: Sequence[tuple[int, str]], method: str
                ) -> tuple[int, str, ast.FunctionDef] | None:
    """The last `def METHOD` in a top-level `class Value` of the cells: the one that stands."""
    found = None
    for index, source in cells:
        if len(source) > MAX_CELL_CHARS or "class Value" not in source:
            continue
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == "Value":
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == method:
                        found = (index, source, item)
    return found


def _sites(sc: Scope, fix: str) -> list[ast.stmt]:
    if fix in FIXES:
        if sc.closure is None:
            return []
        return [s for s in _walk_statements(sc.closure.body) if _grad_target(s, sc.values)]
    where = REPLACING[fix][0]
    if where == "closure":
        return [] if sc.closure is None else list(_walk_statements(sc.closure.body))
    return [node for node in ast.walk(sc.method) if isinstance(node, ast.stmt)
            and node is not sc.method]


def _header(statement: ast.stmt) -> str:
    return ast.unparse(statement).splitlines()[0].rstrip(":") + \
        (":" if isinstance(statement, (ast.For, ast.If, ast.While, ast.With)) else "")


def _replace_statement(root: ast.AST, old: ast.stmt, new: ast.stmt) -> None:
    for parent in ast.walk(root):
        for name in ("body", "orelse", "finalbody"):
            body = getattr(parent, name, None)
            if isinstance(body, list) and any(item is old for item in body):
                body[[id(item) for item in body].index(id(old))] = new
                return


def _applies(statement: ast.stmt, sc: Scope, spec: OpSpec, fix: str,
             derivative: dict[str, str]) -> bool:
    """Whether `fix` applies at one site, tried on a copy of that statement alone (a copy of
    the whole method is made only for the edits that apply: copying was most of the cost)."""
    if fix in FIXES:
        return FIXES[fix](_copy(statement), sc)
    return REPLACING[fix][1](statement, sc, spec, derivative) is not None


def _edited(method: ast.FunctionDef, spec: OpSpec, fix: str, chosen: Sequence[int],
            derivative: dict[str, str]) -> tuple[ast.FunctionDef, list[ast.stmt]] | None:
    """A copy of the method with `fix` applied at the chosen sites (indices into `_sites`);
    None unless it applies at every one of them."""
    edited = _copy(method)
    sc = scope(edited, spec)
    sites = _sites(sc, fix)
    changed = []
    for index in chosen:
        statement = sites[index]
        if fix in FIXES:
            if not FIXES[fix](statement, sc):
                return None
            changed.append(statement)
            continue
        new = REPLACING[fix][1](statement, sc, spec, derivative)
        if new is None:
            return None
        ast.copy_location(new, statement)
        _replace_statement(edited, statement, new)
        changed.append(new)
    return edited, changed


def candidates(spec: OpSpec, cells: Sequence[tuple[int, str]],
               derivative: dict[str, str] | None = None) -> list[Candidate]:
    """Every catalogued single edit of the op's method that applies, at one site or at every
    site of its kind at once (a mistake written in each input's line), deduplicated by the
    code it makes, at most MAX_EDITS. `derivative` is the oracle's local derivative per input
    (text), for a missing update; `cells` are (index, source) of the submission."""
    if not spec.method:
        return []
    found = find_method(cells, spec.method)
    if found is None:
        return []
    index, source, method = found
    lines = source.splitlines()
    try:
        original = ast.unparse(method)
    except CANNOT:
        return []
    seen = {original}
    made: list[Candidate] = []
    sc = scope(method, spec)
    for key, title, fix in catalogue(spec):
        try:  # whatever the submission holds, the parent never fails on it: no edit is all
            sites = _sites(sc, fix)
            applies = [i for i, site in enumerate(sites) if _applies(site, sc, spec, fix,
                                                                     derivative or {})]
        except CANNOT:
            continue
        whole = [applies] if len(applies) > 1 and len(applies) == len(sites) else []
        for chosen in [[i] for i in applies] + whole:
            try:
                edited = _edited(method, spec, fix, chosen, derivative or {})
                text = None if edited is None else ast.unparse(edited[0])
            except CANNOT:
                continue
            if edited is None:
                continue
            changed = edited[1]
            if text in seen:
                continue
            seen.add(text)
            at = tuple(sorted({s.lineno for s in changed}))
            made.append(Candidate(
                spec.key, spec.method, key, title, index, at,
                tuple(lines[n - 1].strip() for n in at if 0 < n <= len(lines)),
                tuple(_header(s) for s in changed), text))
            if len(made) >= MAX_EDITS:
                return made
    return made


def located(passed: Sequence[Candidate], notebook: bool, show_fix: bool) -> WrongLine | None:
    """The line to name: only when exactly one edit tried made the op pass every check."""
    if len(passed) != 1:
        return None
    return passed[0].located(notebook, show_fix)
