"""One string, one submission: text UTF-8 cannot carry, or a grader fault on one file, costs that
submission only, never the batch, results.json, the CI outputs or nbgrader's gradebook.

A lone surrogate (a student's `raise ValueError("\\ud800")`, a `\\ud800` escape in a notebook's
JSON, a file name that is not UTF-8) is valid in a Python str and invalid in every file: it is
made U+FFFD where it enters the parent (`model.valid_text`), and every writer carries it anyway.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graders.atomic import write_json_atomic
from graders.classroom import batch as batch_module
from graders.classroom import publishing
from graders.classroom.gradebook import Gradebook
from graders.classroom.records import OpRow, Row
from graders.commands.grade import write_feedback
from graders.judge import oracle, probes, scoring
from graders.model import Loaded, Outcome, Record, Result
from graders.report import ci, terminal, text
from graders.report.gradescope import gradescope, validate
from graders.run.loader import load
from graders.run.sandbox import parse_record
from graders.spec.assignments import BUILTIN, to_data
from tests.conftest import gradkit
from tests.corpus import BASE, as_notebook
from tests.test_hostile import HERE, load_payload, splice
from tests.test_hostile_batch import batch

HONEST = BASE.read_text()
PAYLOAD = load_payload(HERE / "hostile" / "lone_surrogate.py")  # raises ValueError("\ud800")


def surrogate_notebook(source: str = HONEST) -> str:
    """`source` as a notebook whose JSON escapes a lone surrogate in a code cell's comment, as
    `json.dumps` writes it: valid JSON, decoding to a str no UTF-8 writer accepts."""
    notebook = json.loads(as_notebook(source))
    notebook["cells"][1]["source"] += "\n# \ud800\n"
    text = json.dumps(notebook)
    assert "\\ud800" in text
    return text


def utf8(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # strict: a surrogate never reached the file


# --- the boundary ---------------------------------------------------------------------------


def test_a_notebooks_escaped_surrogate_is_text_once_loaded(tmp_path):
    path = tmp_path / "cat.ipynb"
    path.write_text(surrogate_notebook())
    program = load(path)
    assert "# \ufffd" in program.cells[0].source
    assert all(cell.source.encode("utf-8") for cell in program.cells)
    assert program.task_keys() == ()  # detection reads it without raising


def test_a_records_lone_surrogates_become_replacement_characters():
    line = json.dumps({"id": "a\ud800", "error": "ValueError: \udcff",
                       "grads": {"x\ud800": ["\ud83d", {"k": "\ude00"}]}}).encode()
    record = parse_record(line)
    assert record == {"id": "a\ufffd", "error": "ValueError: \ufffd",
                      "grads": {"x\ufffd": ["\ufffd", {"k": "\ufffd"}]}}
    assert parse_record(json.dumps({"e": "\U0001f600"}).encode()) == {"e": "\U0001f600"}


# --- every writer, on any text --------------------------------------------------------------

# Any character, lone surrogates included (st.text leaves category Cs out unless asked).
CHARACTERS = st.one_of(st.characters(categories=["Cs"]), st.characters(exclude_categories=()))
TEXT = st.text(CHARACTERS, max_size=30)


def _result(said: str, problem: bool) -> Result:
    """A result whose every text from the child is `said`, fed past the boundary (the writers
    must carry it on their own): errors, a non-number gradient, a cell error, the output."""
    assignment = BUILTIN["backprop"]
    groups = probes.plan(assignment, 7)
    outcome = Outcome(loaded=Loaded.parse({"value": {"found": True, "is_class": True,
                                                     "own": True, "methods": []}}))
    for number, case in enumerate(case for group in groups for case in group.cases):
        answer = {"error": said} if number % 2 else {"out": said, "grads": {"x": said}}
        outcome.records[case.id] = Record.parse({"id": case.id, **answer})
    ops = scoring.score(assignment, groups, outcome, oracle.load())
    result = Result(submission=f"{said}.ipynb", ops=ops, seed=7, isolation="weak",
                    output=said, notes=[said],
                    cells=list(Loaded.parse({"cells": [{"index": 1, "status": "error",
                                                        "line": 2, "error": said}]}).cells))
    if problem:
        result.problem = f"{said}: not a notebook"
        result.ops = scoring.unscored(assignment, result.problem)
    return result


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(said=TEXT, problem=st.booleans())
def test_any_text_from_the_child_is_written_as_utf8_in_every_format(said, problem):
    result = _result(said, problem)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        write_json_atomic(out / "results.json", gradescope(result))
        assert validate(json.loads(utf8(out / "results.json"))) == []
        for audience in ("student", "instructor"):
            for name in (f"{audience}.html", f"{audience}.md"):
                utf8(write_feedback(str(out / name), result, audience))
            text.text_table(result.ops, audience).encode("utf-8")
        ci.write_junit(result, out / "junit.xml")
        ElementTree.fromstring(utf8(out / "junit.xml"))
        stream = io.StringIO()
        environ = {"GITHUB_STEP_SUMMARY": str(out / "summary"),
                   "GITHUB_OUTPUT": str(out / "output")}
        ci.github(result, out / "missing.ipynb", environ=environ, stream=stream)
        stream.getvalue().encode("utf-8")
        utf8(out / "summary") and utf8(out / "output")
        shown = io.StringIO()
        terminal.render(result, file=shown, verbose=True)
        shown.getvalue().encode("utf-8")
        row = Row("ann", said, f"{said}.py", "hash", "grader", 7, result.score,
                  result.max_score, result.problem or said, None, 0.0,
                  tuple(OpRow.of(op) for op in result.ops))
        with Gradebook(out) as book:
            book.record(row)
            rows = list(book.rows())
        publishing.publish(rows, BUILTIN["backprop"], out, "weak")
        for name in ("grades.csv", "summary.md", "summary.json", "summary.html"):
            utf8(out / name)


# --- one submission's fault is its own row --------------------------------------------------


def test_a_fault_reading_or_storing_one_submission_is_that_rows_reason(tmp_path, monkeypatch):
    """No sandbox: ann's file has no code (not gradable), bob's detection hits a grader bug
    (his file has no code either, for the rerun), and the long name's grade cannot be written
    to a results file (the name is too long)."""
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("ann", "bob"):
        (folder / f"{name}.py").write_text("\n")
    long = folder / ("z" * 240 + "!x")  # its id gets a tag: 255 bytes and more with `.json`
    long.mkdir()
    (long / "a.py").write_text("")
    (long / "b.py").write_text("")
    real = batch_module.assignment_for
    calls = []

    def buggy(folder, config):  # a bug deciding what the second file is graded as
        calls.append(folder)
        if len(calls) == 2:
            raise RuntimeError("simulated bug\nin detection")
        return real(folder, config)

    monkeypatch.setattr(batch_module, "assignment_for", buggy)
    options = batch_module.Options(outdir=tmp_path / "out", progress=False)
    report = batch_module.run([folder], options)
    assert (report.found, report.ungradable, report.errors) == (3, 1, 2)
    with Gradebook(tmp_path / "out") as book:
        rows = {row.student[:3]: row for row in book.rows()}
    assert set(rows) == {"ann", "bob", "zzz"}
    assert "no code to run" in rows["ann"].problem
    failed = [row for row in rows.values() if "the grader failed reading" in row.problem]
    assert len(failed) == 1 and failed[0].student == "bob"
    assert failed[0].problem.startswith(f"{folder / 'bob.py'}: the grader failed reading")
    assert "RuntimeError: simulated bug in detection" in failed[0].problem
    assert "the grader failed storing the grade of" in rows["zzz"].problem
    assert "File name too long" in rows["zzz"].problem
    assert all("\n" not in row.problem and row.score == 0 for row in rows.values())
    assert len(utf8(tmp_path / "out" / "grades.csv").splitlines()) == 4
    assert sum(line.startswith("grader error: ") for line in report.lines()) == 2
    monkeypatch.setattr(batch_module, "assignment_for", real)
    again = batch_module.run([folder], options)  # grader faults are tried again, not kept
    assert (again.unchanged, again.ungradable, again.errors) == (1, 1, 1)
    with Gradebook(tmp_path / "out") as book:
        assert "no code to run" in next(r for r in book.rows() if r.student == "bob").problem


# --- end to end: the batch, Gradescope, nbgrader (through the real sandbox) ----------------


@pytest.mark.slow
def test_a_batch_with_lone_surrogates_finishes_with_every_row(tmp_path):
    hostile, alone = tmp_path / "hostile", tmp_path / "alone"
    for folder in (hostile, alone):
        folder.mkdir()
        (folder / "ann.py").write_text(HONEST)
    (hostile / "bob.py").write_text(splice(PAYLOAD, {}))
    (hostile / "cat.ipynb").write_text(surrogate_notebook())
    _, rows = batch(hostile, tmp_path / "out")
    _, by_herself = batch(alone, tmp_path / "out-alone")
    assert set(rows) == {"ann", "bob", "cat"}
    assert rows["ann"] == by_herself["ann"]
    assert float(rows["ann"]["total"]) == float(rows["cat"]["total"]) == 25
    assert rows["bob"]["tanh"] == "0" and rows["bob"]["problem"] == ""
    assert "ValueError: \ufffd" in utf8(tmp_path / "out" / "results" / "bob.json")
    again = gradkit("grade", str(hostile), "--out", str(tmp_path / "out"), timeout=120)
    assert again.returncode == 0 and "0 graded, 3 unchanged" in again.stdout


@pytest.mark.slow
def test_gradescope_writes_results_for_a_notebook_of_lone_surrogates(tmp_path):
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    (root / "source" / "gradkit.json").write_text(json.dumps({
        "assignment": to_data(BUILTIN["backprop"]), "notebook": None,
        "hidden_visibility": "after_published", "op_timeout": None,
        "secret": os.urandom(32).hex()}))
    (root / "submission" / "backprop.ipynb").write_text(
        surrogate_notebook(splice(PAYLOAD, {})))
    done = gradkit("gradescope", "run", "--root", str(root), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(utf8(root / "results" / "results.json"))
    assert validate(results) == [] and "autograder_error" not in results["extra_data"]
    tanh = next(test for test in results["tests"] if test["name"].startswith("tanh"))
    assert tanh["score"] == 0 and "ValueError: \ufffd" in tanh["output"]
    assert 0 < results["score"] < results["extra_data"]["max_score"]


def test_nbgrader_writes_a_notebook_whose_json_escapes_a_lone_surrogate():
    from traitlets.config import Config

    from graders.course.nbgrader_autograde import SandboxedExecute, ValidText
    from graders.course.nbgrader_setup import configure

    nb = nbformat.reads(surrogate_notebook(), as_version=4)
    nb, _ = ValidText().preprocess(nb, {})
    assert "\ufffd" in nbformat.writes(nb).encode("utf-8").decode("utf-8")
    c = Config()
    configure(c)
    assert c.Autograde.sanitize_preprocessors[0] is ValidText
    assert SandboxedExecute in c.Autograde.autograde_preprocessors


@pytest.mark.slow
def test_nbgrader_autograde_grades_every_student_of_a_class_with_lone_surrogates(nbgrader_class):
    """In the class nbgrader autogrades in one run (tests/nbgrader_class.py), bob's notebook
    escapes a lone surrogate in its JSON (a comment, and tanh's backward raising one): bob is
    graded, and so is everyone beside him, the honest `correct` in full."""
    from tests.nbgrader_class import SURROGATE, SURROGATE_RAISE

    handed_in = nbgrader_class.submitted(SURROGATE, "backprop").read_text(encoding="utf-8")
    assert "\\ud800" in handed_in  # escaped in the JSON, as handed in
    assert any(SURROGATE_RAISE in cell["source"] for cell in json.loads(handed_in)["cells"])
    nbgrader_class.check("autograde")
    with nbgrader_class.gradebook() as gb:
        scores = {s: gb.find_submission("backprop", s).score for s in ("correct", SURROGATE)}
    assert scores["correct"] == 25 and 0 < scores[SURROGATE] < 25
    assert nbgrader_class.submitted(SURROGATE, "backprop").is_file()
    assert (nbgrader_class.root / "autograded" / SURROGATE / "backprop" / "backprop.ipynb"
            ).is_file()
