"""The lecture's training loops: zero_grad, forward, loss, backward, SGD update, repeat.

Both loops are deterministic for a given seed (weights come from `random.Random(seed)`, the
engine's gradients are bit-reproducible), so the printed losses are the same on every run and
can be quoted in class.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kit.data import four_samples, make_moons
from kit.nn import MLP, Module


@dataclass(frozen=True)
class Step:
    """One training step's numbers, reported *before* that step's update."""

    step: int
    loss: float
    accuracy: float | None = None  # fraction correct; None where the task has no classes


OnStep = Callable[[Step], None]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for one training step.

    kit graphs hold no reference cycles, so reference counting frees each step's graph as
    soon as it is dropped. The collector would find nothing to free. It would still rescan the
    growing live graph several times per step, and that was most of a moons step's time
    (453 ms against 85 ms, docs/performance.md). Anything cyclic made meanwhile is collected
    after the step as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def sgd(params: Sequence[Any], lr: float) -> None:
    """Nudge each parameter against its gradient: the loss goes down for a small enough lr."""
    for p in params:
        p.data -= lr * p.grad


def squared_error(ypred: Sequence[Any], ys: Sequence[float]) -> Any:
    r"""$\sum_i (\hat y_i - y_i)^2$, the lecture's loss for the four samples."""
    return sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred, strict=True))


def train_four_samples(
    steps: int = 50, lr: float = 0.05, seed: int = 0, on_step: OnStep | None = None
) -> tuple[MLP, list[Step]]:
    """Fit the lecture's `MLP(3, [4, 4, 1])` (tanh everywhere) to the four samples."""
    xs, ys = four_samples()
    model = MLP(3, [4, 4, 1], rng=seed)
    history: list[Step] = []
    for k in range(steps):
        with collector_paused():
            ypred = [model(x) for x in xs]
            loss = squared_error(ypred, ys)
            model.zero_grad()  # backward adds into .grad, so clear last step's first
            loss.backward()
            sgd(model.parameters(), lr)
            history.append(Step(k, loss.data))
            del ypred, loss  # free this step's graph now, not after the next one is built
        if on_step is not None:
            on_step(history[-1])
    return model, history


def max_margin_loss(model: Module, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> Any:
    r"""micrograd demo's loss: mean hinge $\max(0, 1 - y\,s)$ plus $10^{-4} \sum p^2$.

    Returns (loss, accuracy). The hinge stops pushing a point once it is on the right side by
    a margin of 1; the small L2 term keeps the weights from growing without need.
    """
    scores = [model(x) for x in xs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    accuracy = sum((yi > 0) == (si.data > 0) for yi, si in zip(ys, scores, strict=True))
    return data_loss + reg_loss, accuracy / len(ys)


def train_moons(
    steps: int = 60,
    lr: float = 1.0,
    seed: int = 0,
    n: int = 100,
    on_step: OnStep | None = None,
) -> tuple[MLP, list[Step]]:
    """Fit `MLP(2, [16, 16, 1])` (relu hidden, linear out) to `n` moons by max-margin loss.

    The learning rate decays linearly from `lr` to `lr / 10` over the run, as in micrograd's
    demo notebook: big steps find the boundary, small ones settle it.
    """
    xs, ys = make_moons(n, noise=0.1, seed=seed)
    model = MLP(2, [16, 16, 1], "relu", linear_out=True, rng=seed)
    history: list[Step] = []
    for k in range(steps):
        with collector_paused():
            loss, accuracy = max_margin_loss(model, xs, ys)
            model.zero_grad()
            loss.backward()
            sgd(model.parameters(), lr * (1.0 - 0.9 * k / steps))
            history.append(Step(k, loss.data, accuracy))
            del loss  # free this step's graph now, not after the next one is built beside it
        if on_step is not None:
            on_step(history[-1])
    return model, history


def accuracy(model: Module, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> float:
    """Fraction of points whose score has the sign of their -1 / +1 label."""
    hits = sum((yi > 0) == (model(x).data > 0) for x, yi in zip(xs, ys, strict=True))
    return hits / len(ys)
