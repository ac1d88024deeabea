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
    done = _run("benchmarks/diagnosis.py", "--seeds", "1", "--limit", "2")
    assert done.returncode == 0, done.stderr
    assert "named the right op and mistake" in done.stdout


@pytest.mark.slow
def test_the_wrong_line_benchmark_runs():
    done = _run("benchmarks/wrong_line.py", "--seeds", "1", "--limit", "1")
    assert done.returncode == 0, done.stderr
    assert "named the mutated line: 1/1" in done.stdout


@pytest.mark.slow
def test_the_engine_benchmark_runs():
    done = _run("benchmarks/bench_engine.py", "--repeats", "1", "--quick")
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_the_grading_benchmark_runs(tmp_path):
    # The smallest class with an honest and a buggy submission; no untimed warm-up runs.
    done = _run("benchmarks/bench_grading.py", "--count", "2", "--buggy", "1", "--single", "1",
                "--no-hang", "--no-warm-up", "--json", str(tmp_path / "figures.json"))
    # Exit 1 means a speed target was missed, as it is on a class this small; a crash is not.
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["honest_disagreements"] == [] and figures["trusted_disagreements"] == []


@pytest.mark.slow
def test_the_parent_work_benchmark_runs():
    done = _run("benchmarks/bench_parent.py", "--sizes", "0.25", "0.5")
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


# --- benchmarks/bench_cpu.py: its helpers here, fast; the whole script once, slow ---------------

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:      3000 |       3000 |     sympy.core
import time:      2000 |       5000 |   sympy
import time:       400 |        400 |     rich.console
import time:       100 |       4500 |   graders.report.terminal
import time:        50 |       4550 | graders
gradkit grade: graded as backprop
"""


def test_bench_cpu_help_names_its_options():
    done = _run("benchmarks/bench_cpu.py", "--help")
    assert done.returncode == 0, done.stderr
    for option in ("--baseline", "--repeats", "--count", "--work", "--reuse", "--skip-batch",
                   "--skip-baseline", "--deps-from-here", "--json"):
        assert option in done.stdout


def test_bench_cpu_reads_importtime_by_package_self_time():
    from benchmarks.bench_cpu import importtime

    # Self times by first name, at any depth: rich imported by graders is rich's.
    assert importtime(IMPORTTIME) == {"sympy": 5000, "rich": 400, "graders": 150, "_io": 120}


def test_bench_cpu_splits_a_grade_into_parts_that_add_up():
    from benchmarks.bench_cpu import FLOOR, NEEDS, START, WHOLE, split

    parts = split({START: 0.02, FLOOR: 0.015, NEEDS: 0.1, WHOLE: 0.3})
    total = parts.pop("total (the whole grade)")
    assert total == 0.3 and abs(sum(parts.values()) - total) < 1e-12


def test_bench_cpu_batch_files_are_distinct_students(tmp_path):
    from benchmarks.bench_cpu import HONEST, make_batch

    students = make_batch(tmp_path / "batch", 2 * len(HONEST) + 1)
    files = sorted((tmp_path / "batch").iterdir())
    assert [f.stem for f in files] == sorted(students) and len(set(students)) == len(files)
    assert len({f.read_text() for f in files}) == len(files)  # no two equal: all really graded
    notebook = next(f for f in files if f.suffix == ".ipynb")
    cells = json.loads(notebook.read_text())["cells"]
    assert any("# submitted by" in "".join(cell["source"]) for cell in cells)


@pytest.mark.slow
def test_the_cpu_benchmark_runs_from_a_wheel(tmp_path):
    # A wheel of this tree in a venv of its own; its dependencies from this environment, not
    # the package registry (--deps-from-here), so it runs in seconds and offline.
    done = _run("benchmarks/bench_cpu.py", "--skip-baseline", "--repeats", "1", "--count", "2",
                "--deps-from-here", "--work", str(tmp_path / "work"),
                "--json", str(tmp_path / "figures.json"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| part | CPU ms | share |" in done.stdout
    figures = json.loads((tmp_path / "figures.json").read_text())
    this = figures["trees"]["this tree"]
    assert this["venv"].startswith(str(tmp_path))  # graded from its own venv, not the checkout
    assert figures["grade"]["trees"]["this tree"]["score"] == 25
    assert figures["batch"]["trees"]["this tree"]["runs"][0]["full_marks"] == 2


def test_the_suite_time_benchmark_times_a_file_and_counts_the_machines_cpu(tmp_path):
    done = _run("benchmarks/suite_time.py", "--top", "3", "--json", str(tmp_path / "f.json"),
                "--", "tests/test_encoders.py", "-n", "0")
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads((tmp_path / "f.json").read_text())
    assert figures["pytest"].endswith(tuple("0123456789s")) and " passed" in figures["pytest"]
    assert figures["busy_cpu_seconds"] > 0 and figures["wall_seconds"] > 0
    assert [name for name, _ in figures["longest_files"]] == ["test_encoders.py"]
    assert "cores in use" in done.stdout
