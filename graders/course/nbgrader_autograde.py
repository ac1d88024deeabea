"""`nbgrader autograde` with the sandboxed grader's points: no student kernel decides a grade.

nbgrader's own autograde runs the submission in a Jupyter kernel with the instructor's
permissions and takes each grade cell's points from what that kernel displayed, so a notebook
cell can forge them (replace `course.grade`, silence the display, import a `graders/` of its own)
or rewrite the gradebook itself. `SandboxedExecute` takes the place of nbgrader's `Execute` in
the autograde pipeline (nbgrader_config.py): the submitted code runs only in gradkit's sandbox
(`graders.api.grade`, the same grader as `gradkit grade`), no kernel is started, and each grade
cell receives the verdict on its task as its output, with the points as the cell's value.
nbgrader's `SaveAutoGrades` then stores exactly those points in the gradebook, and formgrader,
`generate_feedback` and `export` show them.

Cells of the student's own code get the error the sandbox recorded for them (so feedback shows
where their code failed), and no other output: nothing the student's code prints can reach a
grade cell.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells
from nbgrader.preprocessors.base import NbGraderPreprocessor
from traitlets import Bool, List, Unicode

from graders import api
from graders.model import OpResult, Result, valid_data
from graders.report.text import explain
from graders.run import session  # noqa: F401 - imported now, before any submission is read
from graders.spec import assignments
from graders.spec.optable import Assignment

GRADKIT = "gradkit"

# nbgrader's feedback page, with each graded task named in its contents list (nbgrader's own
# template calls every grade cell "Test cell"): nbgrader_config.py selects it.
FEEDBACK_TEMPLATE = "gradkit_feedback"
# Not index.html.j2: it extends nbgrader's index.html.j2, found next in the search path.
FEEDBACK_TEMPLATE_FILE = "feedback_page.html.j2"


def feedback_template_dirs() -> list[str]:
    """The template folders nbconvert needs for FEEDBACK_TEMPLATE: gradkit's, then nbgrader's
    (which it extends)."""
    import nbgrader

    nbgrader_templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    return [str(Path(__file__).parent / "templates"), str(nbgrader_templates / "templates")]


def _grade_key(cell: nbformat.NotebookNode) -> str | None:
    """The task a locked grade cell checks (`grade_<task>`), or None for any other cell."""
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    if cell.get("cell_type") != "code" or not nbgrader.get("grade") or nbgrader.get("solution"):
        return None
    return str(nbgrader.get("grade_id", "")).removeprefix("grade_")


def _verdict(op: OpResult | None, result: Result) -> tuple[float, str]:
    if op is None:
        return 0.0, "gradkit: this grade cell's task is not one of the assignment's; 0 points\n"
    # What the whole grade stands on comes first in each grade cell: the weak-isolation
    # warning, a cell the grader interrupted (and the ops that hung), and the note on a file
    # that looks like another assignment.
    hung = result.hang_lines("student")
    lines = [line for line in result.summary_lines("student")
             if line.startswith("WARNING") or line == result.assignment_note or line in hung]
    lines.append(f"task {op.task}, {op.title}: {op.points:g} / {op.max_points:g} ({op.status}), "
                 "graded by gradkit in its sandbox")
    if result.problem:
        lines.append(f"not graded: {result.problem}")
    lines += [f"  {line}" for line in explain(op, "student")]
    return float(op.points), "\n".join(lines) + "\n"


# A course written by `gradkit course new` keeps its assignment config beside the source
# notebook: source/NAME/course.toml.
CONFIG_NAME = "course.toml"


def _graded(nb: nbformat.NotebookNode, assignment: Assignment, shown_as: str) -> Result:
    """The sandboxed grader's result for the notebook as submitted (outputs are not code),
    through the grading seam; its reports name `shown_as`, not the temporary copy."""
    from graders.classroom.grading import grade
    from graders.classroom.records import Job

    plain = copy.deepcopy(nb)
    for cell in plain.cells:
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
    with tempfile.TemporaryDirectory(prefix="gradkit-nbgrader-") as folder:
        path = Path(folder) / "submission.ipynb"
        nbformat.write(plain, path)
        return grade(Job("", "", str(path), assignment, shown_as=shown_as)).result


def source_config(root: str | Path, source: str, assignment_id: str) -> Assignment | None:
    """The assignment config in the course's *source* folder, if the assignment has one: the
    instructor's copy, never the one a student could hand in beside the notebook."""
    path = Path(root) / source / assignment_id / CONFIG_NAME
    return api.check_assignment(assignments.from_file(path)) if path.is_file() else None


def course_assignment(root: str | Path, source: str, assignment_id: str,
                      ) -> tuple[Assignment, bool]:
    """What nbgrader's assignment `assignment_id` is graded as, from the course alone, never
    from the notebook: its source folder's config; else the built-in assignment of that name;
    else the default (and True: say so)."""
    config = source_config(root, source, assignment_id)
    if config is not None:
        return config, False
    if assignment_id in assignments.BUILTIN:
        return assignments.BUILTIN[assignment_id], False
    return assignments.DEFAULT, True


class ValidText(NbGraderPreprocessor):
    """First in autograde's pipeline: every text of the submitted notebook made valid UTF-8
    (`model.valid_data`). A lone surrogate escaped in its JSON (`"\\ud800"`) reads fine but
    cannot be written back, so without this nbgrader fails that student's notebook."""

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict):
        return valid_data(nb), resources


def _failed(nb: nbformat.NotebookNode, resources: dict, assignment: Assignment | None,
            error: Exception) -> Result:
    """The result of a notebook the grader failed on: 0 for every task, the reason in one
    line naming the notebook, so nbgrader still records a grade for the student."""
    name = _shown_as(resources)
    assignment = assignment or assignments.DEFAULT  # the course decides, never the notebook
    return api.unscored(name, assignment, api.grader_failure(name, error))


def _shown_as(resources: dict) -> str:
    """The notebook as nbgrader names it: student/assignment/notebook.ipynb."""
    info = resources.get("nbgrader", {})
    return "/".join(str(info.get(key, "?")) for key in ("student", "assignment", "notebook")) \
        + ".ipynb"


class SandboxedExecute(NbGraderPreprocessor):
    """In place of nbgrader's `Execute` at autograde: the sandbox runs the code, gradkit judges.

    Each grade cell's output becomes the verdict on its task (text) and its points (the cell's
    value, which nbgrader reads as partial credit); other code cells get only the error the
    sandbox recorded for them, if any.
    """

    weak_isolation = Bool(False, help=(
        "Grade even where no OS wall (bubblewrap, or Landlock and seccomp) is under the audit "
        "hook; every grade then says so. Off: such a machine grades nobody.")).tag(config=True)

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict):
        from graders.run.sandbox import no_wall_reason
        reason = no_wall_reason(None)
        if reason and not self.weak_isolation:
            raise RuntimeError(
                f"gradkit: no OS wall under the audit hook here ({reason}; no usable "
                "bubblewrap either): not graded for credit. Set "
                "c.SandboxedExecute.weak_isolation = True to accept the audit hook alone.")
        course = self.config.get("CourseDirectory", {})
        name = resources.get("nbgrader", {}).get("assignment", "")
        source = course.get("source_directory", "source")
        assignment: Assignment | None = None
        try:
            assignment, defaulted = course_assignment(course.get("root", os.getcwd()), source,
                                                      name)
            if defaulted:
                self.log.warning("gradkit: nbgrader assignment %r is not a built-in one (%s) "
                                 "and has no %s/%s/%s: graded as %s, the default", name,
                                 ", ".join(assignments.BUILTIN), source, name, CONFIG_NAME,
                                 assignment.name)
            result = _graded(nb, assignment, _shown_as(resources))
        except Exception as error:  # a grader fault costs this student's grade only
            result = _failed(nb, resources, assignment, error)
        by_key = {op.key: op for op in result.ops}
        errors = {cell.index: cell for cell in result.cells if cell.status != "ok"}
        for position, cell in enumerate(nb.cells, start=1):
            if cell.get("cell_type") != "code":
                continue
            cell.execution_count = None
            key = _grade_key(cell)
            if key is None:
                failed = errors.get(position)
                cell.outputs = [] if failed is None else [new_output(
                    "error", ename=failed.error.split(":")[0] or "Error",
                    evalue=failed.error.partition(": ")[2], traceback=[failed.error])]
                continue
            points, text = _verdict(by_key.get(key), result)
            cell.outputs = [new_output("stream", name="stdout", text=text),
                            new_output("execute_result", data={"text/plain": repr(points)},
                                       execution_count=None)]
        self.log.info("gradkit: %s scored %g / %g (%s isolation)", resources.get(
            "unique_key", "submission"), result.score, result.max_score, result.isolation)
        resources.setdefault(GRADKIT, {})["score"] = result.score
        return nb, resources


class ReleasedCellsOverwrite(OverwriteCells):
    """nbgrader's OverwriteCells without its false "checksum has changed" warnings.

    nbgrader stores each locked cell's checksum *with* its hidden tests, and the release strips
    them, so every untouched grade cell of a hidden-test assignment reads as changed at
    autograde (jupyter/nbgrader#1961): 15 warnings per student that would hide a real one. A
    locked cell whose source is exactly the database's source with the hidden tests cleared is
    the release's own: it gets the database's source back (what nbgrader then does anyway)
    before the check, so only a cell a student really changed is reported.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and cell.metadata.nbgrader.get("locked"):
            try:
                source = self.gradebook.find_source_cell(grade_id, self.notebook_id,
                                                         self.assignment_id)
            except MissingEntry:
                source = None
            if source is not None and cell.source == _released(source.source):
                cell.source = source.source
        return super().preprocess_cell(cell, resources, cell_index)


def _released(source: str) -> str:
    """A cell's source as the release has it: hidden tests cleared the way nbgrader clears
    them."""
    cell = nbformat.v4.new_code_cell(source)
    ClearHiddenTests()._remove_hidden_test_region(cell)
    return cell.source


class FeedbackClearHiddenTests(ClearHiddenTests):
    """ClearHiddenTests for the feedback pipeline: nbconvert hands every preprocessor of an
    HTML export its `display_data_priority`, which nbgrader's own one does not declare (a
    config warning on every `generate_feedback`); declared here, ignored as before."""

    display_data_priority = List(Unicode()).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        """Also drop a grade cell's points value: nbgrader's autograde reads the partial
        credit from it (the gradebook holds it since), and the feedback page would show it
        as "Out[ ]: 0.0" under the verdict that already says "0 / 2"."""
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if _grade_key(cell) is not None:
            cell.outputs = [output for output in cell.get("outputs", [])
                            if output.get("output_type") != "execute_result"]
        return cell, resources
