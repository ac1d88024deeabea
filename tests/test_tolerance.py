"""The stated tolerance separates rounding from mistakes at every probe the planner can draw."""

from __future__ import annotations

import math
import types

from hypothesis import given, settings
from hypothesis import strategies as st

from graders.judge import oracle, probes
from graders.model import close
from graders.spec import optable

# mpmath's names, served by float math: the same formulas evaluated the way student code rounds.
FLOAT_MATH = types.SimpleNamespace(tanh=math.tanh, exp=math.exp, log=math.log, mpf=float)


def in_floats(formula, **values):
    args = ", ".join(f"{name}=0" for name in oracle.SYMBOLS)
    function = eval(f"lambda {args}: {formula.code}", {"mpmath": FLOAT_MATH})
    return float(function(**values))


def single_use_cases(seed):
    for group in probes.plan(optable.BACKPROP, seed):
        if group.key in oracle.load().ops:
            for case in group.cases:
                if case.role not in ("reuse", "class"):
                    yield oracle.load().ops[group.key], case


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**48))
def test_float_evaluation_of_the_right_formula_passes(seed):
    for op, case in single_use_cases(seed):
        for name, local in op.derivative.items():
            g, u = case.payload["pre"][name], case.payload["upstream"]
            got = g + u * in_floats(local, **case.values)
            exact = g + u * local(**case.values)
            assert close(got, exact, scale=abs(g) + abs(u * local(**case.values))), (
                op.key, name, case.values)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**48))
def test_every_catalogued_mistake_fails_where_it_changes_the_gradient(seed):
    """A mistake may coincide with the right answer at some probes (e.g. out.grad = 0), but
    never at all the probes of an op: every mistake is caught by some probe."""
    caught: dict[tuple[str, str, str], bool] = {}
    for op, case in single_use_cases(seed):
        for mistake in op.mistakes:
            for name, wrong in mistake.grads.items():
                g, u = case.payload["pre"][name], case.payload["upstream"]
                try:
                    got = in_floats(wrong, **case.values, g=g)
                except (ValueError, ZeroDivisionError, OverflowError):
                    continue
                local = op.derivative[name](**case.values)
                key = (op.key, mistake.key, name)
                failed = not close(got, g + u * local, scale=abs(g) + abs(u * local))
                caught[key] = caught.get(key, False) or failed
    missed = [key for key, ok in caught.items() if not ok]
    assert not missed, missed


def test_relu_derivative_states_the_kink_convention():
    relu = oracle.load().ops["relu"].derivative["x"]
    assert relu(x=0.0) == 0.0 and relu(x=1e-300) == 1.0 and relu(x=-1e-300) == 0.0


def test_a_forged_huge_integer_is_not_a_number_and_fails_closed():
    from graders.model import Record, close, is_number

    assert not is_number(10**400) and not close(10**400, 1.0)
    record = Record.parse({"id": "mul/0", "out": 10**400, "grads": {"x": 10**400},
                           "fd": {"x": [10**400, 1.0]}})
    assert record.fd == {} and not is_number(record.grads["x"])
