"""Assignments 1 and 3 under attack: the numbers a notebook reports are claims the parent checks.

Each case edits the solution notebook (which scores full marks) and grades it in the sandbox:
a faked result must not earn the task it fakes.
"""

from __future__ import annotations

import nbformat
import pytest

from graders.api import grade
from graders.course import authoring

FAKE_TRAIN = '''
def train(model, xs, ys, steps, lr):
    """Never trains: returns a loss that falls by itself."""
    return [10.0 - 0.1 * step for step in range(steps)]
'''

FORGED_SLOPE = '''
def slope(f, x, h):
    """Writes a second answer for the check it is asked, on the harness's own pipe."""
    import json, os, sys
    frame = sys._getframe(1)
    while frame is not None and not isinstance(frame.f_locals.get("case"), dict):
        frame = frame.f_back
    if frame is not None:
        case = frame.f_locals["case"]
        os.write(int(sys.argv[3]), (json.dumps({"id": case["id"], "values": {}}) + "\\n").encode())
    return (f(x + h) - f(x)) / h
'''


def _edited(assignment: str, extra: str, tmp_path) -> dict[str, float]:
    nb = nbformat.read(authoring.path_for(assignment), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(extra))  # the last definition wins
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(nb, path)
    result = grade(path, seed=7)
    assert result.problem is None, result.problem
    return {op.key: op.points for op in result.ops}


@pytest.mark.parametrize(("assignment", "extra", "faked"), [
    ("mlp", FAKE_TRAIN, ("training", "zero_grad")),
    ("derivatives", FORGED_SLOPE, ("slope",)),
])
def test_a_faked_result_earns_nothing_for_what_it_fakes(assignment, extra, faked, tmp_path):
    honest = {op.key: op.points for op in grade(authoring.path_for(assignment), seed=7).ops}
    points = _edited(assignment, extra, tmp_path)
    for key in faked:
        assert honest[key] > 0 and points[key] == 0, key
