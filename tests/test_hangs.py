"""A hang costs its own op only, in notebooks too (issue 25, item 4).

A notebook whose relu `_backward` loops forever and whose own example cell calls relu used to
lose 15 of 25 points: the example cell hit its limit again in every fresh child (one after each
hanging group) and the submission's limit ran out. Now a cell interrupted once is never run
into again, the first report line names the cell and the op, and the batch flags the student.
Small limits keep each grading to seconds.
"""

from __future__ import annotations

import csv
import dataclasses
import time
from pathlib import Path

import nbformat
import pytest

from graders import api
from graders.classroom import batch, dashboard, publishing, regrade
from graders.classroom.gradebook import Gradebook
from graders.classroom.records import OpRow, Row
from graders.model import Limits, place
from graders.run import session
from graders.spec.optable import BACKPROP
from tests.conftest import op_of
from tests.corpus import BASE, RELU

# Each hang below spins a CPU until its limit: a second each is enough for the honest cells and
# op groups around it (milliseconds each) on 2 busy cores.
LIMITS = Limits(cell_seconds=1, group_seconds=1, submission_seconds=6)
SLACK = 12  # starting children and the sympy oracle on 2 busy cores: not a measure of speed
HANG = "while True:\n                pass"  # relu's _backward, at its indentation in BASE
EXAMPLE = "a = Value(2.0)\nb = a.relu()\nb.backward()\nprint('example done', a.grad)"


def _source() -> str:
    source = BASE.read_text()
    assert RELU in source
    return source.replace(RELU, HANG)


def _notebook(path: Path, *extra: str) -> Path:
    """BASE as a notebook (a cell per top-level block) with relu's hang and `extra` cells."""
    blocks = [block for block in _source().split("\n\n\n") if block.strip()]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# relu hangs")]
    notebook.cells += [nbformat.v4.new_code_cell(block) for block in [*blocks, *extra]]
    nbformat.write(notebook, path)
    return path


def _expected(result) -> float:
    """The assignment's points less relu's and the reference example's: the example calls
    relu, so it hangs too, and it is end to end (the points table, not a number)."""
    points = {op.key: op.max_points for op in api.unscored("", BACKPROP, "").ops}
    assert op_of(result, "reference_example").root_cause == "relu"
    return sum(points.values()) - points["relu"] - points["reference_example"]


def _grade(path: Path):
    started = time.monotonic()
    result = api.grade(path, assignment=BACKPROP, seed=5, limits=LIMITS)
    return result, time.monotonic() - started


def _check(result, seconds: float, cell: int) -> None:
    assert result.problem is None
    assert result.score == _expected(result)
    lost = {op.key for op in result.ops if op.points < op.max_points}
    assert lost == {"relu", "reference_example"}
    assert result.hung == ["relu", "reference_example"]
    # the cell once, then relu's group and the reference example's (which calls relu)
    assert seconds <= LIMITS.cell_seconds + 2 * LIMITS.group_seconds + SLACK
    assert result.summary_lines()[0] == (
        f"{place(cell)} ran past the {LIMITS.cell_seconds:g} s time limit and was interrupted "
        "(it calls `relu`, whose `_backward` never returned); "
        "relu, reference_example: time limit hit")
    (stopped,) = [c for c in result.cells if c.status == "interrupted"]
    said = f"cell {cell}" if cell else f"line {stopped.line}"  # a .py file has no cells
    assert result.flags == [f"{said} interrupted", "time limit hit: relu, reference_example"]


def test_a_notebook_whose_example_cell_calls_a_hanging_op_loses_that_op_only(tmp_path):
    path = _notebook(tmp_path / "relu.ipynb", EXAMPLE)
    result, seconds = _grade(path)
    example = len(nbformat.read(path, 4).cells)  # the last cell, as the student counts
    _check(result, seconds, example)
    (cell,) = [c for c in result.cells if c.status == "interrupted"]
    assert (cell.index, cell.line) == (example, 3)  # `b.backward()`, the first load's status
    for view in ("text", "markdown", "html"):
        assert "never returned" in _first_line(result, view), view


def test_a_py_file_whose_top_level_code_calls_a_hanging_op_loses_that_op_only(tmp_path):
    path = tmp_path / "relu.py"
    path.write_text(_source() + "\n\n" + EXAMPLE + "\n")
    result, seconds = _grade(path)
    # the file is one piece of code (cell 0: "the file", never "cell 1"): later children run
    # it up to the example, so `Value` is defined
    _check(result, seconds, 0)


def _first_line(result, view: str) -> str:
    """The first line a report shows above its table."""
    if view == "markdown":
        from graders.report.markdown import page_markdown

        return next(line for line in page_markdown(result, "student").splitlines()
                    if line.startswith("> "))
    if view == "html":
        from graders.report.html import page

        text = page(result, "student")
        return text[text.index("cell "):][:300]
    from graders.report.terminal import render

    return next(line for line in _rendered(render, result).splitlines() if "cell " in line)


def _rendered(render, result) -> str:
    import io

    buffer = io.StringIO()
    render(result, file=buffer)
    return buffer.getvalue()


def test_a_cell_that_hangs_at_load_runs_into_its_hang_once_whatever_the_restarts(
        tmp_path, monkeypatch):
    """tanh and exp end the child (twice each: a child that dies is asked once more): four
    fresh children, and none of them enters the loop the first one was stopped in. The
    statements before it run in each (they may define what later cells use)."""
    source = BASE.read_text().replace(
        "import math", "import math\nimport os", 1)
    for rule in ("self.grad += (1 - t**2) * out.grad", "self.grad += out.data * out.grad"):
        assert rule in source
        source = source.replace(rule, "os._exit(3)")
    blocks = [block for block in source.split("\n\n\n") if block.strip()]
    spin = ("print('cell starts')\nspins = 0\nwhile True:\n"
            "    if spins == 0:\n        print('entered the loop', flush=True)\n"
            "    spins += 1")
    after = "print('after the loop cell')"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(b) for b in [*blocks, spin, after]]
    path = tmp_path / "spin.ipynb"
    nbformat.write(notebook, path)

    printed: list[str] = []
    end = session._end

    def spy(child, outcome):
        end(child, outcome)
        printed.append(child.output.decode("utf-8", "replace"))

    monkeypatch.setattr(session, "_end", spy)
    result = api.grade(path, assignment=BACKPROP, seed=5, limits=LIMITS)
    assert len(printed) >= 3  # the first child and at least two restarts
    text = "".join(printed)
    assert text.count("entered the loop") == 1
    assert text.count("cell starts") == len(printed)  # the statements before it, each time
    assert text.count("after the loop cell") == len(printed)  # the cells after it still run
    spinning = len(blocks) + 1
    assert [c.status for c in result.cells if c.index == spinning] == ["interrupted"]
    assert result.summary_lines()[0].startswith(
        f"cell {spinning} ran past the {LIMITS.cell_seconds:g} s time limit")
    assert {op.key for op in result.ops if op.points < op.max_points} >= {"tanh", "exp"}
    assert op_of(result, "relu").passed and op_of(result, "mul").passed


def test_the_cut_keeps_the_statements_before_the_one_stopped():
    from graders.run.harness import _before

    source = "import math\nclass A:\n    pass\n\nx = 1; y = A()\nwhile True:\n    pass\nz = 2"
    assert _before(source, 0) == ""
    assert _before(source, 6) == "import math\nclass A:\n    pass\n\nx = 1; y = A()\n"
    assert _before(source, 7) == _before(source, 6)  # a line inside the loop: the loop's
    assert _before("@wraps\ndef f():\n    pass\nf()", 4) == "@wraps\ndef f():\n    pass\n"
    assert _before("x = 1\n@wraps\ndef f():\n    pass", 3) == "x = 1"
    assert _before("a = 1\r\nb = 2\r\n", 2) == "a = 1\n"


def _flagged_row(student: str, flags: list[str]) -> Row:
    return Row(student, "", f"/s/{student}.ipynb", f"h-{student}", "g1", 7, 23.0, 25.0,
               ops=(OpRow("relu", 0.0, 2.0, "failed"),), flags=tuple(flags))


def test_the_gradebook_keeps_the_flags_and_the_dashboard_and_grades_csv_show_them(tmp_path):
    flags = ["cell 7 interrupted", "time limit hit: relu"]
    with Gradebook(tmp_path) as book:
        book.record(_flagged_row("ada", flags))
        book.record(_flagged_row("bob", []))
    with Gradebook(tmp_path) as book:
        rows = {row.student: row for row in book.rows()}
    assert list(rows["ada"].flags) == flags and rows["bob"].flags == ()
    page = dashboard.page(list(rows.values()), [], isolation="bubblewrap", grader="x")
    table = page.split("<h2>Students</h2>", 1)[1].split("</table>", 1)[0]
    assert '<tr class="hung" data-student="ada"' in table and '<tr data-student="bob"' in table
    assert '<span class="flag hang">time limit hit: relu</span>' in table
    publishing.export_csv(list(rows.values()), BACKPROP, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="") as handle:
        notes = {row["student"]: row["note"] for row in csv.DictReader(handle)}
    assert notes == {"ada": "cell 7 interrupted; time limit hit: relu", "bob": ""}


def test_a_gradebook_made_before_flags_gets_the_column(tmp_path):
    import sqlite3

    with Gradebook(tmp_path) as book:
        book.record(_flagged_row("ada", ["cell 1 interrupted"]))
    db = sqlite3.connect(tmp_path / "gradebook.sqlite")
    db.execute("ALTER TABLE grades DROP COLUMN flags")
    db.commit()
    db.close()
    with Gradebook(tmp_path) as book:
        assert [row.flags for row in book.rows()] == [()]
        book.record(_flagged_row("bob", ["time limit hit: relu"]))
        assert {row.student: row.flags for row in book.rows()} == {
            "ada": (), "bob": ("time limit hit: relu",)}


@pytest.mark.slow
def test_a_batch_its_regrade_and_nbgrader_grade_a_hanging_notebook_alike(tmp_path,
                                                                         monkeypatch):
    students = tmp_path / "students"
    students.mkdir()
    _notebook(students / "carol.ipynb", EXAMPLE)
    out = tmp_path / "out"
    report = batch.run([students], batch.Options(outdir=out, limits=LIMITS, progress=False))
    assert report.graded == 1
    with Gradebook(out) as book:
        (row,) = book.rows()
    example = len(nbformat.read(students / "carol.ipynb", 4).cells)
    flags = [f"cell {example} interrupted", "time limit hit: relu, reference_example"]
    points = {op.key: op.max_points for op in api.unscored("", BACKPROP, "").ops}
    expected = BACKPROP_MAX - points["relu"] - points["reference_example"]
    assert (row.score, list(row.flags)) == (expected, flags)
    assert any(line.startswith("flagged: carol: cell") for line in report.lines())
    assert '<tr class="hung" data-student="carol"' in (out / "summary.html").read_text()

    graded, kept = regrade.grade_again(out, None)
    assert kept == [] and [(r.score, list(r.flags)) for r, _ in graded] == [(expected, flags)]

    from graders.classroom import grading
    from graders.course import nbgrader_autograde

    # The grading seam nbgrader's path grades through, with this test's limits (a partial of
    # api.grade did nothing: the seam passes the job's own limits, the defaults, and the hang
    # spun for 50 s).
    seam = grading.grade
    monkeypatch.setattr(grading, "grade",
                        lambda job: seam(dataclasses.replace(job, limits=LIMITS)))
    result = nbgrader_autograde._graded(nbformat.read(students / "carol.ipynb", 4), BACKPROP,
                                        "carol/backprop/carol.ipynb")
    assert (result.score, result.flags) == (expected, flags)
    points, text = nbgrader_autograde._verdict(op_of(result, "mul"), result)
    assert points == 2 and text.startswith(
        f"cell {example} ran past the {LIMITS.cell_seconds:g} s time limit")


BACKPROP_MAX = api.unscored("", BACKPROP, "").max_score
