"""What a submission cannot choose (issue 24): which assignment it is graded as, and the inputs
its tasks are asked at.

The instructor decides the assignment (`--config`, nbgrader's assignment folder, the zip's
config, else the batch's default), never the file: a file that looks like another assignment is
graded as this one, with a note, and the LMS export's Points Possible is the assignment's.
Course tasks are asked at inputs drawn per run, so numbers copied from an earlier run earn
nothing, while an honest answer passes whatever the draw.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import nbformat
import pytest

from graders.api import grade
from graders.classroom.gradebook import Gradebook
from graders.classroom.records import BatchSettings, Row
from graders.course import authoring
from graders.judge import programs
from graders.spec.optable import BACKPROP, DERIVATIVES, MLP
from kit.data import four_samples
from tests.conftest import gradkit, op_of
from tests.corpus import BASE

BACKPROP_MAX = sum(BACKPROP.points_for(key) for key in BACKPROP.ops
                   if not BACKPROP.op(key).optional or key in BACKPROP.points)
DERIVATIVES_MAX = sum(DERIVATIVES.points_for(key) for key in DERIVATIVES.ops)


def _csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _canvas(out: Path, tmp_path: Path, students: list[str]) -> list[list[str]]:
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name,canvas_id\n" + "".join(
        f"{s},{s.title()},{n}\n" for n, s in enumerate(students, start=1)))
    target = tmp_path / "canvas.csv"
    done = gradkit("export", str(out), "--to", "canvas", "--roster", str(roster), "--out",
                   str(target))
    assert done.returncode == 0, done.stderr
    with open(target, newline="") as handle:
        return list(csv.reader(handle))


def test_a_file_that_looks_like_another_assignment_is_graded_as_the_batchs_with_a_note(
        tmp_path):
    """Backprop week, no --config: mallory hands in the derivatives solution (6/6 there). It is
    graded as backprop, out of backprop's maximum, with a note; the export is out of 25."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ann.py").write_text(BASE.read_text())
    (subs / "mallory.ipynb").write_text(authoring.path_for("derivatives").read_text())
    out = tmp_path / "out"
    done = gradkit("grade", str(subs), "--out", str(out), "-j", "2", "--no-progress")
    assert done.returncode == 0, done.stderr
    rows = _csv(out / "grades.csv")
    assert float(rows["ann"]["max_score"]) == float(rows["ann"]["total"]) == BACKPROP_MAX
    mallory = rows["mallory"]
    assert float(mallory["max_score"]) == BACKPROP_MAX and float(mallory["total"]) == 0
    assert "looks like the derivatives assignment" in mallory["note"]
    assert "graded as backprop" in mallory["note"] and not rows["ann"]["note"]
    assert "mallory: this file looks like the derivatives assignment" in done.stdout
    assert "backprop, the default assignment" in done.stdout, done.stdout
    results = json.loads((out / "results" / "mallory.json").read_text())
    assert "looks like the derivatives assignment" in results["output"]
    assert _canvas(out, tmp_path, ["ann", "mallory"])[1][5] == f"{BACKPROP_MAX:g}"


def test_points_possible_is_the_assignments_whatever_a_row_says(tmp_path):
    """Derivatives week: one row out of 25 (graded as backprop before the batch decided the
    assignment) must not make every classmate's 6/6 read as 6 of 25."""
    out = tmp_path / "out"
    with Gradebook(out) as book:
        for student, score, maximum in (("ann", 6.0, 6.0), ("bo", 3.0, 6.0),
                                        ("mallory", 25.0, 25.0)):
            book.record(Row(student, "", f"{student}.ipynb", f"hash-{student}", "g", 1, score,
                            maximum))
        book.save_batch_settings(BatchSettings(config=DERIVATIVES))
    rows = _canvas(out, tmp_path, ["ann", "bo", "mallory"])
    assert rows[1][0] == "Points Possible" and rows[1][5] == f"{DERIVATIVES_MAX:g}"


def _with_cell(assignment: str, extra: str, tmp_path: Path) -> Path:
    nb = nbformat.read(authoring.path_for(assignment), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(extra))  # the last definition wins
    path = tmp_path / f"{assignment}-edited.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_train_that_returns_copied_losses_scores_nothing_on_training(tmp_path):
    """The losses honest training gave at the start the grader used to fix, typed in."""
    rng = random.Random(3)
    start = [rng.uniform(-1, 1) for _ in range(programs.expected_count(3, (4, 4, 1)))]
    xs, ys = four_samples()
    losses = programs.reference_training(start, xs, ys, 40, 0.05, zero=True)[1]
    copied = _with_cell("mlp", f"def train(model, xs, ys, steps, lr):\n"
                               f"    return {losses!r}[:steps]\n", tmp_path)
    result = grade(copied, assignment=MLP, seed=11)
    assert result.problem is None, result.problem
    assert op_of(result, "training").points == 0
    assert op_of(result, "neuron").points == op_of(result, "neuron").max_points


def _slope_errors_points(path: Path, seed: int) -> tuple[float, float]:
    found = op_of(grade(path, assignment=DERIVATIVES, seed=seed), "slope_errors")
    return found.points, found.max_points


@pytest.mark.parametrize("seed", [5, 8])
def test_slope_errors_is_asked_at_step_sizes_drawn_per_run(seed):
    points, maximum = _slope_errors_points(authoring.path_for("derivatives"), seed)
    assert points == maximum > 0


def test_slope_errors_of_typed_in_constants_scores_nothing(tmp_path):
    """The honest errors at the step sizes the grader used to fix, typed in."""
    def f(x):
        return 3 * x ** 2 - 4 * x + 5

    typed = [abs((f(3.0 + h) - f(3.0)) / h - 14.0) for h in (10.0 ** -k for k in range(1, 16))]
    constants = _with_cell("derivatives", f"def slope_errors(hs):\n    return {typed!r}\n",
                           tmp_path)
    assert _slope_errors_points(constants, 5)[0] == 0
