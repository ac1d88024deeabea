"""One nbgrader class for the tests that check what `nbgrader autograde` does with a student.

Each such test used to build a course of its own and pay nbgrader's start-up and a sandboxed
grade per student for it (issue 27). Here one course holds every student those tests need,
each handing in a notebook of the behaviour one test checks, and the real `nbgrader` CLI runs
generate_assignment, autograde, generate_feedback and export on the whole class once per test
session. The tests then read its gradebook, feedback and grades.csv: each still asserts on its
own students, and a student whose notebook misbehaves shares the run with honest ones, as in a
real class.

Under pytest-xdist the workers share one build (the first to ask builds it under a lock, the
others wait and read it).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from graders import course
from graders.course import authoring

ROOT = Path(__file__).resolve().parents[1]
RELEASED = ROOT / "assignments"
STUDENTS = ("correct", "mistaken", "blank")
# A typical mistake per assignment, as an edit of the correct answer.
MISTAKES = {
    "derivatives": [("return (f(x + h) - f(x)) / h", "return (f(x + h) - f(x)) / 2 * h")],
    "backprop": [("self.grad += (1.0 - t * t) * out.grad",
                  "self.grad += (1.0 - self.data ** 2) * out.grad"),
                 ("other.grad += self.data * out.grad", "other.grad = self.data * out.grad")],
    "mlp": [("p.grad = 0.0", "pass  # the lecture's bug: no zero_grad")],
}

# In-kernel forgeries that fooled nbgrader's own autograde (issue 11): each is a cell added to
# the untouched release, which must still score what the untouched release scores: nothing.
FORGERIES = {
    "replace_grade": "import graders.course as c\nc.grade = lambda key, ns: 1e9\n",
    "sys_modules": ("import sys, types\nfake = types.ModuleType('graders')\n"
                    "fake.course = types.SimpleNamespace(grade=lambda k, ns: 1e9)\n"
                    "sys.modules['graders'] = fake\nsys.modules['graders.course'] = fake.course\n"),
    "silent_display": ("get_ipython().display_formatter.active_types = []\n"
                       "get_ipython().ast_node_interactivity = 'none'\n"),
    "print": "import builtins\nbuiltins.print = lambda *a, **k: None\n",
    "gradebook": ("import glob, sqlite3\nfor db in glob.glob('/**/gradebook.db', recursive=True):\n"
                  "    sqlite3.connect(db).execute('update grade set auto_score = 1e9')\n"),
    "reference_value": "from kit.engine import Value\n",
    "grade_cell_globals": ("course = type('Course', (), {'grade': staticmethod("
                           "lambda key, ns: 1e9)})\n"),
}

# The student whose grade cells are deleted and rewritten (tests/test_course_integrity.py), and
# the one whose notebook escapes a lone surrogate (tests/test_hostile_text.py).
SLY = "sly"
SURROGATE = "bob"
SURROGATE_RAISE = 'raise ValueError("\\ud800")'


def nbgrader(course_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir,
                            capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result


def make_course(tmp: Path) -> Path:
    """A fresh course built from this repo: its sources, and its config with another root."""
    shutil.copytree(ROOT / "solutions", tmp / "solutions")
    (tmp / "nbgrader_config.py").write_text(
        f"load_subconfig({str(ROOT / 'nbgrader_config.py')!r})\n"
        f"c.CourseDirectory.root = {str(tmp)!r}\n")
    return tmp


def answered(assignment: str, mistakes: bool = False) -> nbformat.NotebookNode:
    """The released notebook with the solutions typed in, the way a student would hand it in."""
    source = nbformat.read(authoring.path_for(assignment), as_version=4)
    released = nbformat.read(authoring.path_for(assignment, RELEASED), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    applied = set()
    for cell in released.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            text = "\n".join(line for line in answers[grade_id].split("\n")
                             if "### BEGIN SOLUTION" not in line
                             and "### END SOLUTION" not in line)
            for old, new in MISTAKES[assignment] if mistakes else ():
                if old in text:
                    applied.add(old)
                    text = text.replace(old, new)
            cell.source = text
    missing = {old for old, _ in MISTAKES[assignment]} - applied if mistakes else set()
    assert not missing, f"{assignment}: the mistake edits {missing} no longer apply"
    return released


def sly_notebook() -> nbformat.NotebookNode:
    """backprop with its mistakes, the tanh grade cell deleted and mul's rewritten to pass."""
    nb = answered("backprop", mistakes=True)
    grade_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    deleted, forged = grade_cells[2], grade_cells[1]
    nb.cells.remove(deleted)  # a student deletes the tanh grade cell ...
    forged.source = "print('all good')"  # ... and rewrites mul's to always pass
    forged.metadata["nbgrader"]["points"] = 100
    return nb


def surrogate_text() -> str:
    """backprop answered, but tanh's backward raises a lone surrogate, and a comment holds one:
    the notebook's JSON escapes it, as JSON allows."""
    hostile = answered("backprop")
    right = "self.grad += (1.0 - t * t) * out.grad"
    cell = next(cell for cell in hostile.cells if right in cell.source)
    cell.source = cell.source.replace(right, SURROGATE_RAISE) + "\n# \ud800\n"
    return json.dumps(hostile)


@dataclass(frozen=True)
class NbgraderClass:
    """The class after the real CLI's autograde, generate_feedback and export."""

    root: Path
    runs: dict  # command -> {"returncode", "stdout", "stderr"}

    def submitted(self, student: str, assignment: str) -> Path:
        return self.root / "submitted" / student / assignment / f"{assignment}.ipynb"

    def feedback(self, student: str, assignment: str) -> Path:
        return self.root / "feedback" / student / assignment / f"{assignment}.html"

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(f"sqlite:///{self.root / 'gradebook.db'}")

    def check(self, command: str) -> None:
        """`nbgrader COMMAND` on the whole class exited 0 (autograde: 1 if any student failed)."""
        run = self.runs[command]
        assert run["returncode"] == 0, f"nbgrader {command}:\n{run['stderr'][-3000:]}"


def handed_in() -> dict[tuple[str, str], str]:
    """(student, assignment) -> the notebook's JSON text, for everyone in the class."""
    files: dict[tuple[str, str], str] = {}
    for assignment in course.ASSIGNMENTS:
        blank = nbformat.read(authoring.path_for(assignment, RELEASED), as_version=4)
        files["correct", assignment] = nbformat.writes(answered(assignment))
        files["mistaken", assignment] = nbformat.writes(answered(assignment, mistakes=True))
        files["blank", assignment] = nbformat.writes(blank)
        for name, forgery in FORGERIES.items():
            nb = nbformat.read(authoring.path_for(assignment, RELEASED), as_version=4)
            nb.cells.insert(1, nbformat.v4.new_code_cell(forgery))
            files[name, assignment] = nbformat.writes(nb)
    files[SLY, "backprop"] = nbformat.writes(sly_notebook())
    files[SURROGATE, "backprop"] = surrogate_text()
    return files


def build(root: Path) -> NbgraderClass:
    make_course(root)
    nbgrader(root, "generate_assignment", "--force", "*")  # each enters the gradebook
    files = handed_in()
    for (student, assignment), text in files.items():
        target = root / "submitted" / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(text, encoding="utf-8")
        if student in FORGERIES:  # a graders/ package beside the notebook, first on sys.path
            fake = target.parent / "graders"
            fake.mkdir()
            (fake / "__init__.py").write_text("")
            (fake / "course.py").write_text("def grade(key, ns):\n    return 1e9\n")
    # Feedback only for STUDENTS, the ones whose pages a test reads (a page is ~1 s each).
    others = sorted({student for student, _ in files} - set(STUDENTS))
    runs = {}
    for command, args in (("autograde", ("--force", "*")),
                          ("generate_feedback", ("--force", "*", "--CourseDirectory."
                                                 f"student_id_exclude={','.join(others)}")),
                          ("export", ("--to", str(root / "grades.csv")))):
        done = nbgrader(root, command, *args, check=False)
        runs[command] = {"returncode": done.returncode, "stdout": done.stdout,
                         "stderr": done.stderr}
    (root / "runs.json").write_text(json.dumps(runs))
    return NbgraderClass(root, runs)


def shared(base: Path) -> NbgraderClass:
    """The class in `base`, built there by the first caller (of any xdist worker)."""
    root = base / "nbgrader-class"
    with open(base / "nbgrader-class.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / "runs.json").is_file():
            return NbgraderClass(root, json.loads((root / "runs.json").read_text()))
        shutil.rmtree(root, ignore_errors=True)  # a build that died halfway
        return build(root)


def base_folder(tmp_path_factory) -> Path:
    """This session's temporary folder, the one its xdist workers share if it has them."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
