"""nbgrader settings that protect grading: tampered or deleted test cells come back."""

from __future__ import annotations

import nbformat
import pytest

from graders import api, course
from tests.nbgrader_class import SLY


@pytest.mark.slow
def test_deleted_and_rewritten_grade_cells_are_restored(nbgrader_class) -> None:
    """`sly` hands in backprop with its mistakes, the tanh grade cell deleted and mul's
    rewritten to print "all good" for 100 points (tests/nbgrader_class.py, sly_notebook)."""
    target = nbgrader_class.submitted(SLY, "backprop")
    handed_in = nbformat.read(target, as_version=4)
    grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in handed_in.cells
                 if c.metadata.get("nbgrader", {}).get("grade")]
    assert "grade_tanh" not in grade_ids and "print('all good')" in nbformat.writes(handed_in)
    nbgrader_class.check("autograde")

    graded = {o.key: o.points for o in api.grade(target).ops}
    with nbgrader_class.gradebook() as gb:
        points = {item.key: gb.find_grade(f"grade_{item.key}", "backprop", "backprop",
                                          SLY).score
                  for item in course.tasks("backprop")}
        maximum = gb.find_submission("backprop", SLY).max_score
    assert points == pytest.approx(graded, abs=1e-9)
    assert points["mul"] < 2 and points["tanh"] < 2  # the mistakes still cost points
    assert maximum == sum(item.points for item in course.tasks("backprop"))
