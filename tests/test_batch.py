"""Grading a class: layouts, grades.csv, the class summary, resuming after kill -9, sharding."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from graders.classroom import batch, discover
from graders.classroom.gradebook import Gradebook
from tests.conftest import gradkit, gradkit_replayed
from tests.corpus import BASE, as_notebook, mutant
from tests.fake_grader import replay_grade

ROOT = Path(__file__).resolve().parents[1]
HONEST = BASE.read_text()


def _honest(tag: str) -> str:
    return HONEST + f"\n# {tag}\n"  # a distinct file, the same code


def _grade(args: list[str]) -> subprocess.CompletedProcess:
    """`gradkit grade ARGS`, each distinct file graded once (tests/fake_grader.py)."""
    return gradkit_replayed("grade", *args)


def _csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


@pytest.fixture
def nbgrader_course(tmp_path: Path) -> Path:
    """submitted/<student>/<assignment>/ with an honest, a buggy and a broken notebook."""
    course = tmp_path / "course"
    for student, text in (("ada", as_notebook(HONEST)),
                          ("bob", as_notebook(mutant("tanh_missing_square").source())),
                          ("cy", "{ not json")):
        folder = course / "submitted" / student / "backprop"
        folder.mkdir(parents=True)
        (folder / "backprop.ipynb").write_text(text)
    return course


def test_discover_reads_nbgrader_and_plain_layouts(tmp_path, nbgrader_course):
    subs = discover.discover([nbgrader_course])
    assert [(s.student, s.assignment) for s in subs] == [
        ("ada", "backprop"), ("bob", "backprop"), ("cy", "backprop")]
    plain = tmp_path / "plain"
    (plain / "dee").mkdir(parents=True)
    (plain / "dee" / "work.ipynb").write_text("{}")
    (plain / "eve.py").write_text("")
    (plain / ".ipynb_checkpoints").mkdir()
    (plain / ".ipynb_checkpoints" / "eve-checkpoint.ipynb").write_text("{}")
    assert [s.student for s in discover.discover([plain])] == ["dee", "eve"]


def test_discover_keeps_duplicates_and_missing_paths(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "sam.py").write_text("")
    (tmp_path / "b" / "sam.py").write_text("")
    subs = discover.discover([tmp_path / "a", tmp_path / "b", tmp_path / "nope.py"])
    ids = [s.student for s in subs]
    assert ids[0] == "nope" and len(set(ids)) == 3
    assert all(i.startswith("sam~") for i in ids[1:])  # neither takes the other's id
    assert all("2 submissions claim the id 'sam'" in s.renamed for s in subs[1:])
    assert "no such file" in subs[0].problem
    again = discover.discover([tmp_path / "b", tmp_path / "a", tmp_path / "nope.py"])
    assert {s.student: s.path for s in again} == {s.student: s.path for s in subs}


def test_shards_split_the_class_without_overlap(tmp_path):
    for name in "abcdefg":
        (tmp_path / f"{name}.py").write_text("")
    subs = discover.discover([tmp_path])
    shards = [discover.shard(subs, f"{k}/3") for k in (1, 2, 3)]
    names = [s.student for part in shards for s in part]
    assert sorted(names) == list("abcdefg") and len(set(names)) == 7
    with pytest.raises(ValueError, match="K/N"):
        discover.parse_shard("3-10")


@pytest.mark.e2e
def test_a_class_gets_results_grades_csv_and_a_summary(tmp_path, nbgrader_course):
    """End to end: the real CLI, a pool of two workers, each student graded in the sandbox."""
    out = tmp_path / "out"
    done = gradkit("grade", str(nbgrader_course), "--out", str(out), "-j", "2")
    assert done.returncode == 0, done.stderr
    assert "3 submissions" in done.stdout
    assert "grading" not in done.stderr  # no progress bar when stderr is not a terminal
    grades = _csv(out / "grades.csv")
    assert set(grades) == {"ada", "bob", "cy"}
    assert grades["ada"]["total"] == grades["ada"]["max_score"]
    assert float(grades["bob"]["tanh"]) < 2 and grades["bob"]["mul"] == grades["ada"]["mul"]
    assert grades["cy"]["total"] == "0" and "not a notebook" in grades["cy"]["problem"]
    results = json.loads((out / "results" / "bob__backprop.json").read_text())
    assert results["score"] == float(grades["bob"]["total"])
    summary = json.loads((out / "summary.json").read_text())
    tanh = next(op for op in summary["ops"] if op["op"] == "tanh")
    assert (tanh["passed"], tanh["graded"]) == (1, 2)
    assert tanh["top_mistake"] == "missing_square"
    assert summary["ungradable"] == 1


def test_a_rerun_grades_only_what_changed(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ada", "bob"):
        (subs / f"{name}.py").write_text(_honest(name))
    out = tmp_path / "out"
    options = batch.Options(grader=replay_grade, outdir=out, progress=False)
    assert batch.run([subs], options).graded == 2
    again = batch.run([subs], options)
    assert (again.graded, again.unchanged) == (0, 2)
    (subs / "bob.py").write_text(mutant("exp_no_upstream").source())
    third = batch.run([subs], options)
    assert (third.graded, third.unchanged) == (1, 1)
    assert float(_csv(out / "grades.csv")["bob"]["exp"]) < 2


def test_a_rerun_without_config_keeps_the_config_the_grades_were_made_with(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ada.py").write_text(_honest("ada"))
    config = tmp_path / "heavy.toml"
    config.write_text('name = "heavy"\n[points]\nexp = 4\n')
    out = tmp_path / "out"
    first = _grade([str(subs), "--out", str(out), "--config", str(config), "--no-progress"])
    assert first.returncode == 0, first.stderr
    again = _grade([str(subs), "--out", str(out), "--no-progress"])
    assert again.returncode == 0, again.stderr
    assert "0 graded" in again.stdout and "1 unchanged" in again.stdout, again.stdout
    assert "grading with the config" in again.stderr and "(heavy)" in again.stderr
    assert float(_csv(out / "grades.csv")["ada"]["exp"]) == 4
    fresh = _grade([str(subs), "--out", str(tmp_path / "fresh"), "--no-progress"])
    assert "grading with the config" not in fresh.stderr


def test_the_same_file_twice_gets_the_same_score_and_seed(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    source = mutant("relu_inverted_mask").source()
    (subs / "ann.py").write_text(source)
    (subs / "ben.py").write_text(source)
    batch.run([subs], batch.Options(grader=replay_grade, outdir=tmp_path / "out", jobs=2,
                                    progress=False))
    with Gradebook(tmp_path / "out") as book:
        ann, ben = book.rows()
    assert ann.score == ben.score < ann.max_score
    assert ann.seed == ben.seed


def test_a_grader_failure_costs_one_row_and_is_retried(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ada", "bob"):
        (subs / f"{name}.py").write_text(_honest(name))
    def flaky(job):
        if job.student == "bob":
            raise RuntimeError("simulated grader bug")
        return replay_grade(job)

    options = batch.Options(grader=flaky, outdir=tmp_path / "out", progress=False)
    report = batch.run([subs], options)
    assert (report.graded, report.errors) == (1, 1)
    grades = _csv(tmp_path / "out" / "grades.csv")
    assert grades["bob"]["total"] == "0" and "simulated grader bug" in grades["bob"]["problem"]
    retry = batch.run([subs], replace(options, grader=replay_grade))
    assert (retry.graded, retry.unchanged) == (1, 1)
    assert _csv(tmp_path / "out" / "grades.csv")["bob"]["problem"] == ""


def test_usage_errors_are_one_line(tmp_path):
    done = _grade([str(tmp_path)])
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--out" in done.stderr
    done = _grade([str(tmp_path), "--out", str(tmp_path / "o"), "--shard", "0/3"])
    assert done.returncode == 2 and "between 1 and N" in done.stderr


@pytest.mark.slow
def test_a_batch_killed_with_sigkill_resumes_without_regrading(tmp_path):
    """Really kill -9 the batch (and its workers) mid-run, then rerun it."""
    subs = tmp_path / "subs"
    subs.mkdir()
    names = [f"s{index:02d}" for index in range(16)]
    for name in names:
        (subs / f"{name}.py").write_text(_honest(name))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "graders", "grade", str(subs), "--out", str(out),
               "-j", "2"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    database = out / "gradebook.sqlite"
    recorded = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if database.exists():
            try:
                db = sqlite3.connect(database, timeout=1)
                recorded = db.execute("SELECT COUNT(*) FROM gradings").fetchone()[0]
                db.close()
            except sqlite3.OperationalError:
                pass
        if recorded >= 3:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the batch finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    with Gradebook(out) as book:
        before = len(book.gradings())
    assert 3 <= before < len(names)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with Gradebook(out) as book:
        gradings = [student for student, _, _ in book.gradings()]
        rows = list(book.rows())
    assert sorted(gradings) == names  # every one graded exactly once: none twice, none skipped
    assert all(row.score == row.max_score for row in rows)
    assert f"{before} unchanged" in done.stdout


def test_an_nbgrader_batch_grades_each_assignment_folder_as_its_assignment(tmp_path):
    """No --config: nbgrader's assignment folder (the course's, not the student's) says which
    built-in assignment each notebook is; grades.csv has a column per task of the course that
    appears. (A plain folder is graded as one assignment: tests/test_hostile_assignment.py.)"""
    from graders import course
    from graders.course import authoring

    for assignment in course.ASSIGNMENTS:
        released = ROOT / "assignments" / assignment / f"{assignment}.ipynb"
        for student, source in (("done", authoring.path_for(assignment)), ("blank", released)):
            folder = tmp_path / "course" / "submitted" / student / assignment
            folder.mkdir(parents=True)
            (folder / f"{assignment}.ipynb").write_text(source.read_text())
    out = tmp_path / "out"
    done = _grade([str(tmp_path / "course"), "--out", str(out), "-j", "2", "--no-progress"])
    assert done.returncode == 0, done.stderr
    assert "default assignment" not in done.stdout and "note:" not in done.stdout
    with open(out / "grades.csv", newline="") as handle:
        rows = {(row["student"], row["assignment"]): row for row in csv.DictReader(handle)}
    for assignment in course.ASSIGNMENTS:
        full = sum(t.points for t in course.tasks(assignment))
        assert float(rows["done", assignment]["total"]) == full
        assert float(rows["done", assignment]["max_score"]) == full
        assert float(rows["blank", assignment]["total"]) == 0
    header = list(next(iter(rows.values())))
    assert header.index("slope") < header.index("add") < header.index("neuron")


def test_a_batch_says_who_could_not_be_graded_and_why(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ann.py").write_text(HONEST)
    (folder / "bo.ipynb").write_text("{ truncated")
    done = _grade([str(folder), "--out", str(tmp_path / "out"), "-j", "1"])
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("not gradable: ")]
    assert len(lines) == 1 and lines[0].startswith("not gradable: bo: ")
    assert "not a notebook" in lines[0] and "bo.ipynb" in lines[0]
