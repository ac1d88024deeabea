"""Name the student's mistake: match their numbers against the catalogue, in the parent only.

A grade says *that* a gradient is wrong; a diagnosis says *which* misconception produced it. The
catalogue is data in `optable` (formulas per op, `GENERIC_MISTAKES`, and `backward()` behaviours).
A mistake is named only when it reproduces the student's numbers at every probe point of that
input, including the points where the student happened to be right: a coincidence at a few points
is never enough, so correct code is never given a diagnosis and one wrong formula is never
mistaken for another. `backward()` is diagnosed by replaying wrong traversal algorithms on the
exact graphs the child was given and comparing every reported gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from graders.judge.oracle import Formula, OpOracle
from graders.judge.probes import Case
from graders.spec import optable

RTOL = 1e-9
ATOL = 1e-12
MAX_SIMULATED_STEPS = 200_000  # a traversal without a visited set can grow exponentially
MAX_ORDERED_NODES = 8  # child orders are enumerated (2^n) only on graphs this small


def _close(got: Any, expected: float, scale: float) -> bool:
    if type(got) not in (int, float) or not math.isfinite(got):
        return False
    return abs(got - expected) <= ATOL + RTOL * max(abs(expected), scale)


def describe(op_key: str, mistake_key: str) -> tuple[str, str]:
    """The (title, hint) of a catalogued mistake, from the op's own entries or the generic ones."""
    for mistake in optable.op(op_key).mistakes:
        if mistake.key == mistake_key:
            return mistake.title or mistake_key.replace("_", " "), mistake.hint
    for generic in optable.GENERIC_MISTAKES:
        if generic.key == mistake_key:
            return generic.title, generic.hint
    raise KeyError(f"{op_key}: no catalogued mistake {mistake_key!r}")


def _entry(op_key: str, mistake_key: str, inputs: list[str], formula: Formula | None,
           local: Formula | None = None) -> dict[str, Any]:
    title, hint = describe(op_key, mistake_key)
    entry: dict[str, Any] = {"key": mistake_key, "title": title, "hint": hint,
                             "input": inputs[0] if inputs else "", "inputs": inputs,
                             "formula": formula.text if formula else ""}
    if formula is not None:
        entry["latex"] = formula.latex
    if local is not None:
        entry["expected_formula"] = local.text
    return entry


# --- single ops: formulas -------------------------------------------------------------------


def _predicts(formula: Formula, name: str, case: Case, got: Any) -> bool:
    values = dict(case.values)
    values["g"] = case.payload["pre"][name]
    try:
        predicted = formula(**values)
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return False
    return _close(got, predicted, scale=abs(values["g"]) + abs(values.get("u", 0.0)))


def _is_right(oracle: OpOracle, name: str, case: Case, got: Any) -> bool:
    g, u = case.payload["pre"][name], case.payload["upstream"]
    local = oracle.derivative[name](**case.values)
    return _close(got, g + u * local, scale=abs(g) + abs(u * local))


def diagnose_op(oracle: OpOracle, observed: dict[str, list[tuple[Case, Any]]]) -> dict | None:
    """The catalogued mistake that reproduces every observed gradient of each wrong input.

    `observed` holds, per input, every single-use probe and the number the student's closure
    produced for it (right or wrong). Op-specific mistakes are tried before generic ones, since
    they say more. The first explained input is the primary diagnosis; others are in "more".
    """
    specific = {m.key for m in optable.op(oracle.key).mistakes}
    ordered = sorted(oracle.mistakes, key=lambda m: m.key not in specific)
    found: list[dict] = []
    for name, cases in observed.items():
        if not cases or all(_is_right(oracle, name, case, got) for case, got in cases):
            continue
        for mistake in ordered:
            formula = mistake.grads.get(name)
            if formula is not None and all(_predicts(formula, name, c, got) for c, got in cases):
                same = next((d for d in found if d["key"] == mistake.key), None)
                if same is not None:
                    same["inputs"].append(name)
                else:
                    found.append(_entry(oracle.key, mistake.key, [name], formula,
                                        oracle.derivative[name]))
                break
    if not found:
        return None
    primary = found[0]
    if len(found) > 1:
        primary["more"] = found[1:]
    return primary


REUSE_OVERWRITES = {
    "key": "reuse_overwrites",
    "title": "loses a contribution when one node is used twice",
    "input": "x",
    "inputs": ["x"],
    "hint": "when one node feeds an op twice (x * x), both contributions must add up in "
            "x.grad: accumulate with += in every branch",
    "formula": "",
}


# --- backward(): behaviours -----------------------------------------------------------------


class _Node:
    """A node of the replayed graph, with the grader's own closure (as the child installs it)."""

    __slots__ = ("a", "b", "data", "grad", "kids", "op")

    def __init__(self, data: float, op: str = "leaf", a: _Node | None = None,
                 b: _Node | None = None) -> None:
        self.data, self.op, self.a, self.b, self.grad = data, op, a, b, 0.0
        self.kids: tuple[_Node, ...] = () if a is None or b is None else (a, b)

    def backward_closure(self) -> None:
        if self.op == "+":
            self.a.grad += self.grad
            self.b.grad += self.grad
        elif self.op == "*":
            self.a.grad += self.b.data * self.grad
            self.b.grad += self.a.data * self.grad


def _build(spec: dict) -> tuple[dict[str, _Node], _Node, list[_Node]]:
    made: dict[str, _Node] = {}
    inner: list[_Node] = []
    if "chain" in spec:
        x = made["x"] = _Node(float(spec["x"]))
        node = x
        for _ in range(int(spec["chain"])):
            node = _Node(node.data + x.data, "+", node, x)
            inner.append(node)
        return made, node, inner
    for item in spec["nodes"]:
        name, op = item[0], item[1]
        if op == "leaf":
            made[name] = _Node(float(item[2]))
        else:
            a, b = made[item[2]], made[item[3]]
            made[name] = _Node(a.data + b.data if op == "+" else a.data * b.data, op, a, b)
            inner.append(made[name])
    return made, made[spec["root"]], inner


class _TooBig(Exception):
    pass


def _topo(root: _Node, kids: Callable[[_Node], tuple], visited: set | None) -> list[_Node]:
    """Post-order DFS as the lecture's recursive build_topo does it; `visited=None` omits the
    visited set (nodes reachable twice appear twice). Iterative, so deep chains replay."""
    order: list[_Node] = []
    stack: list[tuple[_Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if visited is not None:
            if id(node) in visited:
                continue
            visited.add(id(node))
        stack.append((node, True))
        stack.extend((kid, False) for kid in reversed(kids(node)))
        if len(order) + len(stack) > MAX_SIMULATED_STEPS:
            raise _TooBig
    return order


def _depth_first(root: _Node, kids: Callable[[_Node], tuple], visited: set | None) -> None:
    """Recursive `_backward` without a sort: a node's closure, then each child's, pre-order."""
    stack, steps = [root], 0
    while stack:
        node = stack.pop()
        if visited is not None:
            if id(node) in visited:
                continue
            visited.add(id(node))
        node.backward_closure()
        stack.extend(reversed(kids(node)))
        steps += 1
        if steps > MAX_SIMULATED_STEPS:
            raise _TooBig


# A behaviour is `backward(root, kids, state)`; `state` lives as long as the child process.
Behaviour = Callable[[_Node, Callable[[_Node], tuple], dict], None]


def _walk(root: _Node, kids, *, reverse: bool = True, seed: bool = True,
          visited: bool = True, topo: list | None = None, seen: set | None = None) -> None:
    order = topo if topo is not None else []
    order.extend(_topo(root, kids, (seen if seen is not None else set()) if visited else None))
    if seed:
        root.grad = 1.0
    for node in (reversed(order) if reverse else order):
        node.backward_closure()


def _correct(root, kids, state):
    _walk(root, kids)


def _shared_both(root, kids, state):
    _walk(root, kids, topo=state.setdefault("topo", []), seen=state.setdefault("seen", set()))


def _shared_visited(root, kids, state):
    _walk(root, kids, seen=state.setdefault("seen", set()))


def _shared_topo(root, kids, state):
    _walk(root, kids, topo=state.setdefault("topo", []))


def _recursive(visited: bool) -> Behaviour:
    def backward(root, kids, state):
        root.grad = 1.0
        _depth_first(root, kids, set() if visited else None)
    return backward


BEHAVIOURS: dict[str, tuple[Behaviour, ...]] = {
    "correct": (_correct,),
    "no_reverse": (lambda root, kids, state: _walk(root, kids, reverse=False),),
    "no_seed": (lambda root, kids, state: _walk(root, kids, seed=False),),
    "no_visited": (lambda root, kids, state: _walk(root, kids, visited=False),),
    "shared_state": (_shared_both, _shared_visited, _shared_topo),
    # Without a visited set, recursing parent-first is the reversed post-order with repeats:
    # the same numbers as "no_visited", whose hint covers it. With one, it is its own mistake.
    "no_topological_sort": (_recursive(True),),
}


def _orderer(flipped: set[int]) -> Callable[[_Node], tuple]:
    def kids(node: _Node) -> tuple:
        return node.kids[::-1] if id(node) in flipped else node.kids
    return kids


def _replay(cases: list[Case], behaviour: Behaviour, flips: int) -> Iterator[list[dict] | None]:
    """Run the backward group as the child does, with one behaviour; per case, per graph, the
    reported grads. Bit i of `flips` reverses the children of the i-th inner node."""
    state: dict = {}
    for case in cases:
        graphs = []
        try:
            for spec in case.payload["graphs"]:
                made, root, inner = _build(spec)
                flipped = {id(node) for i, node in enumerate(inner) if flips >> i & 1}
                kids = _orderer(flipped)
                behaviour(root, kids, state)
                graphs.append((spec, made, root, kids, inner))
            if case.payload.get("repeat"):
                spec, made, root, kids, inner = graphs[0]
                for node in (*made.values(), *inner):
                    node.grad = 0.0
                behaviour(root, kids, state)
        except _TooBig:
            yield None
            continue
        yield [{name: made[name].grad for name in spec.get("report", list(made))}
               for spec, made, *_ in graphs]


def _agrees(predicted: Iterator[list[dict] | None], records: list[dict | None]) -> bool:
    compared = 0
    for guess, record in zip(predicted, records, strict=True):
        got = record.get("graphs") if isinstance(record, dict) else None
        if not isinstance(got, list) or "error" in record:
            continue  # an error says nothing about the traversal's numbers
        if guess is None or len(guess) != len(got):
            return False
        for expected, answer in zip(guess, got, strict=True):
            if not isinstance(answer, dict):
                return False
            for name, value in expected.items():
                if not _close(answer.get(name), value, scale=1.0):
                    return False
        compared += 1
    return compared > 0


def _flip_choices(spec: dict) -> range:
    if "chain" in spec:
        return range(1)  # a chain's only shared node is a leaf: child order cannot matter
    inner = len(_build(spec)[2])
    return range(2 ** inner) if inner <= MAX_ORDERED_NODES else range(1)


def _graph_agrees(spec: dict, again: bool, behaviour: Behaviour, got: Any) -> bool:
    """Some child order makes a stateless behaviour reproduce one graph's reported grads."""
    if not isinstance(got, dict):
        return False
    for flips in _flip_choices(spec):
        made, root, inner = _build(spec)
        kids = _orderer({id(node) for i, node in enumerate(inner) if flips >> i & 1})
        try:
            behaviour(root, kids, {})
            if again:
                for node in (*made.values(), *inner):
                    node.grad = 0.0
                behaviour(root, kids, {})
        except _TooBig:
            return False
        if all(_close(got.get(name), made[name].grad, scale=1.0)
               for name in spec.get("report", list(made))):
            return True
    return False


def _agrees_stateless(cases: list[Case], records: list[dict | None],
                      behaviour: Behaviour) -> bool:
    """Graph by graph, since a set's child order differs for every graph the child builds."""
    compared = 0
    for case, record in zip(cases, records, strict=True):
        got = record.get("graphs") if isinstance(record, dict) else None
        if not isinstance(got, list) or "error" in record:
            continue
        specs = case.payload["graphs"]
        if len(got) != len(specs):
            return False
        for index, spec in enumerate(specs):
            again = bool(case.payload.get("repeat")) and index == 0
            if not _graph_agrees(spec, again, behaviour, got[index]):
                return False
        compared += 1
    return compared > 0


STATEFUL = {"shared_state"}


def diagnose_backward(cases: list[Case], records: list[dict | None]) -> dict | None:
    """The catalogued `backward()` behaviour that reproduces every reported gradient, if any.

    Children may be kept in a set, whose order changes from graph to graph, so every child
    order of each small graph is tried. Behaviours that keep state between calls are replayed
    over the whole group, in the order the child ran it. Nothing is named when the correct
    algorithm already explains the numbers.
    """
    if _agrees(_replay(cases, _correct, 0), records):
        return None
    for mistake in optable.BACKWARD.mistakes:
        for behaviour in BEHAVIOURS.get(mistake.key, ()):
            if mistake.key in STATEFUL:
                matched = _agrees(_replay(cases, behaviour, 0), records)
            else:
                matched = _agrees_stateless(cases, records, behaviour)
            if matched:
                return _entry(optable.BACKWARD.key, mistake.key, [], None)
    return None
