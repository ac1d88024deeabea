"""The committed benchmarks still run on today's code (their figures are not asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_the_diagnosis_benchmark_runs():
    done = _run("benchmarks/diagnosis.py", "--seeds", "1")
    assert done.returncode == 0, done.stderr
    assert "named the right op and mistake" in done.stdout


@pytest.mark.slow
def test_the_engine_benchmark_runs():
    done = _run("benchmarks/bench_engine.py", "--repeats", "1")
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_the_grading_benchmark_runs(tmp_path):
    done = _run("benchmarks/bench_grading.py", "--count", "3", "--buggy", "1", "--single", "1",
                "--no-hang", "--json", str(tmp_path / "figures.json"))
    # Exit 1 means a speed target was missed, as it is on a class this small; a crash is not.
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["honest_disagreements"] == [] and figures["trusted_disagreements"] == []


@pytest.mark.slow
def test_the_parent_work_benchmark_runs():
    done = _run("benchmarks/bench_parent.py", "--sizes", "1", "2")
    assert done.returncode == 0, done.stderr
    assert "worst per-MiB ratio" in done.stdout


@pytest.mark.slow
def test_the_class_view_benchmark_runs():
    done = _run("benchmarks/bench_class_view.py", "--submissions", "4", "--rounds", "1")
    assert done.returncode == 0, done.stderr
    assert "overhead:" in done.stdout


@pytest.mark.slow
def test_the_isolation_benchmark_runs():
    if subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", "582f1b2^{commit}"],
                      capture_output=True).returncode != 0:
        pytest.skip("the baseline commit is not in this checkout's history")
    done = _run("benchmarks/bench_isolation.py", "--repeats", "1")
    assert done.returncode == 0, done.stderr
    assert "| no bubblewrap |" in done.stdout


@pytest.mark.slow
def test_the_packages_benchmark_runs():
    done = _run("benchmarks/bench_packages.py", "--repeats", "1")
    assert done.returncode == 0, done.stderr
    assert "| no bubblewrap |" in done.stdout
