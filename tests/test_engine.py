"""kit.engine.Value against sympy: every op's value and derivative at random points."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.engine import Value

RTOL, ATOL = 1e-9, 1e-12
ROOT = Path(__file__).resolve().parents[1]
x_, y_ = sp.symbols("x y", real=True)


def exact(v: float) -> sp.Rational:
    """The float's exact binary value, so sympy evaluates at precisely the engine's input."""
    return sp.Rational(v)


def close(got: float, want: sp.Expr) -> bool:
    return math.isclose(got, float(sp.N(want, 40)), rel_tol=RTOL, abs_tol=ATOL)


def floats(lo: float, hi: float, away_from: float | None = None, gap: float = 1e-3):
    s = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if away_from is not None:
        s = s.filter(lambda v: abs(v - away_from) > gap)
    return s


def sym_relu(e: sp.Expr) -> sp.Expr:
    return sp.Piecewise((e, e > 0), (0, True))


# name: (engine op, sympy op, domain strategy), one line each so the table reads as the spec
UNARY: dict[str, tuple[Callable, Callable, st.SearchStrategy]] = {
    "neg": (lambda v: -v, lambda e: -e, floats(-50, 50)),
    "relu": (lambda v: v.relu(), sym_relu, floats(-50, 50, away_from=0.0)),
    "tanh": (lambda v: v.tanh(), sp.tanh, floats(-20, 20)),
    "exp": (lambda v: v.exp(), sp.exp, floats(-30, 30)),
    "log": (lambda v: v.log(), sp.log, floats(1e-3, 1e3)),
    "sigmoid": (lambda v: v.sigmoid(), lambda e: 1 / (1 + sp.exp(-e)), floats(-30, 30)),
    "pow 2": (lambda v: v**2, lambda e: e**2, floats(-20, 20)),
    "pow 3": (lambda v: v**3, lambda e: e**3, floats(-20, 20)),
    "pow -1": (lambda v: v**-1, lambda e: e**-1, floats(0.01, 50)),
    "pow -2 (negative base)": (lambda v: v**-2, lambda e: e**-2, floats(-50, -0.01)),
    "pow 0.5": (lambda v: v**0.5, sp.sqrt, floats(1e-3, 100)),
    "pow -0.5": (lambda v: v**-0.5, lambda e: e ** sp.Rational(-1, 2), floats(1e-3, 100)),
    "pow 2.5": (lambda v: v**2.5, lambda e: e ** sp.Rational(5, 2), floats(1e-3, 20)),
    "pow 3.0 (negative base)": (lambda v: v**3.0, lambda e: e**3, floats(-20, -0.01)),
    "radd": (lambda v: 2.5 + v, lambda e: sp.Rational(5, 2) + e, floats(-50, 50)),
    "rsub": (lambda v: 2.5 - v, lambda e: sp.Rational(5, 2) - e, floats(-50, 50)),
    "rmul": (lambda v: -3 * v, lambda e: -3 * e, floats(-50, 50)),
    "rtruediv": (lambda v: 7.0 / v, lambda e: 7 / e, floats(0.01, 50)),
    "add const": (lambda v: v + 4, lambda e: e + 4, floats(-50, 50)),
    "sub const": (lambda v: v - 0.75, lambda e: e - sp.Rational(3, 4), floats(-50, 50)),
    "mul const": (lambda v: v * 0.5, lambda e: e / 2, floats(-50, 50)),
    "div const": (lambda v: v / 4.0, lambda e: e / 4, floats(-50, 50)),
    "reuse x*x": (lambda v: v * v, lambda e: e * e, floats(-20, 20)),
    "reuse x+x": (lambda v: v + v, lambda e: 2 * e, floats(-50, 50)),
    "reuse x-x": (lambda v: v - v, lambda e: e - e, floats(-50, 50)),
    "reuse x/x": (lambda v: v / v, lambda e: e / e, floats(0.01, 50)),
}

BINARY: dict[str, tuple[Callable, Callable, st.SearchStrategy, st.SearchStrategy]] = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, floats(-50, 50), floats(-50, 50)),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, floats(-50, 50), floats(-50, 50)),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, floats(-50, 50), floats(-50, 50)),
    "truediv": (lambda a, b: a / b, lambda a, b: a / b, floats(-50, 50), floats(0.01, 50)),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_op_value_and_grad_match_sympy(name: str) -> None:
    op, sym_op, domain = UNARY[name]
    expr = sym_op(x_)
    dexpr = sp.diff(expr, x_)

    @settings(max_examples=40, deadline=None)
    @given(domain)
    def check(v: float) -> None:
        x = Value(v)
        out = op(x)
        out.backward()
        at = {x_: exact(v)}
        want, dwant = expr.subs(at), dexpr.subs(at)
        assert close(out.data, want), f"{name}({v}) = {out.data}, sympy says {sp.N(want)}"
        assert close(x.grad, dwant), f"d {name}/dx at {v} = {x.grad}, sympy says {sp.N(dwant)}"
        assert type(x.grad) is float and type(out.data) is float

    check()


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_op_value_and_grads_match_sympy(name: str) -> None:
    op, sym_op, da, db = BINARY[name]
    expr = sym_op(x_, y_)
    dx, dy = sp.diff(expr, x_), sp.diff(expr, y_)

    @settings(max_examples=40, deadline=None)
    @given(da, db)
    def check(a: float, b: float) -> None:
        xa, xb = Value(a), Value(b)
        out = op(xa, xb)
        out.backward()
        at = {x_: exact(a), y_: exact(b)}
        assert close(out.data, expr.subs(at)), f"{name}({a}, {b}) = {out.data}"
        assert close(xa.grad, dx.subs(at)), f"d {name}/da at ({a}, {b}) = {xa.grad}"
        assert close(xb.grad, dy.subs(at)), f"d {name}/db at ({a}, {b}) = {xb.grad}"

    check()


def test_relu_at_zero_has_zero_gradient_by_convention() -> None:
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert (y.data, x.grad) == (0.0, 0.0)
    assert type(y.data) is float


def test_tanh_and_sigmoid_do_not_overflow_for_large_inputs() -> None:
    for v, t, s in [(1000.0, 1.0, 1.0), (-1000.0, -1.0, 0.0)]:
        x = Value(v)
        assert x.tanh().data == t
        assert x.sigmoid().data == s


def reference_expression(a, b):
    """The micrograd README example, written once for both Value and sympy symbols."""
    relu = sym_relu if isinstance(a, sp.Basic) else (lambda e: e.relu())
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + relu(b + a)
    d += 3 * d + relu(b - a)
    e = c - d
    f = e**2
    g = f / 2
    g += 10 / f
    return g


def test_reference_example_prints_the_readme_numbers_and_matches_sympy() -> None:
    a, b = Value(-4.0), Value(2.0)
    g = reference_expression(a, b)
    g.backward()

    sa, sb = sp.symbols("a b", real=True)
    sg = reference_expression(sa, sb)
    at = {sa: sp.Integer(-4), sb: sp.Integer(2)}
    want = [sp.nsimplify(e.subs(at)) for e in (sg, sp.diff(sg, sa), sp.diff(sg, sb))]
    assert all(w.is_Rational for w in want), want  # exact values, no rounding upstream

    for got, w in zip((g.data, a.grad, b.grad), want, strict=True):
        assert close(got, w)
        assert f"{got:.4f}" == f"{float(w):.4f}"
    assert [f"{v:.4f}" for v in (g.data, a.grad, b.grad)] == ["24.7041", "138.8338", "645.5773"]


def test_diamond_graph_reuses_an_interior_node() -> None:
    # micrograd issue #68: a recursive backward without a topological sort gets this wrong
    a, b = Value(3.0), Value(-2.0)
    c = a + b
    d = a * b
    y = (c + d) + (c * d)
    y.backward()
    # y = a + b + ab + (a + b)ab  ->  dy/da = 1 + b + 2ab + b^2, dy/db = 1 + a + a^2 + 2ab
    assert (a.grad, b.grad) == (1 + -2 + 2 * 3 * -2 + 4, 1 + 3 + 9 + 2 * 3 * -2)


def test_backward_through_a_100k_deep_chain() -> None:
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    assert y.data == 0.5


def test_children_are_an_ordered_tuple() -> None:
    a, b = Value(1.0), Value(2.0)
    assert (a * b)._prev == (a, b)
    assert (b * a)._prev == (b, a)


def test_grads_are_bit_identical_across_processes() -> None:
    script = textwrap.dedent(
        """
        from kit.data import make_moons
        from kit.nn import MLP
        from kit.train import max_margin_loss
        xs, ys = make_moons(20, seed=3)
        model = MLP(2, [8, 8, 1], "relu", linear_out=True, rng=7)
        loss, _ = max_margin_loss(model, xs, ys)
        loss.backward()
        print(repr([p.grad for p in model.parameters()]))
        """
    )
    outs = []
    for hashseed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hashseed, "PYTHONPATH": str(ROOT)},
        )
        outs.append(done.stdout)
    assert outs[0] == outs[1]
    assert outs[0].count(",") >= 8 * 3 + 8 * 9 + 9 - 1  # every parameter's grad was printed


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Value(2.0) ** Value(3.0), "Value \\*\\* Value"),
        (lambda: Value(2.0) ** "3", "exponent"),
        (lambda: Value(1.0) + "a", "str"),
        (lambda: "a" + Value(1.0), "str|concatenate"),
        (lambda: Value(1.0) * "a", "str"),
        (lambda: Value(1.0) - "a", "str"),
        (lambda: Value(1.0) / "a", "str"),
        (lambda: Value(1.0) + True, "bool"),
        (lambda: Value("1"), "str"),
    ],
)
def test_bad_operands_raise_type_error_naming_the_problem(make, match) -> None:
    with pytest.raises(TypeError, match=match):
        make()


def test_negative_base_with_fractional_exponent_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="negative base"):
        Value(-2.0) ** 2.5


@pytest.mark.parametrize("v", [0.0, -1.0])
def test_log_of_non_positive_is_a_value_error(v: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        Value(v).log()


def test_repr_shows_data_and_grad() -> None:
    x = Value(3)
    (x * 2).backward()
    assert repr(x) == "Value(data=3.0, grad=2.0)"


def test_graphs_hold_no_reference_cycles() -> None:
    # closures take out.grad as an argument rather than capturing `out`, so a dropped graph is
    # freed by reference counting at once and leaves nothing for the cycle collector
    import gc

    gc.collect()
    gc.disable()
    try:
        x = Value(0.3)
        y = ((x * 2.0 + 1.0).tanh() ** 2 - x.exp() / 3.0).relu() + x.sigmoid() + x.log()
        y.backward()
        del x, y
        assert gc.collect() == 0
    finally:
        gc.enable()
