"""The course: generated notebooks, their release, and nbgrader grading like `gradkit grade`."""

from __future__ import annotations

import csv
import html
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from graders import api, course
from graders.course import authoring
from graders.report.sections import sections
from graders.spec.optable import op
from tests.conftest import project_files
from tests.nbgrader_class import FORGERIES, STUDENTS, answered

ROOT = Path(__file__).resolve().parents[1]
RELEASED = ROOT / "assignments"


# --- generated, not hand-copied ----------------------------------------------------------------


@pytest.mark.parametrize("assignment", course.ASSIGNMENTS)
def test_source_notebooks_are_what_the_builder_writes(assignment: str) -> None:
    on_disk = authoring.path_for(assignment).read_text(encoding="utf-8")
    assert on_disk == authoring.render(assignment), (
        f"solutions/{assignment} drifted from graders/course/authoring.py: "
        "run `python -m graders.course.authoring` and regenerate the release")


def test_release_is_exactly_what_generate_assignment_produces(nbgrader_class) -> None:
    """The shared class's course was released by `nbgrader generate_assignment --force NAME`
    from a copy of solutions/ (tests/nbgrader_class.py): the committed release is that."""
    for assignment in course.ASSIGNMENTS:
        fresh = authoring.path_for(assignment, nbgrader_class.root / "assignments").read_text()
        committed = authoring.path_for(assignment, RELEASED).read_text()
        assert fresh == committed, (
            f"assignments/{assignment} drifted: run "
            "`nbgrader generate_assignment --no-db --force '*'` in the repo root")


@pytest.mark.parametrize("assignment", course.ASSIGNMENTS)
def test_release_has_stubs_naming_every_task_and_no_answers(assignment: str) -> None:
    released = nbformat.read(authoring.path_for(assignment, RELEASED), as_version=4)
    text = "\n".join(cell.source for cell in released.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "course.grade(" not in text
    raises = re.findall(r"raise NotImplementedError\('not implemented: (.*)'\)", text)
    stubs = {task for message in raises for task in re.findall(r"task (\d+\.\d+)", message)}
    assert stubs == {item.task for item in course.tasks(assignment)} - {
        op("reference_example").task}  # the reference example is a cell to run, not a stub
    code = "\n".join(cell.source for cell in released.cells if cell.cell_type == "code")
    source = nbformat.read(authoring.path_for(assignment), as_version=4)
    for cell in source.cells:  # no answer line survives into the released code
        for line in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S):
            for answer in line.strip().split("\n"):
                if answer.strip() not in ("return", ""):
                    assert answer.strip() not in code, answer


@pytest.mark.parametrize("assignment", course.ASSIGNMENTS)
def test_grade_cells_carry_the_tables_points(assignment: str) -> None:
    released = nbformat.read(authoring.path_for(assignment, RELEASED), as_version=4)
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in released.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert points == {f"grade_{t.key}": t.points for t in course.tasks(assignment)}
    assert course.tasks("backprop")[2].points == op(course.tasks("backprop")[2].key).points


# --- the checks behind assignments 1 and 3 -----------------------------------------------------


def _namespace(nb: nbformat.NotebookNode) -> dict:
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "HIDDEN TESTS" not in cell.source \
                and "graders import" not in cell.source:
            try:
                exec(cell.source, namespace)
            except NotImplementedError:
                pass
    return namespace


@pytest.mark.parametrize("assignment", ["derivatives", "mlp"])
def test_course_checks_give_full_points_to_answers_and_less_to_mistakes(assignment, capsys):
    right = _namespace(answered(assignment))
    wrong = _namespace(answered(assignment, mistakes=True))
    blank = _namespace(nbformat.read(authoring.path_for(assignment, RELEASED), as_version=4))
    for item in course.tasks(assignment):
        assert course.grade(item.key, right) == item.points, capsys.readouterr().out
        assert course.grade(item.key, blank) == 0
    capsys.readouterr()
    lost = [t for t in course.tasks(assignment) if course.grade(t.key, wrong) < t.points]
    assert lost, "the typical mistake went unnoticed"
    out = capsys.readouterr().out
    if assignment == "mlp":
        assert "zero_grad" in [t.key for t in lost]
        assert "zero the grads" in out


# --- a real kernel ------------------------------------------------------------------------------


def execute(path: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def outputs(nb: nbformat.NotebookNode) -> tuple[str, list[str]]:
    text, errors = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text.append(out.text)
            elif out.output_type == "error":
                errors.append(f"{out.ename}: {out.evalue}")
            else:
                text += [out.data.get("text/plain", ""), out.data.get("text/html", "")]
    return "\n".join(text), errors


@pytest.mark.slow
@pytest.mark.parametrize("assignment", course.ASSIGNMENTS)
def test_solution_notebook_runs_clean_and_passes_everything(assignment: str) -> None:
    text, errors = outputs(execute(authoring.path_for(assignment)))
    assert errors == []
    for item in course.tasks(assignment):
        assert f"task {item.task}, {item.title}: {item.points:g} / {item.points:g} (passed)" \
            in text
    assert "not implemented" not in text and "wrong" not in text
    if assignment == "backprop":
        from graders.judge import oracle
        reference = oracle.load().reference
        for name in ("g", "a.grad", "b.grad"):
            assert f"{float(reference.exact_fraction(name)):.4f}" in text
        assert "self-check: 25 / 25" in text.replace(
            f"{sum(t.points for t in course.tasks('backprop')):g}", "25")


@pytest.mark.slow
@pytest.mark.parametrize("assignment", course.ASSIGNMENTS)
def test_released_notebook_runs_top_to_bottom_with_stubs_naming_tasks(assignment: str) -> None:
    text, errors = outputs(execute(authoring.path_for(assignment, RELEASED)))
    assert errors, "the stubs should raise"
    assert all(e.startswith("NotImplementedError: not implemented: task ") for e in errors)
    assert "not implemented" in text  # the self-check says so too, with task ids
    for item in course.tasks(assignment):
        if assignment != "mlp":  # mlp tasks build on each other; 3.2 stands in for later ones
            assert re.search(rf"(?<![\d.]){re.escape(item.task)}(?!\d)", text), item.task


# --- end to end through nbgrader ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("assignment", course.ASSIGNMENTS)
def test_gradkit_grade_gives_solutions_full_marks_and_the_release_nothing(assignment: str):
    solution = api.grade(authoring.path_for(assignment))
    assert solution.problem is None and solution.score == solution.max_score > 0
    assert [op.key for op in solution.ops] == [t.key for t in course.tasks(assignment)]
    release = api.grade(authoring.path_for(assignment, RELEASED))
    assert release.score == 0 and release.problem is None
    assert {op.key for op in release.ops} == {t.key for t in course.tasks(assignment)}


def test_nbgrader_autograde_gives_each_op_the_points_gradkit_grade_gives(nbgrader_class):
    course_dir = nbgrader_class.root
    nbgrader_class.check("autograde")  # 1 if any submission errored
    nbgrader_class.check("generate_feedback")
    nbgrader_class.check("export")

    with nbgrader_class.gradebook() as gb:
        for student in STUDENTS:
            for assignment in course.ASSIGNMENTS:
                submitted = nbgrader_class.submitted(student, assignment)
                # No --config: the notebook's grade cells say which assignment it is.
                graded = {o.key: o.points for o in api.grade(submitted).ops}
                nbgrader_points = {
                    item.key: gb.find_grade(f"grade_{item.key}", assignment, assignment,
                                            student).score
                    for item in course.tasks(assignment)}
                assert nbgrader_points == pytest.approx(graded, abs=1e-9), (student, assignment)
        totals = {(s, a): gb.find_submission(a, s).score
                  for s in STUDENTS for a in course.ASSIGNMENTS}
        everyone = {student.id for student in gb.students}
    maximum = {a: sum(t.points for t in course.tasks(a)) for a in course.ASSIGNMENTS}
    for assignment in course.ASSIGNMENTS:
        assert totals["correct", assignment] == maximum[assignment]
        assert 0 < totals["mistaken", assignment] < maximum[assignment]
        assert totals["blank", assignment] == 0

    with open(course_dir / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # A row per student and assignment of the class (a student who handed nothing in: 0).
    assert {(r["student_id"], r["assignment"]) for r in rows} == {
        (s, a) for s in everyone for a in course.ASSIGNMENTS}
    assert set(STUDENTS) <= everyone
    for row in rows:
        if row["student_id"] in STUDENTS:
            assert float(row["score"]) == totals[row["student_id"], row["assignment"]], row

    for student in STUDENTS:
        for assignment in course.ASSIGNMENTS:
            page = nbgrader_class.feedback(student, assignment).read_text()
            assert "HIDDEN TESTS" not in page and "course.grade(" not in page
    feedback = nbgrader_class.feedback("mistaken", "backprop").read_text()
    assert f"task {op('tanh').task}" in feedback and "1 − tanh(x)²" in feedback
    # The contents list names each task, as the notebook does, not 15 times "Test cell".
    contents = feedback[feedback.index('<div id="toc">'):feedback.index("</ol>")]
    assert "Test cell" not in contents
    for item in course.tasks("backprop"):
        assert f">Task {item.task}, {item.title}</a>" in contents
    # Each grade cell shows its verdict, not its points again as "Out[ ]: 0.0" (issue 28),
    # and a long verdict line wraps instead of running past the page's right edge.
    assert "Out[" not in feedback and "execute_result" not in feedback
    assert "pre-wrap" in feedback[feedback.index("<body"):]
    # nbgrader's page says each mistake in the words a batch's feedback page uses (issue 28)
    page = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", feedback)).split())
    graded = api.grade(nbgrader_class.submitted("mistaken", "backprop"))
    said = [sections(o)["mistake"] for o in graded.ops if not o.passed and o.diagnosis]
    assert said and all(" ".join(s.split()) in page for s in said), said


@pytest.mark.slow
def test_nbgrader_autograde_scores_forgeries_as_the_untouched_release(nbgrader_class) -> None:
    """Each of FORGERIES (tests/nbgrader_class.py) is a cell added to the untouched release of
    each assignment, handed in with a graders/ package beside it that gives every task 1e9:
    nbgrader's autograde scores it as the untouched release, 0, and graded every one."""
    nbgrader_class.check("autograde")
    with nbgrader_class.gradebook() as gb:
        scores = {(name, a): gb.find_submission(a, name).score
                  for name in FORGERIES for a in course.ASSIGNMENTS}
        blank = {a: gb.find_submission(a, "blank").score for a in course.ASSIGNMENTS}
    assert blank == dict.fromkeys(course.ASSIGNMENTS, 0.0)
    assert scores == dict.fromkeys(scores, 0.0)
    assert all((nbgrader_class.submitted(name, a).parent / "graders" / "course.py").is_file()
               for name, a in scores)


@pytest.mark.parametrize("assignment", course.ASSIGNMENTS)
def test_prose_renders_as_prose(assignment: str) -> None:
    """A Markdown line indented four spaces is a code block: none in the source or release."""
    for root in (authoring.SOLUTIONS, RELEASED):
        nb = nbformat.read(authoring.path_for(assignment, root), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                indented = [line for line in cell.source.split("\n")
                            if line.startswith("    ") and not line.lstrip().startswith("-")]
                assert indented == [], (assignment, cell.source[:80])


def _docs_block(marker: str) -> list[str]:
    """The command lines of the bash block that follows `marker` in docs/course.md: the
    annotation that names the test running it (not a heading: the install block above it must
    never run here, as its `pip install -e` would repoint this interpreter's gradkit)."""
    text = (ROOT / "docs" / "course.md").read_text()
    block = text.split(marker, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip()]
    assert not any("pip" in line or "venv" in line for line in lines), lines
    return lines


@pytest.mark.slow
def test_the_instructor_loop_in_the_docs_runs_verbatim_on_a_fresh_copy(tmp_path: Path):
    """docs/course.md's commands, as written, on a copy of the repository's tracked files:
    every one succeeds, none warns, and the gradebook ends with the release's score, 0."""
    copy = tmp_path / "course"
    for name in project_files():
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    # `nbgrader` as the docs write it, run by this interpreter (as `venv/bin/nbgrader` would
    # be), whether or not its folder is on PATH: the course's config finds `alembic` itself.
    shim = tmp_path / "bin" / "nbgrader"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m nbgrader "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PYTHONPATH": str(copy),
           "PATH": os.pathsep.join([str(shim.parent), os.environ.get("PATH", "/usr/bin:/bin")])}
    this_test = "test_the_instructor_loop_in_the_docs_runs_verbatim_on_a_fresh_copy"
    for line in _docs_block(this_test):
        done = subprocess.run(["bash", "-c", line], cwd=copy, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"{line}: {done.stderr[-2000:]}"
        noise = [out for out in (done.stdout + done.stderr).splitlines()
                 if ("WARNING" in out or "Warning" in out or "ERROR" in out)
                 and "Removing existing assignment" not in out]  # forced, as documented
        assert noise == [], f"{line}: {noise[:5]}"
    with open(copy / "grades.csv", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["student_id"] == "alice" and float(row["score"]) == 0.0
    assert float(row["max_score"]) == sum(t.points for t in course.tasks("backprop"))
    assert (copy / "feedback" / "alice" / "backprop" / "backprop.html").is_file()
    released = "assignments/backprop/backprop.ipynb"
    assert (copy / released).read_text() == (ROOT / released).read_text()  # regenerated as is


def test_nbgrader_finds_alembic_without_an_activated_venv(tmp_path: Path, monkeypatch):
    """nbgrader runs `alembic` by name when it makes a gradebook: the course's config puts the
    interpreter's own tools first on PATH, so a bare PATH (no venv activated) works. In this
    process (nbgrader already imported), with its PATH bare as a fresh shell's."""
    from nbgrader.api import Gradebook

    from graders.course.nbgrader_setup import put_tools_on_path

    environ = {"PATH": "/usr/bin:/bin"}
    put_tools_on_path(environ)
    assert shutil.which("alembic", path=environ["PATH"]) is not None
    assert environ["PATH"].split(os.pathsep)[0] == os.path.dirname(os.path.abspath(sys.executable))
    assert environ["PATH"].endswith("/usr/bin:/bin")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    put_tools_on_path()  # what nbgrader_config.py's configure(c) does, on os.environ
    assert os.environ["PATH"] == environ["PATH"]
    Gradebook(f"sqlite:///{tmp_path}/g.db").close()  # runs `alembic ... heads` by name
    assert (tmp_path / "g.db").is_file()


def test_the_course_gitignore_keeps_student_data_out():
    ignored = (ROOT / ".gitignore").read_text().split()
    for name in ("/submitted/", "/autograded/", "/feedback/", "/gradebook.db", "/grades.csv"):
        assert name in ignored, name
