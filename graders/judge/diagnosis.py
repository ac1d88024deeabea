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

from collections.abc import Callable, Iterator
from typing import Any

from graders.judge import graphs
from graders.judge.graphs import Node
from graders.judge.oracle import Formula, OpOracle
from graders.model import Case, Diagnosis, Numeric, Probe, Record, close, is_number
from graders.spec import optable

MAX_SIMULATED_STEPS = 200_000  # a traversal without a visited set can grow exponentially
MAX_ORDERED_NODES = 8  # child orders are enumerated (2^n) only on graphs this small


def describe(op_key: str, mistake_key: str) -> tuple[str, str]:
    """The (title, hint) of a catalogued mistake, from the op's own entries or the generic ones."""
    for mistake in optable.op(op_key).mistakes:
        if mistake.key == mistake_key:
            return mistake.title or mistake_key.replace("_", " "), mistake.hint
    for generic in optable.GENERIC_MISTAKES:
        if generic.key == mistake_key:
            return generic.title, generic.hint
    for seen in optable.OBSERVED_MISTAKES:
        if seen.key == mistake_key:
            return seen.title, seen.hint
    raise KeyError(f"{op_key}: no catalogued mistake {mistake_key!r}")


def _entry(op_key: str, mistake_key: str, inputs: list[str], formula: Formula | None,
           local: Formula | None = None, named: tuple[str, str] | None = None) -> Diagnosis:
    """`named` is the mistake's (title, hint) where the oracle carries them (declared ops)."""
    title, hint = named or describe(op_key, mistake_key)
    found = Diagnosis(mistake_key, title, hint, inputs=inputs,
                      formula=formula.text if formula else "",
                      latex=formula.latex if formula else "",
                      mathml=formula.mathml if formula else "",
                      expected_formula=local.text if local else "")
    if formula is not None and inputs:
        found.statements[inputs[0]] = _statement(formula, local)
    return found


def _statement(formula: Formula, local: Formula | None) -> dict[str, str]:
    return {"text": formula.text, "mathml": formula.mathml,
            "expected": local.text if local else ""}


# --- single ops: formulas -------------------------------------------------------------------


def _predicts(formula: Formula, name: str, case: Case, got: Any) -> bool:
    values = dict(case.values)
    values["g"] = case.payload["pre"][name]
    try:
        predicted = formula(**values)
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return False
    return close(got, predicted, scale=abs(values["g"]) + abs(values.get("u", 0.0)))


def _is_right(oracle: OpOracle, name: str, case: Case, got: Any) -> bool:
    g, u = case.payload["pre"][name], case.payload["upstream"]
    local = oracle.derivative[name](**case.values)
    return close(got, g + u * local, scale=abs(g) + abs(u * local))


def diagnose_op(oracle: OpOracle,
                observed: dict[str, list[tuple[Case, Any]]]) -> Diagnosis | None:
    """The catalogued mistake that reproduces every observed gradient of each wrong input.

    `observed` holds, per input, every single-use probe and the number the student's closure
    produced for it (right or wrong). Op-specific mistakes are tried before generic ones, since
    they say more. The first explained input is the primary diagnosis; others are in "more".
    """
    ordered = sorted(oracle.mistakes, key=lambda m: not m.specific)
    found: list[Diagnosis] = []
    for name, cases in observed.items():
        if not cases or all(_is_right(oracle, name, case, got) for case, got in cases):
            continue
        for mistake in ordered:
            formula = mistake.grads.get(name)
            if formula is not None and all(_predicts(formula, name, c, got) for c, got in cases):
                same = next((d for d in found if d.key == mistake.key), None)
                if same is not None:
                    same.inputs.append(name)
                    same.statements[name] = _statement(formula, oracle.derivative[name])
                else:
                    found.append(_entry(oracle.key, mistake.key, [name], formula,
                                        oracle.derivative[name], (mistake.title, mistake.hint)))
                break
    if not found:
        return None
    primary = found[0]
    primary.more = found[1:]
    return primary


def _observed(key: str, hint: str = "", inputs: list[str] | None = None) -> Diagnosis:
    mistake = optable.observed(key)
    return Diagnosis(key, mistake.title, hint or mistake.hint, inputs=inputs or [])


def wrong_forward(probe: Probe) -> Diagnosis:
    """The op's forward value is wrong: said first, with the numbers, and instead of any
    gradient mistake (the gradients are of another function, so no formula of the catalogue
    can be named from them truly: `self - other` in `__rsub__` is not a sign error)."""
    at = ", ".join(f"{name} = {value:.6g}" for name, value in probe.inputs.items())
    got = f"{probe.got:.6g}" if is_number(probe.got) else repr(probe.got)[:40]
    return _observed("wrong_forward", f"At {at}, out.data should be {probe.expected:.6g} but "
                     f"your code gives {got}: " + optable.observed("wrong_forward").hint)


def closure_on_input(inputs: list[str]) -> Diagnosis:
    """The child saw the forward replace an input's `_backward` and leave out's as new."""
    return _observed("closure_on_input", inputs=inputs)


def numerical_derivative(op_key: str, found: Numeric, zero: bool) -> Diagnosis:
    """`op_key`'s closures called a function near (not at) the input, or at a complex point."""
    if found.complex:
        how, what = "at a complex point x + ih", "a complex-step derivative"
    else:
        step = f"{found.step:.0e}".replace("e-0", "e-") if found.step else "h"
        how = f"at x ± {step}" if found.near > 1 else f"at x + {step}"
        what = "a numerical derivative"
    via = f" (through `{found.via}`)" if found.via else ""
    consequence = ("this assignment gives it no points" if zero else
                   "write the local derivative's formula instead")
    return _observed("numerical_derivative",
                     f"{op_key}'s `_backward` evaluates the forward again {how}{via}: "
                     f"{what}, not the chain rule; {consequence}")


def requires_grad_flag(flag: str, in_backward: bool) -> Diagnosis:
    """Plain `Value(x)` leaves carry `flag` = False and got no gradient: the class skips them
    (in its backward() or in its closures), where the lecture gives every Value a grad."""
    hint = optable.observed("requires_grad_flag").hint.replace("`requires_grad`", f"`{flag}`")
    if not in_backward:
        hint = hint.replace("your backward() skips values", "your `_backward` skips inputs")
    return _observed("requires_grad_flag", hint)


def reuse_overwrites() -> Diagnosis:
    """The op's reuse check failed while accumulation passed: one use overwrote the other."""
    mistake = optable.REUSE_MISTAKE
    return Diagnosis(mistake.key, mistake.title, mistake.hint, inputs=["x"])


# --- backward(): behaviours -----------------------------------------------------------------


class _TooBig(Exception):
    pass


def _topo(root: Node, kids: Callable[[Node], tuple], visited: set | None) -> list[Node]:
    """Post-order DFS as the lecture's recursive build_topo does it; `visited=None` omits the
    visited set (nodes reachable twice appear twice). Iterative, so deep chains replay."""
    order: list[Node] = []
    stack: list[tuple[Node, bool]] = [(root, False)]
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


def _depth_first(root: Node, kids: Callable[[Node], tuple], visited: set | None) -> None:
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
Behaviour = Callable[[Node, Callable[[Node], tuple], dict], None]


def _walk(root: Node, kids, *, reverse: bool = True, seed: bool = True,
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


def _orderer(flipped: set[int]) -> Callable[[Node], tuple]:
    def kids(node: Node) -> tuple:
        return node.kids[::-1] if id(node) in flipped else node.kids
    return kids


def _replay(cases: list[Case], behaviour: Behaviour, flips: int) -> Iterator[list[dict] | None]:
    """Run the backward group as the child does, with one behaviour; per case, per graph, the
    reported grads. Bit i of `flips` reverses the children of the i-th inner node."""
    state: dict = {}
    for case in cases:
        built = []
        try:
            for spec in case.payload["graphs"]:
                made, root, inner = graphs.build(spec)
                flipped = {id(node) for i, node in enumerate(inner) if flips >> i & 1}
                kids = _orderer(flipped)
                behaviour(root, kids, state)
                built.append((spec, made, root, kids, inner))
            if case.payload.get("repeat"):
                spec, made, root, kids, inner = built[0]
                for node in (*made.values(), *inner):
                    node.grad = 0.0
                behaviour(root, kids, state)
        except _TooBig:
            yield None
            continue
        yield [{name: made[name].grad for name in graphs.reported(spec, made)}
               for spec, made, *_ in built]


def _agrees(predicted: Iterator[list[dict] | None], records: list[Record | None]) -> bool:
    compared = 0
    for guess, record in zip(predicted, records, strict=True):
        got = record.graphs if record is not None else None
        if got is None or record.error is not None:
            continue  # an error says nothing about the traversal's numbers
        if guess is None or len(guess) != len(got):
            return False
        for expected, answer in zip(guess, got, strict=True):
            if not isinstance(answer, dict):
                return False
            for name, value in expected.items():
                if not close(answer.get(name), value, scale=1.0):
                    return False
        compared += 1
    return compared > 0


def _flip_choices(spec: dict) -> range:
    if "chain" in spec:
        return range(1)  # a chain's only shared node is a leaf: child order cannot matter
    inner = len(graphs.build(spec)[2])
    return range(2 ** inner) if inner <= MAX_ORDERED_NODES else range(1)


def _graph_agrees(spec: dict, again: bool, behaviour: Behaviour, got: Any) -> bool:
    """Some child order makes a stateless behaviour reproduce one graph's reported grads."""
    if not isinstance(got, dict):
        return False
    for flips in _flip_choices(spec):
        made, root, inner = graphs.build(spec)
        kids = _orderer({id(node) for i, node in enumerate(inner) if flips >> i & 1})
        try:
            behaviour(root, kids, {})
            if again:
                for node in (*made.values(), *inner):
                    node.grad = 0.0
                behaviour(root, kids, {})
        except _TooBig:
            return False
        if all(close(got.get(name), made[name].grad, scale=1.0)
               for name in graphs.reported(spec, made)):
            return True
    return False


def _agrees_stateless(cases: list[Case], records: list[Record | None],
                      behaviour: Behaviour) -> bool:
    """Graph by graph, since a set's child order differs for every graph the child builds."""
    compared = 0
    for case, record in zip(cases, records, strict=True):
        got = record.graphs if record is not None else None
        if got is None or record.error is not None:
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


def diagnose_backward(cases: list[Case], records: list[Record | None]) -> Diagnosis | None:
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
