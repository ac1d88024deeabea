"""kit.nn: the lecture's API, reproducible init, and any Value class plugged in."""

from __future__ import annotations

import math
import random

import pytest

from kit.engine import Value
from kit.nn import MLP, Layer, Neuron


def test_lecture_mlp_has_41_parameters() -> None:
    model = MLP(3, [4, 4, 1])
    assert len(model.parameters()) == 41
    assert all(isinstance(p, Value) for p in model.parameters())
    assert len({id(p) for p in model.parameters()}) == 41  # no parameter listed twice


def test_repr_reads_like_the_architecture() -> None:
    assert repr(MLP(2, [3, 1], "relu", linear_out=True)) == (
        "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)], "
        "Layer of [LinearNeuron(3)]]"
    )
    assert repr(Neuron(4)) == "TanhNeuron(4)"


def test_same_seed_same_weights_different_seed_different_weights() -> None:
    def weights(rng):
        return [p.data for p in MLP(3, [4, 4, 1], rng=rng).parameters()]

    assert weights(random.Random(5)) == weights(random.Random(5)) == weights(5)
    assert weights(5) != weights(6)
    assert all(-1.0 <= w <= 1.0 for w in weights(5))


def test_global_random_seed_still_works_like_the_lecture() -> None:
    random.seed(1337)
    first = [p.data for p in MLP(3, [4, 1]).parameters()]
    random.seed(1337)
    assert first == [p.data for p in MLP(3, [4, 1]).parameters()]


def test_forward_matches_hand_computation() -> None:
    n = Neuron(2, rng=0)
    (w0, w1), b = (w.data for w in n.w), n.b.data
    assert n([0.5, -2.0]).data == pytest.approx(math.tanh(b + w0 * 0.5 + w1 * -2.0), abs=1e-15)
    lin = Neuron(2, None, rng=0)
    assert lin([0.5, -2.0]).data == pytest.approx(b + w0 * 0.5 + w1 * -2.0, abs=1e-15)
    relu = Neuron(2, "relu", rng=0)
    assert relu([0.5, -2.0]).data == max(0.0, lin([0.5, -2.0]).data)


def test_single_output_layer_returns_a_value_not_a_list() -> None:
    assert isinstance(Layer(3, 1)([1.0, 2.0, 3.0]), Value)
    assert len(Layer(3, 2)([1.0, 2.0, 3.0])) == 2


def test_zero_grad_clears_every_parameter() -> None:
    model = MLP(3, [4, 4, 1], rng=0)
    model([1.0, -1.0, 0.5]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_unknown_nonlinearity_is_refused() -> None:
    with pytest.raises(ValueError, match="sigmoid"):
        Neuron(2, "sigmoid")


class Scalar:
    """A student's minimal forward-only Value: only what kit.nn is allowed to use.

    It has no __sub__, __pow__, __truediv__ or __neg__, so kit.nn touching any of them fails.
    """

    def __init__(self, data):
        self.data = float(data)

    def __add__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.data + other.data)

    def __mul__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return Scalar(self.data * other.data)

    __radd__ = __add__
    __rmul__ = __mul__

    def tanh(self):
        return Scalar(math.tanh(self.data))

    def relu(self):
        return Scalar(max(0.0, self.data))


@pytest.mark.parametrize(("nonlin", "linear_out"), [("tanh", False), ("relu", True)])
def test_works_with_a_foreign_value_class(nonlin, linear_out) -> None:
    theirs = MLP(3, [4, 4, 1], nonlin, linear_out=linear_out, value_cls=Scalar, rng=3)
    ours = MLP(3, [4, 4, 1], nonlin, linear_out=linear_out, rng=3)
    assert all(type(p) is Scalar for p in theirs.parameters())
    assert len(theirs.parameters()) == 41
    x = [2.0, 3.0, -1.0]
    out = theirs(x)
    assert type(out) is Scalar
    assert out.data == ours(x).data  # same seed, same ops in the same order: same bits
