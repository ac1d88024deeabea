"""kit.data: the lecture's samples and a dependency-free, reproducible make_moons."""

from __future__ import annotations

import math

import pytest

from kit.data import four_samples, make_moons


def test_four_samples_are_the_lectures() -> None:
    xs, ys = four_samples()
    assert xs == [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    assert ys == [1.0, -1.0, -1.0, 1.0]
    xs[0][0] = 99.0
    assert four_samples()[0][0][0] == 2.0  # a caller's edit does not leak into the next call


def test_moons_are_reproducible_by_seed() -> None:
    assert make_moons(50, seed=4) == make_moons(50, seed=4)
    assert make_moons(50, seed=4) != make_moons(50, seed=5)


@pytest.mark.parametrize("n", [2, 7, 100])
def test_moons_shape_and_labels(n: int) -> None:
    xs, ys = make_moons(n)
    assert len(xs) == len(ys) == n
    assert all(len(p) == 2 and all(isinstance(c, float) for c in p) for p in xs)
    assert sorted(set(ys)) == [-1.0, 1.0]
    assert ys.count(-1.0) == n // 2


def test_noiseless_moons_lie_on_their_half_circles() -> None:
    xs, ys = make_moons(40, noise=0.0)
    for (x, y), label in zip(xs, ys, strict=True):
        # upper moon: unit circle around (0, 0), y >= 0; lower: around (1, 0.5), y <= 0.5
        cx, cy = (0.0, 0.0) if label < 0 else (1.0, 0.5)
        assert math.hypot(x - cx, y - cy) == pytest.approx(1.0, abs=1e-12)
        assert (y >= -1e-12) if label < 0 else (y <= 0.5 + 1e-12)


def test_moons_noise_has_the_requested_spread() -> None:
    xs, ys = make_moons(400, noise=0.1, seed=1)
    # radial offset from its own circle is about |N(0, 0.1)|, whose mean is 0.1 * sqrt(2 / pi)
    offsets = [
        abs(math.hypot(x - (0.0 if label < 0 else 1.0), y - (0.0 if label < 0 else 0.5)) - 1.0)
        for (x, y), label in zip(xs, ys, strict=True)
    ]
    assert sum(offsets) / len(offsets) == pytest.approx(0.1 * math.sqrt(2 / math.pi), rel=0.2)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="n >= 2"):
        make_moons(1)
    with pytest.raises(ValueError, match="noise"):
        make_moons(10, noise=-0.1)
