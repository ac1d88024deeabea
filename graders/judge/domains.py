"""Probe domains derived from a declared op's expression, for configs that give none.

An instructor who declares `sin`, `leaky_relu` or `x ** y` should not have to think about where
a probe point is meaningless. sympy finds it from the expression and its derivatives:

- poles (a denominator, `tan`) and non-differentiable points (`Abs`, `Max`, `Heaviside`,
  a Piecewise boundary) are kept at least `MARGIN` away;
- `log` and fractional powers need a positive argument;
- on a kink, probes alternate between its two sides, so a mask that is wrong on one side
  cannot pass by chance;
- a point where a catalogued mistake's gradient comes within `COINCIDENCE` of the right one
  (sin's derivative cos(x) is 0 at π/2, where "forgets out.grad" is right) is redrawn.

Points are drawn by rejection from the default domain (|v| in [0.3, 3], away from 1), so the
derived domain is the default minus what the expression rules out; `describe` says which.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import Any

from graders.judge.oracle import Formula, OpOracle, _formula
from graders.spec.optable import ANY, PLAIN, Domain, OpSpec

MARGIN = 0.1  # distance kept from a pole, a kink or the edge of a log's domain
# Relative closeness at which a point is redrawn: a million times the grader's tolerance, so a
# mistake near a point where it agrees with the answer is still told apart with room to spare.
COINCIDENCE = 1e-3
TYPICAL = {"u": 1.7, "g": 0.6}  # upstream and earlier grad when testing a point for coincidence
ATTEMPTS = 400
SHIFT = 0.05  # how far a coincidence must extend to count as a region, not a crossing


@dataclass(frozen=True)
class Constraint:
    """One thing the expression rules out: `formula` must stay away from 0 (`kind` "avoid"),
    stay above `MARGIN` ("positive"), or take both signs over the probes ("sides")."""

    kind: str
    formula: Formula
    text: str
    why: str


@dataclass(frozen=True)
class Derived:
    base: dict[str, Domain]
    constraints: tuple[Constraint, ...]
    reuse: bool  # a node used twice (y = x) stays off every kink and pole

    def describe(self) -> list[str]:
        said = {"avoid": "≠ 0", "positive": "> 0", "sides": "takes both signs"}
        return [f"{c.text} {said[c.kind]} ({c.why})" for c in self.constraints]


def _walk_constraints(sp: Any, expr: Any, symbols: set[Any]) -> list[tuple[str, Any, str]]:
    found: list[tuple[str, Any, str]] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.exp.is_number:
            if node.exp.is_negative:
                found.append(("avoid", node.base, "a pole"))
            if not node.exp.is_integer:
                found.append(("positive", node.base, "a fractional power"))
        elif isinstance(node, sp.Pow):  # a variable exponent: the base must be positive
            found.append(("positive", node.base, "a variable exponent"))
        elif isinstance(node, sp.log):
            found.append(("positive", node.args[0], "log"))
        elif isinstance(node, (sp.tan, sp.sec)):
            found.append(("avoid", sp.cos(node.args[0]), "a pole"))
        elif isinstance(node, (sp.cot, sp.csc)):
            found.append(("avoid", sp.sin(node.args[0]), "a pole"))
        elif isinstance(node, (sp.Abs, sp.sign, sp.Heaviside)):
            found.append(("sides", node.args[0], "a kink"))
        elif isinstance(node, (sp.Max, sp.Min)):
            first, *rest = node.args
            found += [("sides", first - other, "a kink") for other in rest]
        elif isinstance(node, sp.Piecewise):
            for _, condition in node.args:
                if isinstance(condition, sp.core.relational.Relational):
                    found.append(("sides", condition.lhs - condition.rhs, "a kink"))
    kept = []
    for kind, e, why in found:
        e = sp.simplify(e)
        if kind in ("sides", "avoid") and e.could_extract_minus_sign():
            e = -e  # x - y and y - x are one kink (Max's two partials), one pole
        if not e.free_symbols & symbols or e.is_number:
            continue
        if kind in ("avoid", "positive") and e.is_positive:  # 1 + exp(-x): never binding
            continue
        if kind == "avoid" and e.is_negative:
            continue
        kept.append((kind, e, why))
    return kept


@cache
def _derive(value: str, inputs: tuple[str, ...], symbols: tuple[str, ...]) -> Derived:
    import sympy as sp

    names = {name: sp.Symbol(name, real=True) for name in symbols}
    from sympy.parsing.sympy_parser import parse_expr

    from graders.judge.oracle import DECLARED_FUNCTIONS

    expr = sp.nsimplify(parse_expr(value, local_dict=dict(names), global_dict={
        name: getattr(sp, name) for name in DECLARED_FUNCTIONS}), rational=True)
    parts = [expr, *(sp.diff(expr, names[n]) for n in inputs)]
    seen: dict[tuple[str, str], tuple[str, Any, str]] = {}
    for part in parts:
        for kind, e, why in _walk_constraints(sp, part, set(names.values())):
            seen.setdefault((kind, str(e)), (kind, e, why))
    # A kink's boundary is avoided too: probes stay MARGIN away from it on either side.
    items = list(seen.values())
    items += [("avoid", e, why) for kind, e, why in items if kind == "sides"
              and ("avoid", str(e)) not in seen]
    positive = {str(e) for kind, e, _ in items if kind == "positive"}
    items = [item for item in items if not (item[0] == "avoid" and str(item[1]) in positive)]
    base = {name: (ANY if name in inputs else PLAIN) for name in symbols}
    for kind, e, _ in items:  # a positive symbol is drawn positive, not rejected half the time
        if kind == "positive" and e in names.values():
            base[str(e)] = Domain(sign="positive")
    constraints = tuple(Constraint(kind, _formula(sp, e), str(e), why) for kind, e, why in items)
    reuse = "y" in names and not any(
        (e.subs(names["y"], names["x"]) if "y" in names else e).is_zero
        for kind, e, _ in items if kind in ("sides", "avoid"))
    return Derived(base, constraints, reuse)


def derived(spec: OpSpec) -> Derived:
    """The derived domain of a declared op (cached per expression). Ranges the config gives
    replace the derived ones for their symbols; the expression's constraints (poles, kinks,
    log) hold over every range, given or derived."""
    found = _derive(spec.value, spec.inputs, spec.symbols)
    if not spec.domains:
        return found
    return Derived({**found.base, **spec.domains[0]}, found.constraints, found.reuse)


def _holds(constraint: Constraint, point: dict[str, float], side: int) -> bool:
    try:
        value = constraint.formula(**point)
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return False
    if not isinstance(value, float) or value != value:
        return False
    if constraint.kind == "avoid":
        return abs(value) >= MARGIN
    if constraint.kind == "positive":
        return value >= MARGIN
    return value > 0 if side == 0 else value < 0


def _coincides(op: OpOracle, name: str, wrong: Formula, point: dict[str, float]) -> bool:
    values = {**point, **TYPICAL}
    try:
        right = TYPICAL["g"] + TYPICAL["u"] * op.derivative[name](**values)
        got = wrong(**values)
    except (ZeroDivisionError, ValueError, OverflowError):
        return False
    return abs(got - right) <= COINCIDENCE * (abs(right) + 1.0)


def _distinct(op: OpOracle, point: dict[str, float]) -> bool:
    """No catalogued mistake's gradient is within COINCIDENCE of the right one here, unless it
    is right over a whole neighbourhood (a mask wrong on one side of a kink only is right on
    the other, by design: the sides alternate across probes for it)."""
    nearby = {name: value + SHIFT for name, value in point.items()}
    for name in op.derivative:
        for mistake in op.mistakes:
            wrong = mistake.grads.get(name)
            if wrong is not None and _coincides(op, name, wrong, point) \
                    and not _coincides(op, name, wrong, nearby):
                return False
    return True


def sample(spec: OpSpec, op: OpOracle, index: int, rng: random.Random, draw,
           *, reuse: bool = False) -> dict[str, float]:
    """One probe point for a declared op: drawn from the derived domain's base, redrawn
    until every constraint holds. Probe `index` picks the side of each kink (alternating)."""
    found = derived(spec)
    kinks = [c for c in found.constraints if c.kind == "sides"]
    for _ in range(ATTEMPTS):
        point = {name: draw(domain, rng) for name, domain in found.base.items()}
        if reuse:
            point["y"] = point["x"]
        sides_ok = all(_holds(c, point, (index >> position) & 1)
                       for position, c in enumerate(kinks)) if not reuse else True
        if sides_ok and all(_holds(c, point, 0) for c in found.constraints
                            if c.kind != "sides") and (reuse or _distinct(op, point)):
            return point
    where = f"{spec.origin}: op.{spec.key}" if spec.origin else f"op {spec.key}"
    raise ValueError(f"{where}: no probe point satisfies {', '.join(found.describe())} "
                     f"in {ATTEMPTS} draws; give [op.{spec.key}.domain]")
