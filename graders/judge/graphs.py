"""The parent's interpreter of a graph spec (the `backward` checks), shared by scorer and diagnosis.

A graph spec is plain data the planner draws (`probes.GRAPH_BUILDERS`): `nodes` as
`[name, "leaf", value]` or `[name, "+"|"*", a, b]` with a `root`, or a `chain` of that many
`v = v + x` steps. The child builds the same spec with the student's class (its own copy of this
logic lives in the stdlib-only harness); here it is built with this module's `Node`, whose
closure is the grader's, to get exact gradients (with `Fraction`s) or to replay a mistaken
traversal (with floats).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any


class Node:
    """A node of the replayed graph, with the grader's own closure (as the child installs it)."""

    __slots__ = ("a", "b", "data", "grad", "kids", "op")

    def __init__(self, data: Any, op: str = "leaf", a: Node | None = None,
                 b: Node | None = None) -> None:
        self.data, self.op, self.a, self.b = data, op, a, b
        self.grad = data * 0
        self.kids: tuple[Node, ...] = () if a is None or b is None else (a, b)

    def backward_closure(self) -> None:
        if self.op == "+":
            self.a.grad += self.grad
            self.b.grad += self.grad
        elif self.op == "*":
            self.a.grad += self.b.data * self.grad
            self.b.grad += self.a.data * self.grad


def _combine(op: str, a: Node, b: Node) -> Node:
    return Node(a.data + b.data if op == "+" else a.data * b.data, op, a, b)


def build(spec: dict, number: type = float) -> tuple[dict[str, Node], Node, list[Node]]:
    """(named nodes, root, inner nodes in creation order, which is a topological order)."""
    made: dict[str, Node] = {}
    inner: list[Node] = []
    if "chain" in spec:
        x = made["x"] = Node(number(spec["x"]))
        node = x
        for _ in range(int(spec["chain"])):
            node = _combine("+", node, x)
            inner.append(node)
        return made, node, inner
    for item in spec["nodes"]:
        name, op = item[0], item[1]
        if op == "leaf":
            made[name] = Node(number(item[2]))
        else:
            made[name] = _combine(op, made[item[2]], made[item[3]])
            inner.append(made[name])
    return made, made[spec["root"]], inner


def reported(spec: dict, made: dict[str, Node]) -> list[str]:
    """The names whose gradients the child reports for this graph."""
    return list(spec.get("report", list(made)))


def exact(spec: dict) -> dict[str, Fraction]:
    """Exact reverse-mode gradients (rationals) of every reported node."""
    if "chain" in spec:  # v = v + x, n times: dv/dx = n + 1 (10,000 Fraction steps cost 60 ms)
        return {"x": Fraction(int(spec["chain"]) + 1)}
    made, root, inner = build(spec, Fraction)
    root.grad = Fraction(1)
    for node in reversed(inner):
        node.backward_closure()
    return {name: made[name].grad for name in reported(spec, made)}
