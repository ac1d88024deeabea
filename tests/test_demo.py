"""kit.train and `gradkit demo`: the loss falls, deterministically, and moons get learned."""

from __future__ import annotations

import gc
import itertools
import os
import re
import subprocess
from pathlib import Path

import pytest

from kit.data import make_moons
from kit.train import accuracy, collector_paused, train_four_samples, train_moons
from tests.conftest import gradkit

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return gradkit("demo", *args, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_four_sample_loss_falls_and_predictions_approach_targets() -> None:
    model, history = train_four_samples(steps=50, lr=0.05, seed=0)
    losses = [s.loss for s in history]
    assert losses[-1] < losses[0] / 50
    assert sum(b < a for a, b in itertools.pairwise(losses)) >= 45  # falls at almost every step
    preds = [model(x).data for x in [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5]]]
    assert preds[0] > 0.8 and preds[1] < -0.8


def test_training_is_deterministic_by_seed() -> None:
    run = [s.loss for s in train_four_samples(steps=10, seed=3)[1]]
    assert run == [s.loss for s in train_four_samples(steps=10, seed=3)[1]]
    assert run != [s.loss for s in train_four_samples(steps=10, seed=4)[1]]


def test_on_step_sees_every_step() -> None:
    seen = []
    train_four_samples(steps=7, on_step=seen.append)
    assert [s.step for s in seen] == list(range(7))


def test_collector_paused_restores_the_collector_state() -> None:
    assert gc.isenabled()
    with pytest.raises(KeyError), collector_paused():
        assert not gc.isenabled()
        raise KeyError("even when the step fails")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller who had it off keeps it off
    finally:
        gc.enable()


def test_cli_demo_prints_a_falling_loss() -> None:
    done = run_cli("--steps", "20")
    assert done.returncode == 0, done.stderr
    losses = [float(m) for m in re.findall(r"^step +\d+ +loss ([\d.]+)", done.stdout, re.M)]
    assert len(losses) >= 5, done.stdout
    assert losses == sorted(losses, reverse=True) and losses[-1] < losses[0] / 10
    assert "41 parameters" in done.stdout
    assert run_cli("--steps", "20").stdout.splitlines()[:-1] == done.stdout.splitlines()[:-1]


def test_cli_demo_moons_prints_accuracy_and_rejects_bad_steps() -> None:
    done = run_cli("--moons", "--steps", "2", "--seed", "1", "--lr", "0.3")
    assert done.returncode == 0, done.stderr
    assert re.search(r"step +0 +loss [\d.]+ +accuracy +[\d.]+%", done.stdout), done.stdout
    assert "final training accuracy" in done.stdout and "lr 0.3" in done.stdout
    bad = run_cli("--steps", "0")
    assert bad.returncode == 2 and "at least 1" in bad.stderr


@pytest.mark.slow  # about 7 s alone, more on a busy machine
def test_moons_reach_95_percent_training_accuracy() -> None:
    model, history = train_moons()
    xs, ys = make_moons(100, noise=0.1, seed=0)
    assert accuracy(model, xs, ys) >= 0.95
    assert history[-1].loss < history[0].loss / 3
