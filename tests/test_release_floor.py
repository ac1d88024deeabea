"""A `_backward` that does nothing useful scores exactly what the untouched release scores.

Points are earned by gradients: forward code the release gives weighs nothing, and a check whose
right answer is "no change" (x - x, x / x) counts only with the op's own gradient. Each body
below replaces every `_backward` stub of the released backprop notebook; the rest of the
notebook (derived ops, backward()) stays as released.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from graders.api import grade
from tests.conftest import ROOT

RELEASE = ROOT / "assignments" / "backprop" / "backprop.ipynb"
STUB = re.compile(r"raise NotImplementedError\('not implemented: task [\d.]+, \w+ backward'\)")

NO_OPS = {
    "nothing": "pass",
    "nan": "self.grad = float('nan')",
    "constant": "self.grad = 1.0",
    "plus_zero": "self.grad = self.grad + 0.0",
    "lying_float": ("self.grad = type('Liar', (float,), {'__eq__': lambda s, o: True, "
                    "'__sub__': lambda s, o: 0.0, '__abs__': lambda s: 0.0})(self.grad)"),
    "frame_snooping": ("import sys\n"
                       "frame = sys._getframe(1)\n"
                       "while frame is not None and 'expected' not in frame.f_locals:\n"
                       "    frame = frame.f_back\n"
                       "if frame is not None:\n"
                       "    self.grad = frame.f_locals['expected']"),
}


def _replace_stubs(source: str, body: str) -> str:
    """Every `_backward` stub's raise replaced by `body`, at the stub's indentation."""
    def indented(match: re.Match) -> str:
        line_start = source.rfind("\n", 0, match.start()) + 1
        return body.replace("\n", "\n" + " " * (match.start() - line_start))
    return STUB.sub(indented, source)


def _variant(body: str, tmp_path) -> dict[str, float]:
    nb = nbformat.read(RELEASE, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and STUB.search(cell.source):
            cell.source = _replace_stubs(cell.source, body)
    path = tmp_path / "variant.ipynb"
    nbformat.write(nb, path)
    result = grade(path, seed=11)
    assert result.problem is None, result.problem
    return {op.key: op.points for op in result.ops}


@pytest.fixture(scope="module")
def release_points() -> dict[str, float]:
    result = grade(RELEASE, seed=11)
    return {op.key: op.points for op in result.ops}


def test_the_untouched_release_scores_nothing(release_points):
    assert release_points and set(release_points.values()) == {0.0}


@pytest.mark.parametrize("name", NO_OPS)
def test_a_useless_backward_scores_exactly_the_release(name, release_points, tmp_path):
    assert STUB.search(RELEASE.read_text())  # the stubs this test rewrites are still there
    assert _variant(NO_OPS[name], tmp_path) == release_points
