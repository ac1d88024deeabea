"""Draw the probe plan: random points per op from the table's domains, from `os.urandom`.

The plan lives in the parent. The child is sent one group's cases at a time, so points for ops
not yet checked do not exist anywhere the student's code could look. The seed is reported, so a
run can be reproduced with `--seed`.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable
from typing import Any

from graders.judge import programs
from graders.model import CLASS_ROLE as CLASS
from graders.model import CLASS_SUFFIX, REFERENCE_SUFFIX, Case, Group
from graders.spec import optable
from graders.spec.optable import Assignment, Domain, OpSpec

UPSTREAM = Domain(low=0.5, high=2.5, gap=(0.8, 1.25))  # never 1: a missing factor must show
PRE_GRAD = Domain(low=0.5, high=2.0, gap=None)
FD_STEP = (2.0**-52) ** (1 / 3)  # eps^(1/3): balances truncation and rounding error
CHAIN_DEPTH = 10_000
REFERENCE_RANDOM_POINTS = 3

# Roles of the single-use probe points, cycled: each isolates one way a _backward goes wrong.
ROLES = ("gradient", "gradient", "accumulate", "accumulate", "upstream_zero")


def new_seed() -> int:
    return int.from_bytes(os.urandom(6), "big")


def draw(domain: Domain, rng: random.Random) -> float:
    if domain.choices:
        return rng.choice(domain.choices)
    while True:
        magnitude = rng.uniform(domain.low, domain.high)
        if domain.gap is None or not domain.gap[0] < magnitude < domain.gap[1]:
            break
    if domain.sign == "positive":
        return magnitude
    if domain.sign == "negative":
        return -magnitude
    return magnitude if rng.random() < 0.5 else -magnitude


def fd_step(value: float) -> float:
    return FD_STEP * max(abs(value), 1.0)


def _point(spec: OpSpec, index: int, rng: random.Random) -> dict[str, float]:
    """One probe point: from the row's domains, or, for a declared op that gives none, from
    the domain derived from its expression (`graders.judge.domains`)."""
    if spec.domains and not spec.origin:
        domains = spec.domains[index % len(spec.domains)]
        return {name: draw(domain, rng) for name, domain in domains.items()}
    from graders.judge import domains, oracle

    return domains.sample(spec, oracle.declared_op(spec), index, rng, draw)


def _reuse_point(spec: OpSpec, rng: random.Random) -> float | None:
    if spec.domains and not spec.origin:
        return draw(spec.domains[0]["x"], rng)
    from graders.judge import domains, oracle

    if not domains.derived(spec).reuse:
        return None  # x op x sits on a kink or pole of the op: nothing to learn there
    return domains.sample(spec, oracle.declared_op(spec), 0, rng, draw, reuse=True)["x"]


def op_group(spec: OpSpec, rng: random.Random, count: int) -> Group:
    cases = []
    for index in range(count):
        symbols = _point(spec, index, rng)
        role = ROLES[index % len(ROLES)]
        upstream = 0.0 if role == "upstream_zero" else draw(UPSTREAM, rng)
        pre = {n: 0.0 if role == "gradient" else draw(PRE_GRAD, rng) for n in spec.inputs}
        payload: dict[str, Any] = {
            "build": spec.build,
            "leaves": {n: symbols[n] for n in spec.inputs},
            "consts": {n: v for n, v in symbols.items() if n not in spec.inputs},
            "pre": pre,
            "upstream": upstream,
        }
        if role == "gradient":
            payload["fd"] = {n: fd_step(symbols[n]) for n in spec.inputs}
        if index == 0:  # once per op: can the student's own backward() walk the node it makes?
            payload["own_backward"] = True
        values = {**symbols, "u": upstream}
        cases.append(Case(f"{spec.key}/{index}", spec.kind, role, payload, values))
    if spec.reuse:
        for index in range(2):
            x = _reuse_point(spec, rng)
            if x is None:
                break
            upstream, pre = draw(UPSTREAM, rng), draw(PRE_GRAD, rng)
            payload = {"build": spec.reuse, "leaves": {"x": x}, "consts": {},
                       "pre": {"x": pre}, "upstream": upstream}
            cases.append(Case(f"{spec.key}/reuse{index}", spec.kind, "reuse", payload,
                              {"x": x, "u": upstream}))
    return Group(spec.key, cases, spec.method, spec.library)


def _leaf(rng: random.Random) -> float:
    return draw(optable.Domain(low=0.3, high=2.0), rng)


def diamond(rng: random.Random, prefix: str = "") -> dict[str, Any]:
    a, b = _leaf(rng), _leaf(rng)
    return {
        "name": f"{prefix}diamond",
        "nodes": [["a", "leaf", a], ["b", "leaf", b], ["c", "+", "a", "b"],
                  ["d", "*", "a", "b"], ["e", "+", "c", "d"], ["f", "*", "c", "d"],
                  ["y", "+", "e", "f"]],
        "root": "y",
    }


def single(rng: random.Random) -> dict[str, Any]:
    return {"name": "seed", "nodes": [["a", "leaf", _leaf(rng)], ["b", "leaf", _leaf(rng)],
                                      ["y", "*", "a", "b"]], "root": "y"}


def chain(rng: random.Random) -> dict[str, Any]:
    return {"name": "chain", "chain": CHAIN_DEPTH, "x": _leaf(rng), "report": ["x"]}


# One payload builder per graph check of the table (optable.BACKWARD_GRAPHS), by key.
GRAPH_BUILDERS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "diamond": lambda rng: {"graphs": [diamond(rng)]},
    "seed": lambda rng: {"graphs": [single(rng)]},
    "chain": lambda rng: {"graphs": [chain(rng)]},
    "repeat": lambda rng: {"graphs": [diamond(rng, "first "), single(rng)], "repeat": True},
}


def backward_group(spec: OpSpec, rng: random.Random, count: int) -> Group:
    """One case per graph check, in the table's order (`count` does not apply)."""
    cases = [Case(f"{spec.key}/{check.key}", spec.kind, check.key,
                  GRAPH_BUILDERS[check.key](rng)) for check in optable.BACKWARD_GRAPHS]
    return Group(spec.key, cases, spec.method, spec.library)


def _reference_point_ok(a: float, b: float) -> bool:
    # Away from both relu kinks (b + a, b - a) and from e = 0, where 10/f blows up.
    return abs(a + b) > 0.2 and abs(b - a) > 0.2


def reference_group(spec: OpSpec, rng: random.Random, count: int) -> Group:
    """The lecture's inputs, then random ones (`count` does not apply)."""
    program = list(optable.REFERENCE_PROGRAM)
    points = [dict(optable.REFERENCE_INPUTS)]
    while len(points) < 1 + REFERENCE_RANDOM_POINTS:
        a, b = draw(Domain(low=0.5, high=3.0), rng), draw(Domain(low=0.5, high=3.0), rng)
        if _reference_point_ok(a, b):
            points.append({"a": a, "b": b})
    cases = []
    for index, point in enumerate(points):
        role = "lecture" if index == 0 else "random"
        cases.append(Case(f"{spec.key}/{index}", spec.kind, role,
                          {"a": point["a"], "b": point["b"], "program": program}, point))
    return Group(spec.key, cases)


# --- class-wide probe points ----------------------------------------------------------------

CLASS_PROBES = len(ROLES)  # one of each role: every behaviour the scorer sees shows here too


def class_seed(key: str) -> int:
    """The same for every submission, gradebook and run: one op's class-wide points."""
    return int(hashlib.sha256(f"gradkit class-wide probes v1: {key}".encode())
               .hexdigest()[:12], 16)


def class_cases(spec: OpSpec) -> list[Case]:
    """Probe points every submission is asked at, besides its own random ones: answers that
    agree there behave the same, so the class's shared wrong answers can be grouped
    (graders/judge/clusters.py). They never count for points: only the submission's own
    points, which nobody can predict, do."""
    rng = random.Random(class_seed(spec.key))
    if spec.kind == "op":
        cases = op_group(spec, rng, CLASS_PROBES).cases
    elif spec.kind == "backward":  # the deep chain only says "too slow", not how it is wrong
        cases = [c for c in backward_group(spec, rng, 0).cases if c.role != "chain"]
    else:
        return []
    return [Case(case.id.replace("/", f"/{CLASS}-", 1), case.kind, CLASS,
                 {name: value for name, value in case.payload.items()
                  if name not in ("fd", "own_backward")},
                 case.values) for case in cases]


def class_group(spec: OpSpec, group: Group) -> Group | None:
    """The op's class-wide points as a group of their own, asked like `group`."""
    cases = class_cases(spec)
    return Group(spec.key + CLASS_SUFFIX, cases, group.method, group.library) if cases else None


Planner = Callable[[OpSpec, random.Random, int], Group]
PLANNERS: dict[str, Planner] = {"op": op_group, "backward": backward_group,
                                "reference": reference_group, "task": programs.plan}




def primitive_rules(keys) -> dict[str, dict[str, Any]]:
    """The grader's rule for each op of `keys`, for the child to stand in for the student's:
    method name, operand symbols in order, which are Values, the forward value and each
    Value's local derivative as arithmetic (the oracle's own formulas, so nothing is written
    twice). A rule is a whole correct op: it makes the node itself, so it stands in for a
    method that is wrong, raises, is missing or breaks the forward alike."""
    from graders.judge import oracle

    derived = oracle.load().ops
    rules = {}
    for key in sorted(keys):
        primitive = optable.op(key)
        if primitive.kind != "op" or key not in derived:
            continue
        codes = {name: formula.code for name, formula in derived[key].derivative.items()}
        consts = [name for name in primitive.domains[0] if name not in primitive.inputs]
        rules[key] = {"method": primitive.method, "symbols": [*primitive.inputs, *consts],
                      "inputs": list(primitive.inputs), "value": derived[key].value.code,
                      "grads": codes}
    return rules


def stand_ins(spec: OpSpec, later: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """The grader's rules for every table op but `spec` itself and the ops checked after it
    (`later`): whatever else the student's code for `spec` calls is correct while it is
    checked, and no op's rule is in the child before that op's own checks are answered."""
    return primitive_rules(key for key, other in optable.ALL.items()
                           if other.kind == "op" and key != spec.key and key not in later
                           and other.method != spec.method)


def checking_order(specs: list[OpSpec]) -> list[OpSpec]:
    """The order the child is asked in. Everything that runs the student's whole class (the
    reference example, backward(), a course task) comes first, before any rule is in the
    child; then the ops, each after the ops it is built from (the table's `built_from`), so
    that the rules an op's checks carry are for ops already checked: a rule a submission
    keeps can never answer a check that counts."""
    whole = [spec for spec in specs if spec.kind != "op"]
    ops = {spec.key: spec for spec in specs if spec.kind == "op"}
    order: list[OpSpec] = []
    placed: set[str] = set()
    while len(order) < len(ops):
        ready = [spec for key, spec in ops.items() if key not in placed
                 and all(dep in placed or dep not in ops for dep in spec.built_from)]
        step = ready[:1] or [next(spec for key, spec in ops.items() if key not in placed)]
        order += step
        placed.update(spec.key for spec in step)
    return whole + order


def with_stand_ins(group: Group, rules: dict[str, Any], suffix: str = "") -> Group:
    cases = [Case(case.id.replace("/", suffix + "/", 1) if suffix else case.id, case.kind,
                  case.role, {**case.payload, "primitives": rules}, case.values)
             for case in group.cases]
    return Group(group.key + suffix, cases, group.method, group.library)


def plan(assignment: Assignment, seed: int) -> list[Group]:
    """Every group of checks for an assignment, drawn from one seeded generator, in the
    checking order (`checking_order`); then each op's class-wide points (from their own
    generators: a submission's points do not change with them), after everything that counts.

    The credit rule (`Assignment.credit`, optable.CREDIT_RULES) decides what an op's checks
    call: under "own-code" each op group runs with the grader's rules standing in for the other
    ops (every one already checked, and every one the assignment does not grade); under
    "end-to-end" with the student's own, and each op built from others is asked once more
    with stand-ins (`@reference`), after everything that counts, only to name the op to fix
    first. The reference example is end to end under both. Points are drawn in the
    assignment's order, so the order asked does not change them."""
    rng = random.Random(seed)
    specs = [assignment.op(key) for key in assignment.ops]
    drawn = {spec.key: PLANNERS[spec.kind](spec, rng, assignment.probes_per_op)
             for spec in specs}
    order = checking_order(specs)
    own = [drawn[spec.key] for spec in order]
    classwide = [class_group(spec, drawn[spec.key]) for spec in order]
    if assignment.credit == "own-code":
        checked = [spec.key for spec in order if spec.kind == "op"]
        rules = {key: stand_ins(assignment.op(key), frozenset(checked[index:]))
                 for index, key in enumerate(checked)}
        own = [with_stand_ins(g, rules[spec.key]) if spec.key in rules else g
               for spec, g in zip(order, own, strict=True)]
        classwide = [with_stand_ins(g, rules[spec.key]) if g and spec.key in rules else g
                     for spec, g in zip(order, classwide, strict=True)]
        return own + [g for g in classwide if g is not None]
    again = [with_stand_ins(g, stand_ins(spec), REFERENCE_SUFFIX)
             for spec, g in zip(order, own, strict=True)
             if spec.kind == "op" and spec.built_from]
    return own + again + [g for g in classwide if g is not None]
