"""selfcheck(Value): the student's table agrees with `gradkit grade`, row by row."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import pytest

from graders import api, course
from graders import selfcheck as selfcheck_module
from graders.selfcheck import NOT_IMPLEMENTED, PASSED, WRONG, check
from graders.spec.optable import BACKPROP, op

ROOT = Path(__file__).resolve().parents[1]
CORRECT = ROOT / "tests" / "submissions" / "correct" / "lecture_style.py"

# Typical mistakes, written as edits of the lecture-style solution: tanh squares the input,
# mul assigns instead of accumulating.
MISTAKES = (
    ("self.grad += (1 - t**2) * out.grad", "self.grad += (1 - x**2) * out.grad"),
    ("other.grad += self.data * out.grad", "other.grad = self.data * out.grad"),
)


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"submission_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Value


@pytest.fixture
def mistaken(tmp_path: Path) -> Path:
    source = CORRECT.read_text()
    for old, new in MISTAKES:
        assert old in source, f"the correct submission no longer contains {old!r}"
        source = source.replace(old, new)
    path = tmp_path / "mistaken.py"
    path.write_text(source)
    return path


@pytest.fixture
def stubbed(tmp_path: Path) -> Path:
    """The correct class with tanh's backward replaced by the released notebook's stub."""
    spec = op("tanh")
    path = tmp_path / "stubbed.py"
    path.write_text(CORRECT.read_text() + textwrap.dedent(f"""

        def _tanh_stub(self):
            out = Value(math.tanh(self.data), (self,), "tanh")

            def _backward():
                raise NotImplementedError("not implemented: task {spec.task}, tanh backward")

            out._backward = _backward
            return out


        Value.tanh = _tanh_stub
    """))
    return path


def _points(rows_or_ops) -> dict[str, float]:
    return {item.op if hasattr(item, "op") else item.key: item.points for item in rows_or_ops}


def test_correct_class_passes_every_row_with_full_points() -> None:
    report = check(_load(CORRECT))
    assert [row.op for row in report.rows] == [
        key for key in BACKPROP.ops if not op(key).optional]
    assert {row.status for row in report.rows} == {PASSED}
    assert report.score == report.max_score == api.grade(CORRECT).max_score


@pytest.mark.parametrize("fixture", ["mistaken", "stubbed"])
def test_points_equal_gradkit_grade_on_the_same_file(fixture, request) -> None:
    path = request.getfixturevalue(fixture)
    report = check(_load(path))
    graded = api.grade(path)
    assert graded.problem is None
    assert _points(report.rows) == _points(graded.ops)
    assert report.score < report.max_score


def test_mistakes_are_wrong_and_explained(mistaken: Path) -> None:
    rows = {row.op: row for row in check(_load(mistaken)).rows}
    assert rows["tanh"].status == WRONG
    assert any("1 − tanh(x)²" in line for line in rows["tanh"].lines)  # said once, in Unicode
    assert rows["mul"].status == WRONG
    assert any("+=" in line for line in rows["mul"].lines)
    assert rows["add"].status == PASSED


def test_a_stub_is_reported_as_not_implemented_with_its_task_id(stubbed: Path) -> None:
    rows = {row.op: row for row in check(_load(stubbed)).rows}
    assert rows["tanh"].status == NOT_IMPLEMENTED
    assert rows["tanh"].lines == [f"Not implemented yet: task {op('tanh').task}, tanh backward."]
    assert rows["tanh"].points == 0


def test_plain_text_outside_jupyter_and_html_inside(capsys, stubbed: Path) -> None:
    from graders import selfcheck
    selfcheck(_load(stubbed))
    text = capsys.readouterr().out
    assert "not implemented" in text and f"{op('tanh').task}" in text
    assert "<table" not in text
    html = check(_load(stubbed))._repr_html_()
    assert "<table" in html and "not implemented" in html
    assert "<script" not in html


def test_module_and_function_are_both_callable(capsys) -> None:
    # `import graders.selfcheck` binds the module on the package; the notebook's one-liner
    # `from graders import selfcheck; selfcheck(Value)` must still work.
    selfcheck_module(_load(CORRECT))
    assert "passed" in capsys.readouterr().out


def test_student_output_does_not_reach_the_grade_cell(tmp_path: Path, capsys) -> None:
    noisy = tmp_path / "noisy.py"
    noisy.write_text(CORRECT.read_text().replace(
        "    def __add__(self, other):",
        "    def __add__(self, other):\n        import sys; print('debug', file=sys.stderr)", 1))
    assert course.grade("add", {"Value": _load(noisy)}) == op("add").points
    captured = capsys.readouterr()
    assert captured.err == ""  # nbgrader gives a grade cell that writes to stderr 0 points
    assert "debug" not in captured.out


def test_a_hanging_backward_costs_its_op_only(tmp_path: Path) -> None:
    hang = tmp_path / "hang.py"
    source = CORRECT.read_text()
    old = "self.grad += (1 - t**2) * out.grad"
    hang.write_text(source.replace(old, "while True: pass"))
    from graders.judge import oracle as oracle_module
    from graders.judge import probes, scoring
    from graders.run import inprocess
    groups = [g for g in probes.plan(BACKPROP, 1) if g.key in ("tanh", "exp")]
    outcome = inprocess.run({"Value": _load(hang)}, groups, group_seconds=0.5)
    results = {r.key: r for r in scoring.score(BACKPROP, groups, outcome, oracle_module.load())}
    assert results["tanh"].points == 0 and "without an answer" in (results["tanh"].error or "")
    assert results["exp"].passed
