"""Helpers every test file needs: run the `gradkit` CLI, find one op's verdict in a result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Wall-clock deadlines measure the machine, not the code: on 2 busy cores a 200 ms deadline
# fails examples that are correct. Speed is measured by benchmarks/, never by a test.
settings.register_profile("gradkit", deadline=None)
settings.load_profile("gradkit")

ROOT = Path(__file__).resolve().parents[1]


def gradkit(*args: str, cwd: Path = ROOT, timeout: float = 300,
            **kwargs) -> subprocess.CompletedProcess:
    """`gradkit ARGS` as a user runs it (a fresh interpreter), with output captured as text."""
    return subprocess.run([sys.executable, "-m", "graders", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def op_of(result, key: str):
    """The verdict on op `key` in a graded Result."""
    return next(op for op in result.ops if op.key == key)


@pytest.fixture
def write_submission(tmp_path):
    """Write a submission file into the test's folder and return its path."""
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write
