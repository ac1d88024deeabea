"""The course's three assignments: their tasks, and the checks hidden grade cells call.

Assignment 2 (`backprop`) is the op table itself: its tasks, titles and points are read from
`graders.optable` and scored by the same probes, scorer and feedback as `gradkit grade` (through
`graders.inprocess`), so nbgrader and the grader give each op the same points. Assignments 1
(`derivatives`) and 3 (`mlp`) have no ops; their tasks live in `COURSE_TASKS` below, and each is
checked against sympy or against a replay of the student's own code.

Every public check prints what it found and *returns* the points as a float. It never raises:
nbgrader shows a failing cell's traceback, hidden lines included, and gives a cell that writes
to stderr zero points; a returned float is nbgrader's partial credit.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import random
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graders.report import feedback
from graders.spec import optable
from graders.spec.optable import BACKPROP

ASSIGNMENTS = ("derivatives", "backprop", "mlp")


@dataclass(frozen=True)
class Task:
    """One graded task of a notebook: the id a student sees everywhere, and its points."""

    assignment: str
    task: str
    key: str
    title: str
    points: float


COURSE_TASKS: tuple[Task, ...] = (
    Task("derivatives", "1.1", "slope", "slope(f, x, h): the forward-difference slope", 2),
    Task("derivatives", "1.2", "slopes_abc", "slopes of d = a*b + c with respect to a, b, c", 2),
    Task("derivatives", "1.3", "slope_errors", "how the step size h changes the error", 2),
    Task("mlp", "3.1", "neuron", "Neuron: tanh(w·x + b) and its parameters", 1),
    Task("mlp", "3.2", "parameters", "Layer, MLP and parameters() (41 for MLP(3, [4, 4, 1]))", 2),
    Task("mlp", "3.3", "loss_gradient", "the squared-error loss and its gradient", 3),
    Task("mlp", "3.4", "training", "training makes the loss fall", 2),
    Task("mlp", "3.5", "zero_grad", "each step starts from zeroed gradients", 2),
)


def tasks(assignment: str) -> tuple[Task, ...]:
    """Every graded task of an assignment, in order; backprop's come from the op table."""
    if assignment == "backprop":
        return tuple(Task("backprop", spec.task, spec.key, spec.title,
                          BACKPROP.points_for(spec.key))
                     for spec in (optable.op(key) for key in BACKPROP.ops) if not spec.optional)
    found = tuple(t for t in COURSE_TASKS if t.assignment == assignment)
    if not found:
        raise KeyError(f"unknown assignment {assignment!r}; the course has {ASSIGNMENTS}")
    return found


def task(key: str) -> Task:
    for assignment in ASSIGNMENTS:
        for item in tasks(assignment):
            if item.key == key:
                return item
    raise KeyError(f"no task {key!r} in the course")


# --- the entry point of every hidden grade cell ------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """Keep the student's prints and warnings out of the grade cell (stderr costs all points)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield buffer


def grade(key: str, namespace: dict[str, Any]) -> float:
    """Check one task against the names the notebook defined; print why, return the points."""
    item = task(key)
    try:
        with _quiet():
            if item.assignment == "backprop":
                points, lines = _backprop(item, namespace)
            else:
                fraction, lines = CHECKS[key](namespace)
                points = round(item.points * fraction, 4)
    except NotImplementedError as error:
        points, lines = 0.0, [f"not implemented: {error}".replace(
            "not implemented: not implemented: ", "not implemented: ")]
    except Exception as error:  # a check must end in a message, never a traceback
        points, lines = 0.0, [f"your code raised {type(error).__name__}: {error}"]
    verdict = _verdict(points, item.points, lines)
    print(f"task {item.task}, {item.title}: {points:g} / {item.points:g} ({verdict})")
    for line in lines:
        print(f"  {line}")
    return float(points)


def _verdict(points: float, max_points: float, lines: list[str]) -> str:
    if points == max_points:
        return "passed"
    if any(line.startswith("not implemented") for line in lines):
        return "not implemented"
    return "wrong"


def selfcheck(assignment: str, namespace: dict[str, Any]) -> None:
    """Every task of an assignment, one verdict each: passed, wrong or not implemented."""
    if assignment == "backprop":
        from graders.course.self_check import selfcheck as table

        table(namespace.get("Value"))
        return
    for item in tasks(assignment):
        grade(item.key, namespace)


# --- assignment 2: the op table through the in-process grader ----------------------------------

_BACKPROP_CACHE: dict[int, tuple[weakref.ref, dict]] = {}


def _backprop(item: Task, namespace: dict[str, Any]) -> tuple[float, list[str]]:
    from graders.judge import oracle as oracle_module
    from graders.judge import probes, scoring
    from graders.run import inprocess
    cls = namespace.get("Value")
    if not isinstance(cls, type):
        return 0.0, ["the notebook does not define a class named `Value`"]
    cached = _BACKPROP_CACHE.get(id(cls))
    if cached is None or cached[0]() is not cls:
        groups = probes.plan(BACKPROP, probes.new_seed())
        outcome = inprocess.run(cls, groups)
        results = scoring.score(BACKPROP, groups, outcome, oracle_module.load())
        cached = (weakref.ref(cls), {op.key: op for op in results})
        _BACKPROP_CACHE[id(cls)] = cached
    op = cached[1][item.key]
    from graders.course.self_check import NOT_IMPLEMENTED, Row

    row = Row.from_result(op)
    if row.status == NOT_IMPLEMENTED:
        return op.points, [line if line.startswith("not implemented") else
                           f"not implemented: {line}" for line in row.lines]
    return op.points, feedback.explain(op)


# --- assignment 1: derivatives ----------------------------------------------------------------

F_SOURCE = "3*x**2 - 4*x + 5"  # the lecture's f; the notebook's cell is generated from this
F_AT = 3.0
SLOPE_FUNCTIONS = ("3*x**2 - 4*x + 5", "x**3 - 2*x", "sin(x) + x/3", "exp(x/2)")
ABC_AT = (2.0, -3.0, 10.0)
ABC_SOURCE = "a*b + c"


def _sympy_function(source: str, names: str = "x") -> tuple[Any, Any, tuple]:
    import sympy as sp

    symbols = sp.symbols(names, real=True)
    symbols = symbols if isinstance(symbols, tuple) else (symbols,)
    expr = sp.sympify(source, locals={s.name: s for s in symbols})
    return sp, expr, symbols


def _numeric(sp: Any, expr: Any, symbols: tuple) -> Callable[..., float]:
    return sp.lambdify(symbols, expr, modules="math")


def _fraction(results: list[tuple[bool, str]]) -> tuple[float, list[str]]:
    passed = sum(ok for ok, _ in results)
    return passed / len(results), [line for ok, line in results if not ok]


def _close(got: Any, expected: float, tol: float) -> bool:
    return isinstance(got, (int, float)) and not isinstance(got, bool) \
        and math.isfinite(got) and abs(got - expected) <= tol * (1 + abs(expected))


def check_slope(ns: dict[str, Any]) -> tuple[float, list[str]]:
    slope = ns.get("slope")
    if not callable(slope):
        return 0.0, ["define slope(f, x, h)"]
    sp = expr = None
    results = []
    rng = random.Random()
    for source in SLOPE_FUNCTIONS:
        sp, expr, (x,) = _sympy_function(source)
        h_sym = sp.Symbol("h", positive=True)
        f = _numeric(sp, expr, (x,))
        exact = _numeric(sp, sp.diff(expr, x), (x,))
        forward = _numeric(sp, (expr.subs(x, x + h_sym) - expr) / h_sym, (x, h_sym))
        at = F_AT if source == F_SOURCE else round(rng.uniform(-2, 2), 3)
        got = slope(f, at, 1e-6)
        results.append((_close(got, exact(at), 1e-4),
                        f"slope of {source} at x={at:g} with h=1e-6: expected about "
                        f"{exact(at):.6g} (sympy), got {got!r}"))
        got = slope(f, at, 0.25)
        results.append((_close(got, forward(at, 0.25), 1e-9),
                        f"with the big step h=0.25, (f(x+h) - f(x))/h for {source} at "
                        f"x={at:g} is {forward(at, 0.25):.6g}, got {got!r}: use the h you "
                        "are given"))
    return _fraction(results)


def check_slopes_abc(ns: dict[str, Any]) -> tuple[float, list[str]]:
    slopes_abc = ns.get("slopes_abc")
    if not callable(slopes_abc):
        return 0.0, ["define slopes_abc(a, b, c, h)"]
    sp, expr, symbols = _sympy_function(ABC_SOURCE, "a b c")
    rng = random.Random()
    points = [ABC_AT] + [tuple(round(rng.uniform(-5, 5), 2) for _ in range(3))
                         for _ in range(2)]
    results = []
    for point in points:
        got = slopes_abc(*point, 1e-4)
        got = tuple(got) if isinstance(got, (tuple, list)) else (got,)
        for index, symbol in enumerate(symbols):
            exact = float(sp.diff(expr, symbol).subs(dict(zip(symbols, point, strict=True))))
            value = got[index] if index < len(got) else None
            at = ", ".join(f"{s}={v:g}" for s, v in zip("abc", point, strict=True))
            results.append((_close(value, exact, 1e-6),
                            f"dd/d{symbol} of d = a*b + c at {at}: expected {exact:g} "
                            f"(sympy), got {value!r}"))
    return _fraction(results)


def check_slope_errors(ns: dict[str, Any]) -> tuple[float, list[str]]:
    slope_errors = ns.get("slope_errors")
    if not callable(slope_errors):
        return 0.0, ["define slope_errors(hs)"]
    sp, expr, (x,) = _sympy_function(F_SOURCE)
    h_sym = sp.Symbol("h", positive=True)
    truncation = sp.simplify((expr.subs(x, x + h_sym) - expr) / h_sym - sp.diff(expr, x))
    hs = [10.0**-k for k in range(1, 16)]
    got = list(slope_errors(hs))
    if len(got) != len(hs) or not all(_close(e, 0.0, math.inf) for e in got):
        return 0.0, [f"slope_errors({len(hs)} step sizes) must return {len(hs)} numbers"]
    results = []
    for h, error in zip(hs[:4], got[:4], strict=True):
        exact = abs(float(truncation.subs({x: F_AT, h_sym: h})))
        results.append((_close(error, exact, 1e-3),
                        f"at h={h:g} the error is truncation, {truncation} = {exact:.6g} "
                        f"(sympy), got {error!r}"))
    best = hs[min(range(len(hs)), key=lambda i: got[i])]
    results.append((1e-10 <= best <= 1e-5,
                    f"your smallest error is at h={best:g}; it should be in between: big h "
                    "truncates, tiny h loses digits to rounding"))
    results.append((got[-1] > got[7],
                    "at h=1e-15 the error should be larger than at h=1e-8: rounding wins"))
    return _fraction(results)


# --- assignment 3: the MLP ---------------------------------------------------------------------

SMALL_NET = (2, (2, 1))  # small enough for sympy, deep enough to need the chain rule
SMALL_XS = ([1.5, -0.5], [-1.0, 2.0])
SMALL_YS = (1.0, -1.0)


def _params(model: Any) -> list[Any]:
    params = model.parameters()
    return list(params)


def _set(params: list[Any], values: list[float]) -> None:
    for p, value in zip(params, values, strict=True):
        p.data, p.grad = value, 0.0


def _data(value: Any) -> Any:
    return getattr(value, "data", value)


def check_neuron(ns: dict[str, Any]) -> tuple[float, list[str]]:
    neuron_cls = ns.get("Neuron")
    if not callable(neuron_cls):
        return 0.0, ["define class Neuron"]
    rng = random.Random()
    n = neuron_cls(3)
    params = _params(n)
    if len(params) != 4:
        return 0.0, [f"Neuron(3) should have 3 weights and a bias, 4 parameters; got "
                     f"{len(params)}"]
    values = [round(rng.uniform(-1, 1), 3) for _ in params]
    _set(params, values)
    x = [round(rng.uniform(-2, 2), 3) for _ in range(3)]
    expected = math.tanh(sum(w * xi for w, xi in zip(values, x, strict=False)) + values[-1])
    got = _data(n(x))
    return _fraction([(_close(got, expected, 1e-12),
                       f"with weights {values[:3]}, bias {values[3]} and x={x} the neuron "
                       f"should give tanh(w·x + b) = {expected:.6g}, got {got!r}")])


def _expected_count(nin: int, nouts: tuple[int, ...]) -> int:
    sizes = [nin, *nouts]
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))


def check_parameters(ns: dict[str, Any]) -> tuple[float, list[str]]:
    mlp_cls = ns.get("MLP")
    if not callable(mlp_cls):
        return 0.0, ["define class MLP"]
    results = []
    for nin, nouts in ((3, (4, 4, 1)), (2, (3, 1)), (4, (2, 3))):
        expected = _expected_count(nin, nouts)
        got = len(_params(mlp_cls(nin, list(nouts))))
        results.append((got == expected,
                        f"MLP({nin}, {list(nouts)}) has {expected} parameters (one weight per "
                        f"input plus a bias, per neuron); parameters() gave {got}"))
    return _fraction(results)


def _symbolic_loss(nin: int, nouts: tuple[int, ...], xs, ys) -> tuple[Any, list[Any]]:
    """The lecture's network and loss as one sympy expression, parameters in lecture order."""
    import sympy as sp

    params: list[Any] = []
    sizes = [nin, *nouts]
    layers = []
    for li, (a, b) in enumerate(itertools.pairwise(sizes)):
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


def check_loss_gradient(ns: dict[str, Any]) -> tuple[float, list[str]]:
    import sympy as sp

    mlp_cls, loss = ns.get("MLP"), ns.get("loss")
    if not (callable(mlp_cls) and callable(loss)):
        return 0.0, ["define MLP and loss(ypred, ys)"]
    nin, nouts = SMALL_NET
    model = mlp_cls(nin, list(nouts))
    params = _params(model)
    expr, symbols = _symbolic_loss(nin, nouts, SMALL_XS, SMALL_YS)
    if len(params) != len(symbols):
        return 0.0, [f"MLP({nin}, {list(nouts)}) should have {len(symbols)} parameters"]
    rng = random.Random()
    values = [round(rng.uniform(-1, 1), 3) for _ in params]
    _set(params, values)
    at = dict(zip(symbols, values, strict=True))
    out = loss([model(list(x)) for x in SMALL_XS], list(SMALL_YS))
    expected_loss = float(expr.subs(at))
    results = [(_close(_data(out), expected_loss, 1e-9),
                f"the loss of MLP({nin}, {list(nouts)}) on two samples should be "
                f"{expected_loss:.6g} (sympy: sum of (ypred - y)^2), got {_data(out)!r}")]
    out.backward()
    wrong = []
    for index, (p, symbol) in enumerate(zip(params, symbols, strict=True)):
        exact = float(sp.diff(expr, symbol).subs(at))
        if not _close(p.grad, exact, 1e-9):
            wrong.append(f"parameter {index} ({symbol}): expected grad {exact:.6g} (sympy), "
                         f"got {p.grad!r}")
    results.append((not wrong, "; ".join(wrong[:2]) + (
        " (parameters() must list each neuron's weights, then its bias, layer by layer)"
        if wrong else "")))
    return _fraction(results)


def _four_samples() -> tuple[list[list[float]], list[float]]:
    from kit.data import four_samples

    return four_samples()


def check_training(ns: dict[str, Any]) -> tuple[float, list[str]]:
    mlp_cls, train = ns.get("MLP"), ns.get("train")
    if not (callable(mlp_cls) and callable(train)):
        return 0.0, ["define MLP and train(model, xs, ys, steps, lr)"]
    xs, ys = _four_samples()
    model = mlp_cls(3, [4, 4, 1])
    rng = random.Random()
    _set(_params(model), [rng.uniform(-1, 1) for _ in _params(model)])
    steps = 40
    losses = [_data(v) for v in train(model, xs, ys, steps, 0.05)]
    if len(losses) != steps or not all(_close(v, 0.0, math.inf) for v in losses):
        return 0.0, [f"train(..., steps={steps}, ...) must return the {steps} losses as numbers"]
    falls = sum(b < a for a, b in itertools.pairwise(losses))
    # Small steps of gradient descent lower this loss at nearly every step from any start in
    # [-1, 1] (checked over hundreds of starts); a sign error or a stale gradient does not.
    return _fraction([
        (losses[-1] < 0.9 * losses[0],
         f"after {steps} steps at lr=0.05 the loss went from {losses[0]:.4g} to "
         f"{losses[-1]:.4g}; it should fall by at least 10%"),
        (falls >= 0.8 * (steps - 1),
         f"the loss fell at only {falls} of {steps - 1} steps; with a small lr it should fall "
         "at nearly every one"),
    ])


def _replay(model: Any, loss: Callable, xs, ys, start: list[float], steps: int, lr: float,
            zero: bool) -> list[float]:
    params = _params(model)
    _set(params, start)
    for _ in range(steps):
        out = loss([model(x) for x in xs], ys)
        if zero:
            for p in params:
                p.grad = 0.0
        out.backward()
        for p in params:
            p.data -= lr * p.grad
    return [p.data for p in params]


def check_zero_grad(ns: dict[str, Any]) -> tuple[float, list[str]]:
    mlp_cls, train, loss = ns.get("MLP"), ns.get("train"), ns.get("loss")
    if not (callable(mlp_cls) and callable(train) and callable(loss)):
        return 0.0, ["define MLP, loss and train"]
    xs, ys = _four_samples()
    model = mlp_cls(3, [4, 4, 1])
    rng = random.Random()
    start = [rng.uniform(-1, 1) for _ in _params(model)]
    steps, lr = 3, 0.05
    _set(_params(model), start)
    train(model, xs, ys, steps, lr)
    got = [p.data for p in _params(model)]
    right = _replay(model, loss, xs, ys, start, steps, lr, zero=True)
    if all(_close(g, r, 1e-9) for g, r in zip(got, right, strict=True)):
        return 1.0, []
    stale = _replay(model, loss, xs, ys, start, steps, lr, zero=False)
    if all(_close(g, s, 1e-9) for g, s in zip(got, stale, strict=True)):
        return 0.0, ["your parameters moved by the sum of every step's gradients so far: "
                     "backward() adds into .grad, so zero the grads (model.zero_grad() or "
                     "p.grad = 0.0) before each loss.backward()"]
    return 0.0, [f"after {steps} steps at lr={lr} the parameters differ from forward, zero "
                 "grads, backward, p.data -= lr * p.grad repeated: check the order of a step"]


CHECKS: dict[str, Callable[[dict[str, Any]], tuple[float, list[str]]]] = {
    "slope": check_slope,
    "slopes_abc": check_slopes_abc,
    "slope_errors": check_slope_errors,
    "neuron": check_neuron,
    "parameters": check_parameters,
    "loss_gradient": check_loss_gradient,
    "training": check_training,
    "zero_grad": check_zero_grad,
}
