"""nbgrader settings that protect grading: tampered or deleted test cells come back."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from graders import api, course
from tests.test_course import answered, make_course, nbgrader


@pytest.mark.slow
def test_deleted_and_rewritten_grade_cells_are_restored(tmp_path: Path) -> None:
    course_dir = make_course(tmp_path / "course")
    nbgrader(course_dir, "generate_assignment", "--force", "backprop")
    nb = answered("backprop", mistakes=True)
    grade_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    deleted, forged = grade_cells[2], grade_cells[1]
    nb.cells.remove(deleted)  # a student deletes the tanh grade cell ...
    forged.source = "print('all good')"  # ... and rewrites mul's to always pass
    forged.metadata["nbgrader"]["points"] = 100
    target = course_dir / "submitted" / "sly" / "backprop" / "backprop.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)
    nbgrader(course_dir, "autograde", "--force", "backprop")

    from nbgrader.api import Gradebook

    graded = {o.key: o.points for o in api.grade(target).ops}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        points = {item.key: gb.find_grade(f"grade_{item.key}", "backprop", "backprop",
                                          "sly").score
                  for item in course.tasks("backprop")}
        maximum = gb.find_submission("backprop", "sly").max_score
    assert points == pytest.approx(graded, abs=1e-9)
    assert points["mul"] < 2 and points["tanh"] < 2  # the mistakes still cost points
    assert maximum == sum(item.points for item in course.tasks("backprop"))
