"""The tasks of assignments 1 (`derivatives`) and 3 (`mlp`): what to ask the child, and verdicts.

Each task (an `OpSpec` of kind "task" in the table) has a planner and a scorer here, by key. The
planner writes a few grader lines (`program` checks, run/protocol.py) that call the student's
functions and classes in the sandbox with inputs drawn by the parent, and name what to report;
the child only reports numbers. The scorer derives every expected value in the parent: with
sympy for slopes, for the network's loss and its gradient, and with the reference engine
(`kit.engine`, `kit.nn`) for what training must do to the parameters.

Every input a task is asked at (points, step sizes, start parameters, the order of the data) is
drawn from the plan's generator, seeded like the probe points (`os.urandom`, or HMAC per
submission in a batch): the expected numbers of one run are no answer to the next.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from graders.judge.oracle import Oracle
from graders.model import (
    Case,
    Diagnosis,
    Group,
    OpResult,
    Outcome,
    Probe,
    SubCheck,
    answer_error,
    is_number,
)
from graders.spec import optable
from graders.spec.optable import OpSpec

# --- assignment 1: derivatives ----------------------------------------------------------------

F_SOURCE = "3*x**2 - 4*x + 5"  # the lecture's f; the notebook's cell is generated from this
F_AT = 3.0  # where the notebook looks at f; slope_errors(hs) measures |slope(f, 3, h) - 14| there
SLOPE_FUNCTIONS = ("3*x**2 - 4*x + 5", "x**3 - 2*x", "sin(x) + x/3", "exp(x/2)")
ABC_AT = (2.0, -3.0, 10.0)  # the notebook's example point (the grader draws its own)
ABC_SOURCE = "a*b + c"
# slope_errors is asked at one step size drawn from each decade (1e-2, 1e-1], ..., (1e-16,
# 1e-15]: big steps where truncation rules, tiny ones where rounding does.
STEP_DECADES = range(1, 16)
BIG_STEPS = 4  # the steps whose error the parent predicts exactly: truncation, from sympy
BETWEEN = (1e-10, 1e-5)  # where the error is smallest ...
ENDS = (1e-3, 1e-14)  # ... and where it must be larger: h > 1e-3 (truncation), h <= 1e-14

# --- assignment 3: the MLP --------------------------------------------------------------------

SMALL_NET = (2, (2, 1))  # small enough for sympy, deep enough to need the chain rule
SMALL_XS = ((1.5, -0.5), (-1.0, 2.0))
SMALL_YS = (1.0, -1.0)
LECTURE_NET = (3, (4, 4, 1))
TRAINING_STEPS, TRAINING_LR = 40, 0.05
TRAINING_START = 3  # the seed of the fixed start "the loss falls" is judged from (score_training)
ZERO_GRAD_STEPS = 3


def _close(got: Any, expected: float, tol: float) -> bool:
    """Within tol * (1 + |expected|): slopes carry their step's error, so not the op tolerance
    (tol = inf asks only for a finite number)."""
    return is_number(got) and abs(got - expected) <= tol * (1 + abs(expected))


@dataclass(frozen=True)
class Verdict:
    """One part of a task: passed or not, and the sentence a student reads when it failed."""

    label: str
    passed: bool
    detail: str = ""


def _sympy(source: str, names: str = "x") -> tuple[Any, Any, tuple]:
    import sympy as sp  # lazy: only the tasks of assignments 1 and 3 need it at scoring time

    symbols = sp.symbols(names, real=True)
    symbols = symbols if isinstance(symbols, tuple) else (symbols,)
    return sp, sp.sympify(source, locals={s.name: s for s in symbols}), symbols


@cache
def _python(source: str) -> str:
    """The sympy expression of x as Python over `math`, for the child to call."""
    sp, expr, _ = _sympy(source)
    return sp.pycode(expr, fully_qualified_modules=True)


def _case(spec: OpSpec, index: int, program: list[str], inputs: dict[str, Any],
          report: dict[str, str]) -> Case:
    payload = {"program": program, "inputs": inputs, "report": report}
    return Case(f"{spec.key}/{index}", "program", spec.key, payload, dict(inputs))


def _set_params(names: str = "ps", values: str = "values") -> str:
    return f"for _p, _v in zip({names}, {values}):\n    _p.data, _p.grad = _v, 0.0"


# The functions a task calls by name, as the notebook asks for them (solutions/mlp): a name
# bound to something else (the lecture's `loss = sum(...)`, a Value computed once) is told
# what the task calls, instead of "'Value' object is not callable" from a line it never wrote.
SIGNATURES: dict[str, tuple[str, str]] = {
    "loss": ("loss(ypred, ys)", "with the model's predictions (Values) and the targets, and "
             "uses the Value it returns, the sum of (prediction - target)²"),
    "train": ("train(model, xs, ys, steps, lr)", "and uses the list of losses it returns, one "
              "plain number per step"),
}
NOT_A_FUNCTION = "TypeError: not a function: "


def _must_be_a_function(name: str) -> str:
    """A first program line: `name` is callable, or the child says what it is instead."""
    return (f"if not callable({name}): raise TypeError('not a function: {name} is a ' + "
            f"type({name}).__name__)")


def _not_a_function(spec: OpSpec, error: str) -> Diagnosis | None:
    """The diagnosis for a task whose function is some other object (a Value)."""
    if not error.startswith(NOT_A_FUNCTION):
        return None
    name, _, kind = error.removeprefix(NOT_A_FUNCTION).partition(" is a ")
    if name not in SIGNATURES:
        return None
    signature, use = SIGNATURES[name]
    mistake = optable.observed("not_a_function")
    kind = kind[:40] or "value"
    return Diagnosis(mistake.key, f"defines `{name}` as a {kind}, not a function",
                     f"This task calls `{signature}` {use}: define a function named `{name}` "
                     f"that takes those arguments (`def {signature}:`). "
                     f"{mistake.hint}", inputs=[])


def _data(expression: str) -> str:
    return f"getattr({expression}, 'data', {expression})"


# --- planners ---------------------------------------------------------------------------------


def plan_slope(spec: OpSpec, rng: random.Random) -> list[Case]:
    cases = []
    for index, source in enumerate(SLOPE_FUNCTIONS):
        at = round(rng.uniform(-2, 2), 3)
        cases.append(_case(spec, index, [f"f = lambda x: {_python(source)}"],
                           {"at": at, "source": source},
                           {"small": "slope(f, at, 1e-6)", "big": "slope(f, at, 0.25)"}))
    return cases


def plan_slopes_abc(spec: OpSpec, rng: random.Random) -> list[Case]:
    points = [tuple(round(rng.uniform(-5, 5), 2) for _ in range(3)) for _ in range(3)]
    return [_case(spec, index, [], {"a": a, "b": b, "c": c},
                  {"slopes": "list(slopes_abc(a, b, c, 1e-4))"})
            for index, (a, b, c) in enumerate(points)]


def step_sizes(rng: random.Random) -> list[float]:
    """One step size from each decade of STEP_DECADES, largest first."""
    return [10.0 ** -(k + rng.random()) for k in STEP_DECADES]


def plan_slope_errors(spec: OpSpec, rng: random.Random) -> list[Case]:
    return [_case(spec, 0, [], {"hs": step_sizes(rng)}, {"errors": "list(slope_errors(hs))"})]


def plan_neuron(spec: OpSpec, rng: random.Random) -> list[Case]:
    values = [round(rng.uniform(-1, 1), 3) for _ in range(4)]
    x = [round(rng.uniform(-2, 2), 3) for _ in range(3)]
    program = ["n = Neuron(3)", "ps = list(n.parameters())", _set_params(), "y = n(x)"]
    return [_case(spec, 0, program, {"values": values, "x": x},
                  {"count": "len(ps)", "out": _data("y")})]


def plan_parameters(spec: OpSpec, rng: random.Random) -> list[Case]:
    shapes = ((3, [4, 4, 1]), (2, [3, 1]), (4, [2, 3]))
    return [_case(spec, index, [], {"nin": nin, "nouts": nouts},
                  {"count": "len(list(MLP(nin, nouts).parameters()))"})
            for index, (nin, nouts) in enumerate(shapes)]


def _network_program(nin: int, nouts: tuple[int, ...]) -> list[str]:
    return [f"model = MLP({nin}, {list(nouts)})", "ps = list(model.parameters())", _set_params()]


def plan_loss_gradient(spec: OpSpec, rng: random.Random) -> list[Case]:
    nin, nouts = SMALL_NET
    values = [round(rng.uniform(-1, 1), 3) for _ in range(_count(nin, nouts))]
    program = [_must_be_a_function("loss"), *_network_program(nin, nouts),
               "out = loss([model(list(x)) for x in xs], list(ys))", "out.backward()"]
    inputs = {"values": values, "xs": [list(x) for x in SMALL_XS], "ys": list(SMALL_YS)}
    return [_case(spec, 0, program, inputs,
                  {"count": "len(ps)", "loss": _data("out"), "grads": "[p.grad for p in ps]"})]


def _training_inputs(rng: random.Random, steps: int, shuffle: bool = True) -> dict[str, Any]:
    """Start parameters drawn from `rng`, and the lecture's four samples in an order drawn
    from it too (`shuffle=False`: the lecture's order)."""
    from kit.data import four_samples

    xs, ys = four_samples()
    values = [rng.uniform(-1, 1) for _ in range(_count(*LECTURE_NET))]
    order = list(range(len(xs)))
    if shuffle:
        rng.shuffle(order)
    return {"values": values, "xs": [list(xs[i]) for i in order], "ys": [ys[i] for i in order],
            "steps": steps, "lr": TRAINING_LR}


def plan_training(spec: OpSpec, rng: random.Random) -> list[Case]:
    """From a start and a data order drawn per run, so the losses of one run are no answer to
    another (score_training says how the draw is kept out of the grade)."""
    program = [_must_be_a_function("train"), *_network_program(*LECTURE_NET),
               "losses = [" + _data("v") + " for v in train(model, xs, ys, steps, lr)]"]
    return [_case(spec, 0, program, _training_inputs(rng, TRAINING_STEPS),
                  {"count": "len(ps)", "losses": "losses"})]


def plan_zero_grad(spec: OpSpec, rng: random.Random) -> list[Case]:
    program = [_must_be_a_function("train"), *_network_program(*LECTURE_NET),
               "train(model, xs, ys, steps, lr)"]
    return [_case(spec, 0, program, _training_inputs(rng, ZERO_GRAD_STEPS),
                  {"count": "len(ps)", "params": "[p.data for p in ps]"})]


# --- scorers: each turns the child's reported numbers into verdicts ---------------------------


def _count(nin: int, nouts: tuple[int, ...] | list[int]) -> int:
    """Parameters of MLP(nin, nouts): one weight per input plus a bias, per neuron."""
    return sum((a + 1) * b for a, b in itertools.pairwise([nin, *nouts]))


expected_count = _count  # the notebook's prose quotes it (41 for the lecture's network)


def score_slope(case: Case, got: dict[str, Any]) -> list[Verdict]:
    sp, expr, (x,) = _sympy(case.values["source"])
    at, source = case.values["at"], case.values["source"]
    exact = float(sp.diff(expr, x).subs(x, at))
    h = sp.Rational(1, 4)
    forward = float(((expr.subs(x, at + h) - expr.subs(x, at)) / h).evalf())
    return [
        Verdict(f"{source} at x={at:g}, h=1e-6", _close(got.get("small"), exact, 1e-4),
                f"slope of {source} at x={at:g} with h=1e-6: expected about {exact:.6g} "
                f"(sympy), got {got.get('small')!r}"),
        Verdict(f"{source} at x={at:g}, h=0.25", _close(got.get("big"), forward, 1e-9),
                f"with the big step h=0.25, (f(x+h) - f(x))/h for {source} at x={at:g} is "
                f"{forward:.6g}, got {got.get('big')!r}: use the h you are given"),
    ]


def score_slopes_abc(case: Case, got: dict[str, Any]) -> list[Verdict]:
    sp, expr, symbols = _sympy(ABC_SOURCE, "a b c")
    point = {s: case.values[s.name] for s in symbols}
    slopes = got.get("slopes") if isinstance(got.get("slopes"), list) else []
    at = ", ".join(f"{s}={v:g}" for s, v in point.items())
    verdicts = []
    for index, symbol in enumerate(symbols):
        exact = float(sp.diff(expr, symbol).subs(point))
        value = slopes[index] if index < len(slopes) else None
        verdicts.append(Verdict(f"dd/d{symbol} at {at}", _close(value, exact, 1e-6),
                                f"dd/d{symbol} of d = a*b + c at {at}: expected {exact:g} "
                                f"(sympy), got {value!r}"))
    return verdicts


def score_slope_errors(case: Case, got: dict[str, Any]) -> list[Verdict]:
    """The errors at the big steps are the truncation sympy predicts; only numbers that are
    (so computed from the steps given, not typed in) are asked where the error is smallest.
    That is judged by what rounding cannot blur: smaller somewhere in BETWEEN than at both
    ENDS (a single tiny step can land on a lucky rounding), and larger at the tiniest step
    than near 1e-8."""
    sp, expr, (x,) = _sympy(F_SOURCE)
    h_sym = sp.Symbol("h", positive=True)
    truncation = sp.simplify((expr.subs(x, x + h_sym) - expr) / h_sym - sp.diff(expr, x))
    errors = got.get("errors") if isinstance(got.get("errors"), list) else []
    hs = case.values["hs"]
    if len(errors) != len(hs) or not all(_close(e, 0.0, math.inf) for e in errors):
        return [Verdict("one error per step size", False,
                        f"slope_errors({len(hs)} step sizes) must return {len(hs)} numbers")]
    verdicts = []
    for h, error in zip(hs[:BIG_STEPS], errors[:BIG_STEPS], strict=True):
        exact = abs(float(truncation.subs({x: F_AT, h_sym: h})))
        # relative to the error itself (3h here): rounding adds under 1e-4 of it at these
        # steps, and "1 + |expected|" would let a 0 pass for 3e-4
        close = is_number(error) and abs(error - exact) <= 1e-3 * exact
        verdicts.append(Verdict(f"error at h={h:.3g}", close,
                                f"at h={h:.6g} the error is truncation, {truncation} = "
                                f"{exact:.6g} (sympy), got {error!r}"))
    shape = ("the best h lies in between", "rounding wins at the tiniest h")
    if not all(v.passed for v in verdicts):
        why = ("only errors measured at the step sizes given (hs) can show where the error is "
               "smallest; return abs(slope(f, 3.0, h) - 14.0) for each h in hs")
        return verdicts + [Verdict(label, False, why) for label in shape]
    between = [e for h, e in zip(hs, errors, strict=True) if BETWEEN[0] <= h <= BETWEEN[1]]
    ends = [e for h, e in zip(hs, errors, strict=True) if h > ENDS[0] or h <= ENDS[1]]
    best = hs[min(range(len(hs)), key=lambda i: errors[i])]
    near = min(range(len(hs)), key=lambda i: abs(math.log10(hs[i] / 1e-8)))
    verdicts.append(Verdict(shape[0], min(between) < min(ends),
                            f"your smallest error is at h={best:.3g}; it should be in between "
                            f"({BETWEEN[0]:g} to {BETWEEN[1]:g}): big h truncates, tiny h loses "
                            "digits to rounding"))
    verdicts.append(Verdict(shape[1], errors[-1] > errors[near],
                            f"at h={hs[-1]:.3g} the error should be larger than at "
                            f"h={hs[near]:.3g}: rounding wins"))
    return verdicts


def _count_verdict(got: dict[str, Any], expected: int, what: str) -> Verdict:
    count = got.get("count")
    return Verdict(f"{what} has {expected} parameters", count == expected,
                   f"{what} should have {expected} parameters (one weight per input plus a "
                   f"bias, per neuron); parameters() gave {count!r}")


def score_neuron(case: Case, got: dict[str, Any]) -> list[Verdict]:
    values, x = case.values["values"], case.values["x"]
    counted = _count_verdict(got, 4, "Neuron(3)")
    if not counted.passed:
        return [counted]
    expected = math.tanh(sum(w * xi for w, xi in zip(values, x, strict=False)) + values[-1])
    return [Verdict("tanh(w·x + b)", _close(got.get("out"), expected, 1e-12),
                    f"with weights {values[:3]}, bias {values[3]} and x={x} the neuron should "
                    f"give tanh(w·x + b) = {expected:.6g}, got {got.get('out')!r}")]


def score_parameters(case: Case, got: dict[str, Any]) -> list[Verdict]:
    nin, nouts = case.values["nin"], case.values["nouts"]
    return [_count_verdict(got, _count(nin, nouts), f"MLP({nin}, {nouts})")]


def _symbolic_loss(nin: int, nouts: tuple[int, ...], xs, ys) -> tuple[Any, list[Any]]:
    """The lecture's network and loss as one sympy expression, parameters in lecture order."""
    import sympy as sp  # lazy: see _sympy

    params: list[Any] = []
    layers = []
    for li, (a, b) in enumerate(itertools.pairwise([nin, *nouts])):
        neurons = []
        for ni in range(b):
            w = list(sp.symbols(f"w{li}_{ni}_0:{a}", real=True))
            bias = sp.Symbol(f"b{li}_{ni}", real=True)
            params += [*w, bias]
            neurons.append((w, bias))
        layers.append(neurons)
    total = 0
    for x, y in zip(xs, ys, strict=True):
        act = [sp.nsimplify(v) for v in x]
        for neurons in layers:
            act = [sp.tanh(sum(wi * xi for wi, xi in zip(w, act, strict=True)) + bias)
                   for w, bias in neurons]
        total += (act[0] - sp.nsimplify(y)) ** 2
    return total, params


def score_loss_gradient(case: Case, got: dict[str, Any]) -> list[Verdict]:
    import sympy as sp  # lazy: see _sympy

    nin, nouts = SMALL_NET
    counted = _count_verdict(got, _count(nin, nouts), f"MLP({nin}, {list(nouts)})")
    if not counted.passed:
        return [counted]
    expr, symbols = _symbolic_loss(nin, nouts, SMALL_XS, SMALL_YS)
    at = dict(zip(symbols, case.values["values"], strict=True))
    expected_loss = float(expr.subs(at))
    verdicts = [Verdict("the loss", _close(got.get("loss"), expected_loss, 1e-9),
                        f"the loss of MLP({nin}, {list(nouts)}) on two samples should be "
                        f"{expected_loss:.6g} (sympy: sum of (ypred - y)^2), got "
                        f"{got.get('loss')!r}")]
    grads = got.get("grads") if isinstance(got.get("grads"), list) else []
    wrong = []
    for index, symbol in enumerate(symbols):
        exact = float(sp.diff(expr, symbol).subs(at))
        value = grads[index] if index < len(grads) else None
        if not _close(value, exact, 1e-9):
            wrong.append(f"parameter {index} ({symbol}): expected grad {exact:.6g} (sympy), "
                         f"got {value!r}")
    verdicts.append(Verdict("every parameter's gradient", not wrong, "; ".join(wrong[:2]) + (
        " (parameters() must list each neuron's weights, then its bias, layer by layer)"
        if wrong else "")))
    return verdicts


def score_training(case: Case, got: dict[str, Any]) -> list[Verdict]:
    """Which loop the losses come from is decided at the drawn start: the lecture's loop, or
    the lecture's bug (a stale gradient: no zeroing, task 3.5's to mark down). Whether that
    loop makes the loss fall is judged from one fixed start, in the parent: from a few starts
    even the right loop barely moves the loss in 40 steps (saturated tanh units), a stale one
    from many, and a grade must not depend on the draw."""
    steps = case.values["steps"]
    losses = got.get("losses") if isinstance(got.get("losses"), list) else []
    if len(losses) != steps or not all(_close(v, 0.0, math.inf) for v in losses):
        return [Verdict("one loss per step", False,
                        f"train(..., steps={steps}, ...) must return the {steps} losses as "
                        "numbers")]
    inputs = [case.values[name] for name in ("values", "xs", "ys", "steps", "lr")]
    loop = next((zero for zero in (True, False)
                 if all(_close(got, want, 1e-6) for got, want in zip(
                     losses, reference_training(*inputs, zero=zero)[1], strict=True))), None)
    if loop is None:  # a list of numbers that falls is not yet training
        return [Verdict("the losses come from training", False,
                        f"these are not the losses of training MLP{LECTURE_NET} from its "
                        "parameters: each step, compute the squared-error loss, backward(), "
                        "p.data -= lr * p.grad, and return each step's loss")]
    fixed = fixed_start_losses(steps, case.values["lr"], loop)
    falls = sum(b < a for a, b in itertools.pairwise(fixed))
    return [
        Verdict("the loss falls by 10%", fixed[-1] < 0.9 * fixed[0],
                f"from the grader's fixed start, {steps} steps of your loop at "
                f"lr={case.values['lr']:g} take the loss from {fixed[0]:.4g} to "
                f"{fixed[-1]:.4g}; it should fall by at least 10%"),
        Verdict("the loss falls at nearly every step", falls >= 0.8 * (steps - 1),
                f"from the grader's fixed start, your loop lowers the loss at only {falls} "
                f"of {steps - 1} steps; with a small lr it should fall at nearly every one"),
    ]


@cache
def fixed_start_losses(steps: int, lr: float, zero: bool) -> tuple[float, ...]:
    """Each step's loss of the reference loop (`zero`: zeroing the grads or not) from the
    fixed start TRAINING_START, on the four samples in the lecture's order."""
    start = _training_inputs(random.Random(TRAINING_START), steps, shuffle=False)
    return tuple(reference_training(start["values"], start["xs"], start["ys"], steps, lr,
                                    zero)[1])


def reference_training(start: list[float], xs, ys, steps: int, lr: float,
                       zero: bool) -> tuple[list[float], list[float]]:
    """The lecture's loop on the reference engine: forward, (zero grads), backward, step.
    Returns the final parameters and each step's loss."""
    from kit.engine import Value
    from kit.nn import MLP

    nin, nouts = LECTURE_NET
    model = MLP(nin, list(nouts), value_cls=Value)
    params = model.parameters()
    for p, value in zip(params, start, strict=True):
        p.data = value
    losses = []
    for _ in range(steps):
        loss = sum(((model(x) - y) ** 2 for x, y in zip(xs, ys, strict=True)), Value(0.0))
        losses.append(loss.data)
        if zero:
            for p in params:
                p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
    return [p.data for p in params], losses


def score_zero_grad(case: Case, got: dict[str, Any]) -> list[Verdict]:
    counted = _count_verdict(got, _count(*LECTURE_NET), f"MLP{LECTURE_NET}")
    if not counted.passed:
        return [counted]
    params = got.get("params") if isinstance(got.get("params"), list) else []
    inputs = [case.values[name] for name in ("values", "xs", "ys", "steps", "lr")]
    right = reference_training(*inputs, zero=True)[0]
    if len(params) == len(right) and all(_close(g, r, 1e-9) for g, r in zip(params, right,
                                                                             strict=True)):
        return [Verdict("zeroed before each backward()", True)]
    stale = reference_training(*inputs, zero=False)[0]
    if len(params) == len(stale) and all(_close(g, s, 1e-9) for g, s in zip(params, stale,
                                                                             strict=True)):
        detail = ("your parameters moved by the sum of every step's gradients so far: "
                  "backward() adds into .grad, so zero the grads (model.zero_grad() or "
                  "p.grad = 0.0) before each loss.backward()")
    else:
        detail = (f"after {case.values['steps']} steps at lr={case.values['lr']:g} the "
                  "parameters differ from forward, zero grads, backward, p.data -= lr * p.grad "
                  "repeated: check the order of a step")
    return [Verdict("zeroed before each backward()", False, detail)]


Planner = Callable[[OpSpec, random.Random], list[Case]]
Scorer = Callable[[Case, dict[str, Any]], list[Verdict]]
TASKS: dict[str, tuple[Planner, Scorer]] = {
    "slope": (plan_slope, score_slope),
    "slopes_abc": (plan_slopes_abc, score_slopes_abc),
    "slope_errors": (plan_slope_errors, score_slope_errors),
    "neuron": (plan_neuron, score_neuron),
    "parameters": (plan_parameters, score_parameters),
    "loss_gradient": (plan_loss_gradient, score_loss_gradient),
    "training": (plan_training, score_training),
    "zero_grad": (plan_zero_grad, score_zero_grad),
}


def plan(spec: OpSpec, rng: random.Random, count: int) -> Group:
    """The task's checks (`count` does not apply: each task asks what it needs)."""
    return Group(spec.key, TASKS[spec.key][0](spec, rng), spec.method, spec.library)


def score(spec: OpSpec, group: Group, outcome: Outcome, oracle: Oracle,
          max_points: float) -> OpResult:
    """Points split evenly over the verdicts of every check; a raising check fails its part."""
    result = OpResult(spec.key, spec.task, spec.title, max_points)
    group_error = outcome.group_errors.get(spec.key)
    scorer = TASKS[spec.key][1]
    verdicts: list[Verdict] = []
    for number, case in enumerate(group.cases, start=1):
        record = outcome.records.get(case.id)
        error = answer_error(record, group_error)
        if error:
            result.error = result.error or error
            result.diagnosis = result.diagnosis or _not_a_function(spec, error)
            result.failures.append(Probe(case.id, None, {}, None, None, None, None, error=error,
                                         where=record.where if record else None))
            # named by its place, never by its case id ("neuron/0" is the grader's word)
            verdicts.append(Verdict(f"check {number} of {len(group.cases)} (it raised an "
                                    "error)", False, ""))
            continue
        verdicts += scorer(case, dict(record.reported))
    result.subchecks = [SubCheck(v.label, 1.0, v.passed, v.detail) for v in verdicts]
    total = len(verdicts)
    result.points = round(max_points * sum(v.passed for v in verdicts) / total, 4) \
        if total else 0.0
    return result
