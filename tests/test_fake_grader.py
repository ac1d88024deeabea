"""The replaying grader of the bookkeeping tests gives what the sandbox gives, so tests that use
it test what a class would really get."""

from __future__ import annotations

import pytest

from graders.classroom.grading import grade
from graders.classroom.records import Job
from graders.spec.assignments import DEFAULT
from tests import fake_grader
from tests.corpus import BASE, as_notebook, mutant

CASES = {
    "honest.ipynb": as_notebook(BASE.read_text()),
    "mul.py": mutant("mul_swapped").source(),
    "broken.ipynb": "{ not json",
}


def _verdicts(graded):
    return {op.key: (op.points, op.max_points, op.status,
                     op.diagnosis.key if op.diagnosis else None) for op in graded.result.ops}


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_replay_gives_the_sandboxs_verdict_naming_its_own_file_and_seed(tmp_path, name):
    first, second = tmp_path / f"first-{name}", tmp_path / name
    first.write_text(CASES[name])
    second.write_text(CASES[name] + ("\n# bob\n" if name.endswith(".py") else ""))
    fake_grader.replay_grade(Job("ada", "", str(first), DEFAULT, seed=1))
    job = Job("bob", "", str(second), DEFAULT, seed=3, shown_as=f"submitted/{name}")
    replayed, real = fake_grader.replay_grade(job), grade(job)
    assert replayed.result.submission == real.result.submission == f"submitted/{name}"
    assert replayed.result.seed == real.result.seed == 3
    assert (replayed.result.score, replayed.result.max_score) == (real.result.score,
                                                                  real.result.max_score)
    assert _verdicts(replayed) == _verdicts(real)
    assert (replayed.result.problem is None) == (real.result.problem is None)


def test_each_distinct_code_is_graded_once(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(fake_grader, "grade", lambda job: calls.append(job) or grade(job))
    monkeypatch.setattr(fake_grader, "_GRADED", {})
    monkeypatch.setenv(fake_grader.CACHE, str(tmp_path / "replays"))  # not the session's
    (tmp_path / "replays").mkdir()
    for name in ("ada", "bob", "cy"):
        (tmp_path / f"{name}.py").write_text(BASE.read_text() + f"\n# {name}\n")
        fake_grader.replay_grade(Job(name, "", str(tmp_path / f"{name}.py"), DEFAULT, seed=2))
    assert len(calls) == 1
