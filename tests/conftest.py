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


def pytest_configure(config) -> None:
    """One folder of replayed gradings per session (tests/fake_grader.py), shared by its
    workers: set before xdist starts them, so they inherit it."""
    import os
    import tempfile

    from tests.fake_grader import CACHE

    if not os.environ.get(CACHE):
        os.environ[CACHE] = _MADE[0] = tempfile.mkdtemp(prefix="gradkit-replays-")


_MADE: list[str] = [""]  # the replay folder this process made, removed when it ends


def pytest_unconfigure(config) -> None:
    import shutil

    if _MADE[0]:
        shutil.rmtree(_MADE[0], ignore_errors=True)


def gradkit(*args: str, cwd: Path = ROOT, timeout: float = 300,
            **kwargs) -> subprocess.CompletedProcess:
    """`gradkit ARGS` as a user runs it (a fresh interpreter), with output captured as text."""
    return subprocess.run([sys.executable, "-m", "graders", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def gradkit_replayed(*args: str) -> subprocess.CompletedProcess:
    """`gradkit ARGS` run in this process with each distinct file graded once and replayed
    (`tests/fake_grader.py`): for tests of what the CLI does around grading (the gradebook,
    grades.csv, regrades, exports, its messages), which `gradkit` above would pay a sandbox per
    student for. Output and exit status as `gradkit` gives them."""
    import contextlib
    import io

    from graders import cli
    from graders.classroom import grading
    from tests.fake_grader import replay_grade

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        patch.setattr(grading, "grade", replay_grade)
        try:
            status = cli.main(list(args))
        except SystemExit as done:  # argparse's usage errors
            status = done.code if isinstance(done.code, int) else 1
    return subprocess.CompletedProcess(["gradkit", *args], status, out.getvalue(),
                                       err.getvalue())


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
