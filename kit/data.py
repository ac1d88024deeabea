"""The lecture's datasets, in pure Python so the kit needs neither numpy nor scikit-learn."""

from __future__ import annotations

import math
import random


def four_samples() -> tuple[list[list[float]], list[float]]:
    """The lecture's four 3-input examples and their targets (fresh lists on every call, so
    a student editing them cannot change the next caller's data)."""
    xs = [
        [2.0, 3.0, -1.0],
        [3.0, -1.0, 0.5],
        [0.5, 1.0, 1.0],
        [1.0, 1.0, -1.0],
    ]
    ys = [1.0, -1.0, -1.0, 1.0]
    return xs, ys


def make_moons(
    n: int = 100, noise: float = 0.1, seed: int = 0
) -> tuple[list[list[float]], list[float]]:
    """Two interleaving half circles, as `sklearn.datasets.make_moons`, with labels -1 / +1.

    The upper moon (label -1) has `n // 2` points, the lower one (label +1) the rest, each
    evenly spaced along its arc, then jittered by Gaussian noise of standard deviation `noise`
    and shuffled, all from one `random.Random(seed)`: the same arguments always give the same
    data, on any machine. Labels are -1 / +1 (not sklearn's 0 / 1) to suit a max-margin loss.
    """
    if n < 2:
        raise ValueError(f"make_moons needs n >= 2 to draw both moons, got {n}")
    if noise < 0:
        raise ValueError(f"make_moons noise is a standard deviation, so >= 0; got {noise}")
    rng = random.Random(seed)
    n_out = n // 2
    n_in = n - n_out

    def arc(k: int) -> list[float]:
        return [math.pi * i / (k - 1) if k > 1 else 0.0 for i in range(k)]

    points = [([math.cos(t), math.sin(t)], -1.0) for t in arc(n_out)]
    points += [([1.0 - math.cos(t), 0.5 - math.sin(t)], 1.0) for t in arc(n_in)]
    for xy, _ in points:
        xy[0] += rng.gauss(0.0, noise)
        xy[1] += rng.gauss(0.0, noise)
    rng.shuffle(points)
    return [xy for xy, _ in points], [label for _, label in points]
