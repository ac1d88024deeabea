"""`gradkit demo`: watch the reference engine learn, as the lecture does.

Without options it fits `MLP(3, [4, 4, 1])` to the lecture's four samples and prints the loss
as it falls; `--moons` fits a small relu MLP to 100 moons and prints loss and accuracy.
Everything is seeded, so two runs print the same numbers.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from graders.commands import VERBS
from kit.data import make_moons
from kit.train import Step, accuracy, train_four_samples, train_moons

FOUR_SAMPLES_DEFAULTS = {"steps": 50, "lr": 0.05}
MOONS_DEFAULTS = {"steps": 60, "lr": 1.0}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "demo",
        help=VERBS["demo"],
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "--moons",
        action="store_true",
        help="fit 100 two-moons points (max-margin loss) instead of the four samples",
    )
    parser.add_argument(
        "--steps",
        type=_positive_int,
        default=None,
        help=f"training steps (default {FOUR_SAMPLES_DEFAULTS['steps']}, "
        f"or {MOONS_DEFAULTS['steps']} with --moons)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and data (0)")
    parser.add_argument(
        "--lr",
        type=float,
        default=None,
        help=f"learning rate (default {FOUR_SAMPLES_DEFAULTS['lr']}, "
        f"or {MOONS_DEFAULTS['lr']} decaying to a tenth with --moons)",
    )
    parser.set_defaults(run=run)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _every(steps: int) -> int:
    """Print about ten lines whatever the run length."""
    return max(1, steps // 10)


def run(args: argparse.Namespace) -> int:
    defaults = MOONS_DEFAULTS if args.moons else FOUR_SAMPLES_DEFAULTS
    steps = args.steps if args.steps is not None else defaults["steps"]
    lr = args.lr if args.lr is not None else defaults["lr"]
    every = _every(steps)

    def show(step: Step) -> None:
        if step.step % every == 0 or step.step == steps - 1:
            acc = "" if step.accuracy is None else f"  accuracy {step.accuracy:6.1%}"
            print(f"step {step.step:4d}  loss {step.loss:.6f}{acc}", flush=True)

    start = time.perf_counter()
    if args.moons:
        print(
            f"MLP(2, [16, 16, 1]) relu, max-margin loss on 100 moons: {steps} steps, "
            f"lr {lr} -> {lr / 10:g}, seed {args.seed}"
        )
        model, history = train_moons(steps=steps, lr=lr, seed=args.seed, on_step=show)
        xs, ys = make_moons(100, noise=0.1, seed=args.seed)
        print(f"final training accuracy {accuracy(model, xs, ys):.1%}")
    else:
        print(
            f"MLP(3, [4, 4, 1]) tanh, squared error on the lecture's four samples: "
            f"{steps} steps, lr {lr}, seed {args.seed}"
        )
        model, history = train_four_samples(steps=steps, lr=lr, seed=args.seed, on_step=show)
        first, last = history[0].loss, history[-1].loss
        print(f"loss {first:.6f} -> {last:.6f}")
    print(f"{len(model.parameters())} parameters, {time.perf_counter() - start:.1f} s")
    return 0
