"""kit.engine against micrograd 0.1.0 (PyPI), side by side in one process.

    python benchmarks/bench_engine.py [--repeats 7] [--seed 0] [--quick]

1. One training step of `MLP(2, [16, 16, 1])` (relu hidden, linear out) on 100 moons, as in
   micrograd's demo notebook: forward over all samples, hinge loss + L2, zero_grad, backward,
   SGD update. Both engines start from the same weights, and their gradients are checked to
   agree within 1e-12 before anything is timed, so the timing compares the same computation.
2. Backward over a chain `y = y + 1.0`: the deepest chain micrograd's recursive sort survives,
   then a chain 100x deeper through kit.

Prints a Markdown table; docs/performance.md records one run. Needs `pip install micrograd==0.1.0`.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

import micrograd.engine
import micrograd.nn

import kit.engine
import kit.nn
from kit.data import make_moons

Engine = tuple[str, type, Any]  # name, Value class, model


def models(seed: int) -> tuple[kit.nn.MLP, micrograd.nn.MLP]:
    """The same network in both engines: kit draws the weights, micrograd gets a copy."""
    ours = kit.nn.MLP(2, [16, 16, 1], "relu", linear_out=True, rng=seed)
    theirs = micrograd.nn.MLP(2, [16, 16, 1])
    assert str(theirs) == str(ours), "architectures differ"
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        q.data = p.data
    return ours, theirs


def loss_of(value_cls: type, model: Any, xs: list[list[float]], ys: list[float]) -> Any:
    """micrograd demo's loss, written once for both engines (same ops, same order)."""
    inputs = [[value_cls(v) for v in x] for x in xs]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def train_step(value_cls: type, model: Any, xs: list[list[float]], ys: list[float]) -> float:
    loss = loss_of(value_cls, model, xs, ys)
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= 0.01 * p.grad
    return loss.data


def check_same_gradients(engines: list[Engine], xs, ys) -> float:
    """Largest |grad difference| over all parameters; raises if any exceeds 1e-12."""
    grads = []
    for value_cls_, model in ((e[1], e[2]) for e in engines):
        loss = loss_of(value_cls_, model, xs, ys)
        model.zero_grad()
        loss.backward()
        grads.append([float(p.grad) for p in model.parameters()])
        model.zero_grad()
    worst = max(abs(a - b) for a, b in zip(*grads, strict=True))
    for i, (a, b) in enumerate(zip(*grads, strict=True)):
        if not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12):
            raise SystemExit(f"gradients differ at parameter {i}: kit {a!r}, micrograd {b!r}")
    return worst


def step_ms(engine: Engine, xs, ys, repeats: int, collect: bool) -> float:
    """Median ms of `repeats` consecutive training steps, after one warm-up step.

    With `collect` the cycle collector runs as in any training loop, so an engine whose
    graphs are reference cycles pays to have them collected. Without it (timeit's default),
    the pure compute is timed and garbage is collected between steps, off the clock.
    """
    _, value_cls, model = engine
    gc.collect()
    train_step(value_cls, model, xs, ys)
    times = []
    for _ in range(repeats):
        if not collect:
            gc.collect()
            gc.disable()
        start = time.perf_counter()
        train_step(value_cls, model, xs, ys)
        times.append(time.perf_counter() - start)
        gc.enable()
    gc.collect()
    return statistics.median(times) * 1000


def chain(value_cls: type, depth: int) -> tuple[Any, Any]:
    x = value_cls(1.0)
    y = x
    for _ in range(depth):
        y = y + 1.0
    return x, y


def micrograd_survives(depth: int) -> bool:
    _, y = chain(micrograd.engine.Value, depth)
    try:
        y.backward()
    except RecursionError:
        return False
    return True


def deepest_micrograd_chain(hi: int = 10_000) -> int:
    """Binary search for the longest chain micrograd can backward at this recursion limit."""
    lo = 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if micrograd_survives(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def timed_backward(value_cls: type, depth: int, repeats: int) -> tuple[float, float]:
    """Median (ms to build the chain, ms to backward through it); checks the gradient."""
    builds, backs = [], []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        x, y = chain(value_cls, depth)
        built = time.perf_counter()
        y.backward()
        done = time.perf_counter()
        assert x.grad == 1, f"{value_cls.__module__}: d y / d x = {x.grad} at depth {depth}"
        builds.append((built - start) * 1000)
        backs.append((done - built) * 1000)
    return statistics.median(builds), statistics.median(backs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed steps per engine (7)")
    parser.add_argument("--seed", type=int, default=0, help="weights and data seed (0)")
    parser.add_argument("--quick", action="store_true",
                        help="the smallest run that takes every path (the test suite's): 10 "
                             "moons instead of 100, one timed chain backward each, the deep "
                             "chain 2x micrograd's deepest instead of 100x; figures not "
                             "comparable to a full run")
    args = parser.parse_args(argv)
    samples, chain_repeats, deep_factor, deep_repeats = (
        (10, 1, 2, 1) if args.quick else (100, 5 * args.repeats, 100, 3))

    xs, ys = make_moons(samples, noise=0.1, seed=args.seed)
    ours, theirs = models(args.seed)
    engines: list[Engine] = [
        ("kit", kit.engine.Value, ours),
        ("micrograd 0.1.0", micrograd.engine.Value, theirs),
    ]
    worst = check_same_gradients(engines, xs, ys)
    nodes = _count_nodes(loss_of(kit.engine.Value, ours, xs, ys))

    # each engine runs its own block of steps, so neither is billed for the other's garbage
    step = {
        (name, collect): step_ms((name, v, m), xs, ys, args.repeats, collect)
        for collect in (True, False)
        for name, v, m in engines
    }

    depth_mg = deepest_micrograd_chain()
    _, back_mg = timed_backward(micrograd.engine.Value, depth_mg, chain_repeats)
    _, back_kit = timed_backward(kit.engine.Value, depth_mg, chain_repeats)
    deep = deep_factor * depth_mg
    build_deep, back_deep = timed_backward(kit.engine.Value, deep, deep_repeats)

    print(
        f"Python {sys.version.split()[0]}, recursion limit {sys.getrecursionlimit()}, "
        f"seed {args.seed}, {args.repeats} repeats"
    )
    print(f"training-step graph: {nodes:,} nodes; max |grad kit - grad micrograd| = {worst:.1e}")
    print()
    print("| benchmark | micrograd 0.1.0 | kit | kit speed-up |")
    print("| --- | ---: | ---: | ---: |")
    for collect, how in ((True, "gc on"), (False, "gc off")):
        mg, ms = step[("micrograd 0.1.0", collect)], step[("kit", collect)]
        print(
            f"| MLP(2,[16,16,1]) train step, {samples} moons, {how} (median ms) | {mg:.0f} | "
            f"{ms:.0f} | {mg / ms:.2f}x |"
        )
    print(
        f"| backward, chain of {depth_mg:,} (ms) | {back_mg:.2f} | {back_kit:.2f} | "
        f"{back_mg / back_kit:.2f}x |"
    )
    print(f"| backward, chain of {depth_mg + 1:,} | RecursionError | ok | - |")
    print(
        f"| backward, chain of {deep:,} (ms; build {build_deep:.0f} ms) | RecursionError | "
        f"{back_deep:.0f} | - |"
    )
    return 0


def _count_nodes(root: Any) -> int:
    seen, stack = set(), [root]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen.add(id(v))
            stack.extend(v._prev)
    return len(seen)


if __name__ == "__main__":
    sys.exit(main())
