"""Neurons, layers and MLPs in the lecture's API, over *any* `Value` class.

A student who has written their own `Value` passes it in as `value_cls=` and gets the same
network the lecture builds. So this module only ever uses what every lecture engine has:
`value_cls(float)`, `+`, `*` and the chosen nonlinearity (`tanh` or `relu`). Plain-float inputs
reach the engine through `Value * float`, the wrapping every micrograd `Value` does.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from kit.engine import Value

NONLINS = ("tanh", "relu", None)


def _rng(rng: random.Random | int | None) -> random.Random | Any:
    """A seeded generator for reproducible weights; None keeps the lecture's global `random`
    (so `random.seed(1337)` before `MLP(...)` still works)."""
    if rng is None:
        return random
    if isinstance(rng, int):
        return random.Random(rng)
    return rng


class Module:
    """What every model part offers: its parameters, and a way to reset their grads."""

    def zero_grad(self) -> None:
        """Reset grads before each backward, because backward *adds* into them."""
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Any]:
        return []


class Neuron(Module):
    """One weighted sum plus bias, optionally squashed: $\\phi(\\sum_i w_i x_i + b)$."""

    def __init__(
        self,
        nin: int,
        nonlin: str | None = "tanh",
        *,
        value_cls: type | None = None,
        rng: random.Random | int | None = None,
    ) -> None:
        if nonlin not in NONLINS:
            raise ValueError(f"Neuron nonlin must be 'tanh', 'relu' or None, got {nonlin!r}")
        cls = Value if value_cls is None else value_cls
        r = _rng(rng)
        self.w = [cls(r.uniform(-1, 1)) for _ in range(nin)]
        self.b = cls(r.uniform(-1, 1))
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Any]) -> Any:
        # b + w0*x0 + w1*x1 + ...: the same order as micrograd, so the graphs match node by node
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        if self.nonlin == "tanh":
            return act.tanh()
        if self.nonlin == "relu":
            return act.relu()
        return act

    def parameters(self) -> list[Any]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        kind = {"tanh": "Tanh", "relu": "ReLU", None: "Linear"}[self.nonlin]
        return f"{kind}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` independent neurons that all read the same inputs."""

    def __init__(
        self,
        nin: int,
        nout: int,
        nonlin: str | None = "tanh",
        *,
        value_cls: type | None = None,
        rng: random.Random | int | None = None,
    ) -> None:
        r = _rng(rng)
        self.neurons = [Neuron(nin, nonlin, value_cls=value_cls, rng=r) for _ in range(nout)]

    def __call__(self, x: Sequence[Any]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out  # the lecture's convenience for a 1-unit layer

    def parameters(self) -> list[Any]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A stack of layers: `MLP(3, [4, 4, 1])` maps 3 inputs to 1 output (41 parameters).

    Like the lecture, every neuron uses `nonlin` (default tanh); `linear_out=True` makes the
    last layer linear, as micrograd's demo does for its max-margin loss.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        nonlin: str | None = "tanh",
        *,
        linear_out: bool = False,
        value_cls: type | None = None,
        rng: random.Random | int | None = None,
    ) -> None:
        r = _rng(rng)  # one generator for all layers, so the whole init follows one seed
        sz = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [
            Layer(
                sz[i],
                sz[i + 1],
                None if (linear_out and i == last) else nonlin,
                value_cls=value_cls,
                rng=r,
            )
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Any]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
