"""`gradkit regrade` on a small class, as an instructor runs it: what a restore brings back, what
an apply may never drop, and what a regrade must grade under (issue 16's review)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from graders.classroom.gradebook import Gradebook
from tests.conftest import gradkit, gradkit_replayed
from tests.corpus import BASE, as_notebook, mutant
from tests.fake_grader import replay_grade

HEAVY = 'name = "heavy"\n[points]\nexp = 4\n'
LIGHT = 'name = "light"\n[points]\nexp = 1\n'


def _grades(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _ok(*args: str, real: bool = False):
    """`gradkit ARGS`, succeeding; each distinct file graded once unless `real`."""
    done = (gradkit if real else gradkit_replayed)(*args)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def course(tmp_path: Path) -> dict[str, Path]:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ada.py").write_text(BASE.read_text())
    (subs / "bob.py").write_text(mutant("tanh_missing_square").source())
    for name, text in (("heavy", HEAVY), ("light", LIGHT)):
        (tmp_path / f"{name}.toml").write_text(text)
    return {"subs": subs, "out": tmp_path / "out", "heavy": tmp_path / "heavy.toml",
            "light": tmp_path / "light.toml"}


def test_a_restore_brings_back_the_config_the_restored_grades_were_made_with(course):
    subs, out = str(course["subs"]), course["out"]
    _ok("grade", subs, "--out", str(out), "--config", str(course["heavy"]), "--no-progress")
    assert _grades(out)["ada"]["exp"] == "4"
    _ok("regrade", str(out), "--config", str(course["light"]), "--apply")
    assert _grades(out)["ada"]["exp"] == "1"
    _ok("regrade", str(out), "--restore", "1")
    assert _grades(out)["ada"]["exp"] == "4"
    again = _ok("grade", subs, "--out", str(out), "--no-progress")
    assert "(heavy)" in again.stderr and "2 unchanged" in again.stdout, again.stdout
    back = _ok("regrade", str(out), "--restore", "2")  # and the light grades come back too
    assert "generation 2 is current again" in back.stdout
    assert _grades(out)["ada"]["exp"] == "1"


def test_an_apply_never_drops_a_grade_recorded_after_the_regrade_was_staged(course):
    subs, out = course["subs"], course["out"]
    _ok("grade", str(subs), "--out", str(out), "--config", str(course["heavy"]),
        "--no-progress")
    _ok("regrade", str(out), "--config", str(course["light"]))  # staged, reviewed later
    (subs / "cy.py").write_text(BASE.read_text() + "\n# late\n")
    late = _ok("grade", str(subs), "--out", str(out), "--no-progress")
    assert "1 graded" in late.stdout
    applied = _ok("regrade", str(out), "--config", str(course["light"]), "--apply")
    assert "3 students" in applied.stdout.splitlines()[0], applied.stdout
    grades = _grades(out)
    assert set(grades) == {"ada", "bob", "cy"} and grades["cy"]["exp"] == "1"
    roster = out.parent / "roster.csv"
    roster.write_text("student,name,canvas_id\nada,Ada,1\nbob,Bob,2\ncy,Cy,3\n")
    exported = _ok("export", str(out), "--to", "canvas", "--roster", str(roster))
    assert "column 'light'" in exported.stdout  # named after the config the grades are from


def test_a_regrade_grades_under_the_limits_the_batch_used(course):
    subs, out = str(course["subs"]), course["out"]
    _ok("grade", subs, "--out", str(out), "--op-timeout", "20", "--no-progress")
    with Gradebook(out) as book:
        before = {row.student: row.grader for row in book.rows()}
    _ok("regrade", str(out), "--apply")
    with Gradebook(out) as book:
        assert {row.student: row.grader for row in book.rows()} == before
    again = _ok("grade", subs, "--out", str(out), "--op-timeout", "20", "--no-progress")
    assert "2 unchanged" in again.stdout, again.stdout


def test_a_row_decided_before_grading_is_not_regraded_and_is_listed(course):
    two = course["subs"] / "two"
    two.mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        (two / name).write_text(as_notebook(BASE.read_text()))
    out = course["out"]
    _ok("grade", str(course["subs"]), "--out", str(out), "--no-progress")
    assert "candidate files" in _grades(out)["two"]["problem"]
    staged = _ok("regrade", str(out))
    assert "0 of 3 students change score" in staged.stdout
    assert "not regraded (no stored copy, kept as they are): 1: two" in staged.stdout


@pytest.mark.e2e
def test_a_regrade_names_the_file_the_student_submitted_not_its_stored_copy(course):
    broken = course["subs"] / "zed.py"
    broken.write_text(BASE.read_text().replace("def __add__(self, other):",
                                               "def __add__(self, other)", 1))
    out = course["out"]  # in the sandbox: the stored copy is what the child reads
    _ok("grade", str(course["subs"]), "--out", str(out), "--no-progress", real=True)
    before = _grades(out)["zed"]["problem"]
    assert str(broken) in before and "SyntaxError" in before
    applied = _ok("regrade", str(out), "--apply", real=True)
    assert "0 of 3 students change score, 0 more" in applied.stdout, applied.stdout
    assert _grades(out)["zed"]["problem"] == before
    assert "store" not in (out / "results" / "zed.json").read_text()


@pytest.mark.parametrize("flags", [(), ("--list",), ("--restore", "1")])
def test_a_regrade_of_a_folder_with_no_grades_is_one_line_and_creates_nothing(tmp_path,
                                                                              flags):
    missing = tmp_path / "typo"
    done = gradkit_replayed("regrade", str(missing), *flags)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "no gradebook here" in done.stderr and not missing.exists()


def test_naming_a_cluster_changes_what_members_read_and_no_probe_point(course, tmp_path):
    subs, out = str(course["subs"]), course["out"]
    _ok("grade", subs, "--out", str(out), "--no-progress")
    with Gradebook(out) as book:
        before = {row.student: row for row in book.rows()}
    tanh = before["bob"].op("tanh")
    config = tmp_path / "named.toml"
    config.write_text(f'base = "backprop"\n[cluster."{tanh.cluster}"]\n'
                      'message = "Square the tanh: 1 - t**2."\n'
                      '[cluster."mul:0badc0de"]\nmessage = "a typo in the id"\n')
    named = _ok("grade", subs, "--out", str(out), "--config", str(config), "--no-progress")
    assert "2 graded" in named.stdout  # the new wording reaches the members on this run
    unmatched = [line for line in named.stdout.splitlines() if "named in the config" in line]
    assert len(unmatched) == 1 and unmatched[0].startswith("cluster mul:0badc0de:")
    with Gradebook(out) as book:
        after = {row.student: row for row in book.rows()}
    assert {s: r.seed for s, r in after.items()} == {s: r.seed for s, r in before.items()}
    assert {s: r.score for s, r in after.items()} == {s: r.score for s, r in before.items()}
    results = json.loads((out / "results" / "bob.json").read_text())
    assert "Square the tanh" in json.dumps(results)


def test_exporting_a_batch_of_two_assignments_asks_which(tmp_path):
    for assignment in ("backprop", "derivatives"):
        folder = tmp_path / "course" / "submitted" / "ada" / assignment
        folder.mkdir(parents=True)
        (folder / f"{assignment}.ipynb").write_text(as_notebook(BASE.read_text()))
    out = tmp_path / "out"
    _ok("grade", str(tmp_path / "course"), "--out", str(out), "--no-progress")
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name,canvas_id\nada,Ada,1\n")
    both = gradkit_replayed("export", str(out), "--to", "canvas", "--roster", str(roster))
    assert both.returncode == 2 and len(both.stderr.strip().splitlines()) == 1
    assert "2 assignments (backprop, derivatives)" in both.stderr
    one = _ok("export", str(out), "--to", "canvas", "--roster", str(roster), "--assignment",
              "backprop")
    assert "column 'backprop'" in one.stdout
    wrong = gradkit_replayed("export", str(out), "--to", "canvas", "--roster", str(roster),
                    "--assignment", "mlp")
    assert wrong.returncode == 2 and "no grades for it" in wrong.stderr


def test_an_apply_interrupted_after_the_gradebook_changed_is_finished_by_the_next_command(
        course, monkeypatch):
    from graders.classroom import publishing, regrade

    out = course["out"]
    _ok("grade", str(course["subs"]), "--out", str(out), "--config", str(course["heavy"]),
        "--no-progress")
    real = publishing.publish

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the files are written

    monkeypatch.setattr(publishing, "publish", interrupted)
    with pytest.raises(KeyboardInterrupt):
        regrade.regrade(out, str(course["light"]), apply=True, grader=replay_grade)
    assert _grades(out)["ada"]["exp"] == "4"  # the files still show the old grades
    monkeypatch.setattr(publishing, "publish", real)
    listed = _ok("regrade", str(out), "--list")
    assert "current: generation 2" in listed.stdout
    assert _grades(out)["ada"]["exp"] == "1"  # written now, from the gradebook
    with Gradebook(out) as book:
        assert not book.setting("publish_pending")


def test_an_apply_refuses_when_grades_are_recorded_while_it_regrades(course, monkeypatch):
    from graders.classroom import batch, regrade

    subs, out = course["subs"], course["out"]
    _ok("grade", str(subs), "--out", str(out), "--no-progress")
    real = regrade.grade_again

    def with_a_late_grade(*args, **kwargs):
        graded = real(*args, **kwargs)
        (subs / "cy.py").write_text(BASE.read_text() + "\n# late\n")
        batch.run([subs], batch.Options(outdir=out, progress=False,  # a TA, meanwhile
                                        grader=replay_grade))
        return graded

    monkeypatch.setattr(regrade, "grade_again", with_a_late_grade)
    with pytest.raises(regrade.RegradeError, match="while the regrade ran; nothing was"):
        regrade.regrade(out, str(course["light"]), apply=True, grader=replay_grade)
    assert set(_grades(out)) == {"ada", "bob", "cy"}
    with Gradebook(out) as book:
        assert book.generation() == 1


def test_a_stored_config_is_not_used_for_another_nbgrader_assignment(tmp_path, course):
    for assignment in ("backprop", "derivatives"):
        folder = tmp_path / "nb" / "submitted" / "ada" / assignment
        folder.mkdir(parents=True)
        (folder / f"{assignment}.ipynb").write_text(as_notebook(BASE.read_text()))
    out = tmp_path / "nbout"
    _ok("grade", str(tmp_path / "nb"), "--out", str(out), "--assignment", "backprop",
        "--config", str(course["heavy"]), "--no-progress")
    same = _ok("grade", str(tmp_path / "nb"), "--out", str(out), "--assignment", "backprop",
               "--no-progress")
    assert "(heavy)" in same.stderr and "1 unchanged" in same.stdout
    other = _ok("grade", str(tmp_path / "nb"), "--out", str(out), "--assignment",
                "derivatives", "--no-progress")
    assert "grading with the config" not in other.stderr
    assert "1 graded" in other.stdout


def test_a_restore_names_the_students_graded_since_the_restored_grades(course):
    subs, out = course["subs"], course["out"]
    _ok("grade", str(subs), "--out", str(out), "--no-progress")
    _ok("regrade", str(out), "--config", str(course["light"]), "--apply")
    (subs / "cy.py").write_text(BASE.read_text() + "\n# late\n")
    _ok("grade", str(subs), "--out", str(out), "--no-progress")
    restored = _ok("regrade", str(out), "--restore", "1")
    assert "not in generation 1 (graded since; their grades are in generation 2): cy" \
        in restored.stdout, restored.stdout
    assert set(_grades(out)) == {"ada", "bob"}


def test_one_student_is_regraded_with_more_time_and_keeps_it(course):
    """A student cut off by the time limit, regraded alone with more: the diff names the time,
    everyone else is kept as they are, and a rerun of the batch does not take the time back."""
    subs, out = course["subs"], course["out"]
    (subs / "cy.py").write_text("import time\ntime.sleep(3)\n" + BASE.read_text())
    _ok("grade", str(subs), "--out", str(out), "--time-limit", "2", "--no-progress")
    before = _grades(out)
    assert before["cy"]["total"] == "0" and "within 2 s" in before["cy"]["problem"]
    wrong = gradkit_replayed("regrade", str(out), "--time-limit", "30")
    assert wrong.returncode == 2 and "--student" in wrong.stderr
    unknown = gradkit_replayed("regrade", str(out), "--student", "zed", "--time-limit", "30")
    assert unknown.returncode == 2 and "no grades for zed" in unknown.stderr
    less = gradkit_replayed("regrade", str(out), "--student", "cy", "--time-limit", "1")
    assert less.returncode == 2 and "already has 2 s" in less.stderr
    staged = _ok("regrade", str(out), "--student", "cy", "--time-limit", "30")
    full = before["cy"]["max_score"]
    assert (f"graded again: cy 0 -> {full}, with time limit 30 s (the class: time limit 2 s)"
            in staged.stdout), staged.stdout
    assert "--student cy --time-limit 30 --apply" in staged.stdout
    assert "1 of 3 students change score" in staged.stdout
    _ok("regrade", str(out), "--student", "cy", "--time-limit", "30", "--apply")
    after = _grades(out)
    assert after["cy"]["total"] == full and after["cy"]["problem"] == ""
    assert {s: after[s] for s in ("ada", "bob")} == {s: before[s] for s in ("ada", "bob")}
    again = _ok("grade", str(subs), "--out", str(out), "--time-limit", "2", "--no-progress")
    assert "3 unchanged" in again.stdout, again.stdout  # cy keeps her 30 s
    assert _grades(out)["cy"]["total"] == full
    listed = _ok("regrade", str(out), "--list").stdout
    assert "2: kept (current)" in listed and "cy with time limit 30 s" in listed


def test_identical_changes_are_one_group_in_the_diff(course):
    subs, out = course["subs"], course["out"]
    for name in ("cy", "dee"):
        (subs / f"{name}.py").write_text(BASE.read_text() + f"\n# {name}\n")
    _ok("grade", str(subs), "--out", str(out), "--no-progress")
    staged = _ok("regrade", str(out), "--config", str(course["heavy"])).stdout
    assert "  4 students (score +2 each): ada, bob, cy, dee\n" in staged, staged
    assert staged.count("exp: 2/2 -> 4/4: worth 4 points instead of 2") == 1
    assert "\n- 4 students (score +2 each): ada, bob, cy, dee\n" in (
        out / "regrade" / "diff.md").read_text()
    with open(out / "regrade" / "diff.csv", newline="") as handle:  # every student still
        assert sorted(row["student"] for row in csv.DictReader(handle)) == [
            "ada", "bob", "cy", "dee"]


def test_the_generations_are_listed_in_the_order_they_were_made(course, monkeypatch):
    from graders.classroom import gradebook

    ticks = iter(range(10_000))  # a clock that moves on every reading
    monkeypatch.setattr(gradebook.time, "strftime", lambda *_: f"t{next(ticks):05d}")
    subs, out = str(course["subs"]), course["out"]
    _ok("grade", subs, "--out", str(out), "--no-progress")
    assert _ok("regrade", str(out), "--list").stdout.splitlines()[1] == \
        "  1: current (the batch's grades)"
    _ok("regrade", str(out), "--config", str(course["heavy"]), "--apply")
    _ok("regrade", str(out), "--config", str(course["light"]), "--apply")
    _ok("regrade", str(out), "--restore", "1")
    _ok("regrade", str(out), "--restore", "3")
    lines = _ok("regrade", str(out), "--list").stdout.splitlines()[1:]
    numbers = [int(line.split(":")[0]) for line in lines]
    made = [line.split("made ")[1].split(":")[0] for line in lines]
    assert numbers == [1, 2, 3] and made == sorted(made), lines
    assert "config heavy" in lines[1] and "(current)" in lines[2]
