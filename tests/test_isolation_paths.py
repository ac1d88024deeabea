"""Which wall a grade stands on, per machine: bubblewrap, Landlock + seccomp, or the audit hook
alone, and what gradkit does on a machine with no OS wall (an old kernel, no bubblewrap).

The machine without a wall is made, not mocked: the CLI runs under a seccomp filter that
answers Landlock's calls with ENOSYS (what a kernel without Landlock answers), with no
bubblewrap on PATH.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

EXAMPLES = ROOT / "examples" / "submissions"
WITHOUT_LANDLOCK = """
import errno, os, sys
import pyseccomp
rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
for name in ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"):
    rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), name)
rules.load()
os.execv(sys.executable, [sys.executable, "-m", "graders", *sys.argv[1:]])
"""

pytestmark = pytest.mark.needs("landlock")


def gradkit_without_a_wall(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": "/nonexistent"}  # no bubblewrap either
    return subprocess.run([sys.executable, "-c", WITHOUT_LANDLOCK, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_class_is_not_graded_for_credit_without_an_os_wall(tmp_path):
    shown = gradkit_without_a_wall("grade", str(EXAMPLES), "--out", str(tmp_path / "out"))
    assert shown.returncode == 2, shown.stdout + shown.stderr
    error = shown.stderr.strip().splitlines()
    assert len(error) == 1 and "no OS wall" in error[0] and "--weak-isolation" in error[0]
    assert "no Landlock" in error[0]
    assert not (tmp_path / "out" / "grades.csv").exists()


@pytest.mark.slow
def test_weak_isolation_grades_the_class_and_every_report_says_so_first(tmp_path):
    out = tmp_path / "out"
    shown = gradkit_without_a_wall("grade", str(EXAMPLES), "--out", str(out),
                                   "--weak-isolation", "--no-progress")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert len((out / "grades.csv").read_text().strip().splitlines()) == 4  # header + 3
    one = gradkit_without_a_wall("grade", str(EXAMPLES / "alice.ipynb"), "--github")
    summary = [line for line in one.stdout.splitlines() if line.strip()]
    assert any("weak isolation" in line for line in summary[:3]), one.stdout[:800]


def test_without_bubblewrap_a_grade_is_walled_and_says_so(tmp_path):
    env = {**os.environ, "PATH": "/nonexistent"}
    shown = subprocess.run([sys.executable, "-m", "graders", "grade",
                            str(EXAMPLES / "alice.ipynb")], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "landlock isolation" in shown.stdout
    assert "WARNING" not in shown.stdout


def test_a_grade_made_without_a_wall_on_a_worker_is_not_counted(tmp_path, monkeypatch):
    """The refusal is made where the batch is started; a worker (dask) that turns out to have
    no wall gives rows that are not counted, unless the instructor said --weak-isolation."""
    from graders.classroom import batch
    from graders.classroom.gradebook import Gradebook
    from graders.run import sandbox

    monkeypatch.setattr(sandbox, "WALL", False)
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ann.py").write_text((ROOT / "tests" / "submissions" / "correct" /
                                    "lecture_style.py").read_text())
    batch.run([folder], batch.Options(outdir=tmp_path / "strict", progress=False))
    with Gradebook(tmp_path / "strict") as book:
        [row] = list(book.rows())
    assert row.score == 0 and "no OS wall" in row.problem
    batch.run([folder], batch.Options(outdir=tmp_path / "weak", strong=False, progress=False))
    with Gradebook(tmp_path / "weak") as book:
        [row] = list(book.rows())
    assert row.score == 25 and not row.problem
