"""The checks of assignments 1 (`derivatives`) and 3 (`mlp`), against sympy or a replay.

Each check takes the notebook's namespace and returns (fraction of the task's points, lines to
print). They run in the student's kernel through `graders.course.grade`.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from typing import Any

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


def expected_count(nin: int, nouts: tuple[int, ...]) -> int:
    sizes = [nin, *nouts]
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))


def check_parameters(ns: dict[str, Any]) -> tuple[float, list[str]]:
    mlp_cls = ns.get("MLP")
    if not callable(mlp_cls):
        return 0.0, ["define class MLP"]
    results = []
    for nin, nouts in ((3, (4, 4, 1)), (2, (3, 1)), (4, (2, 3))):
        expected = expected_count(nin, nouts)
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
