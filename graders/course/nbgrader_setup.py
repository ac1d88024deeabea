"""gradkit's nbgrader settings, for this repository's course and every `gradkit course new` one.

`configure(c)` is what an nbgrader_config.py calls: autograde runs no student kernel (the
sandboxed grader gives each grade cell its points), feedback hides the hidden tests and names
each task, and a regenerated release replaces the last. Each setting answers something
measured of nbgrader 0.9.6; tests/test_course.py checks that each still holds.
"""

from __future__ import annotations

import os
import sys
import warnings
from importlib import metadata

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, GetGrades, OverwriteCells
from sqlalchemy.exc import SAWarning

from graders.course.nbgrader_autograde import (
    FEEDBACK_TEMPLATE,
    FEEDBACK_TEMPLATE_FILE,
    FeedbackClearHiddenTests,
    ReleasedCellsOverwrite,
    SandboxedExecute,
    ValidText,
    feedback_template_dirs,
)


def tool_dirs() -> list[str]:
    """The folders of the commands nbgrader starts by name, for the interpreter running it:
    its own (a venv's bin) and the one holding the `alembic` script of the alembic it imports
    (another, for a venv made with --system-site-packages or a --user install)."""
    found = [os.path.dirname(os.path.abspath(sys.executable))]
    try:
        dist = metadata.distribution("alembic")
    except metadata.PackageNotFoundError:
        return found
    for file in dist.files or ():
        if file.name in ("alembic", "alembic.exe") and file.parent.name in ("bin", "Scripts"):
            found.append(os.path.dirname(os.path.abspath(dist.locate_file(file))))
    return list(dict.fromkeys(found))


def put_tools_on_path(environ=os.environ) -> None:
    """Put `tool_dirs()` at the front of PATH. nbgrader's gradebook runs `alembic` by name
    (nbgrader.api.get_alembic_version) whenever it creates a database: without this, an
    instructor who runs `/path/to/venv/bin/nbgrader ...` (or gradkit) without activating the
    venv gets "No such file or directory: 'alembic'", or another install's alembic."""
    dirs = tool_dirs()
    rest = [d for d in environ.get("PATH", "").split(os.pathsep) if d and d not in dirs]
    environ["PATH"] = os.pathsep.join(dirs + rest)


def configure(c) -> None:
    """Apply gradkit's nbgrader settings to the config `c` (nbgrader_config.py's `c`)."""
    # nbgrader starts `alembic` by name: the one beside this interpreter, found without an
    # activated venv.
    put_tools_on_path()

    # nbgrader 0.9's gradebook makes SQLAlchemy warn on every new submission (its own session
    # use, not the course's): exactly those are silenced, so a real warning stands out.
    warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session",
                            category=SAWarning)

    # Each stub names its task in its own `raise NotImplementedError(...)`, which follows the
    # solution region (graders/course/authoring.py), so the region becomes a comment only.
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}

    # A student who deletes or empties a grade cell gets it back from the database at autograde;
    # without this, nbgrader 0.9 only restores cells that are still present.
    c.OverwriteCells.add_missing_cells = True

    # Feedback is built from the autograded notebook, which holds the hidden tests again: clear
    # them before rendering (nbgrader's default feedback pipeline shows them).
    c.GenerateFeedback.preprocessors = [GetGrades, FeedbackClearHiddenTests,
                                        CSSHTMLHeaderPreprocessor]
    # nbgrader's feedback page, with each task named in its contents list instead of "Test cell".
    c.HTMLExporter.template_name = FEEDBACK_TEMPLATE
    c.HTMLExporter.template_file = FEEDBACK_TEMPLATE_FILE
    c.HTMLExporter.extra_template_basedirs = feedback_template_dirs()

    # Autograde runs no student kernel: gradkit's sandbox runs the submitted code and each grade
    # cell gets its task's verdict and points from the sandboxed grader (docs/security.md), in the
    # place of nbgrader's Execute; the rest is nbgrader's own pipeline, in its own order.
    # OverwriteCells becomes ReleasedCellsOverwrite: the same, without its false checksum warnings
    # on untouched grade cells (jupyter/nbgrader#1961; graders/course/nbgrader_autograde.py).
    # ValidText comes first: a notebook whose JSON escapes a lone surrogate (`"\ud800"`) has
    # its text made valid UTF-8 before anything writes it (nbgrader would fail that student).
    replaced = {Execute: SandboxedExecute, OverwriteCells: ReleasedCellsOverwrite}
    for pipeline in ("sanitize_preprocessors", "autograde_preprocessors"):
        c.Autograde[pipeline] = [replaced.get(step, step)
                                 for step in Autograde.class_traits()[pipeline].default()]
    c.Autograde.sanitize_preprocessors = [ValidText, *c.Autograde.sanitize_preprocessors]

    # The release is committed (assignments/ is generated and checked by the tests), so
    # `nbgrader generate_assignment NAME` must regenerate it, which also enters the assignment and
    # its grade cells into the gradebook; without this it says "Skipping existing assignment" and
    # autograde then finds no assignment in the database.
    c.GenerateAssignment.force = True

    # Per cell, not per notebook (nbgrader's Execute, used by `nbgrader validate`). The longest cell
    # is the backprop grading (every op at once) or the MLP training, a few seconds; a hung student
    # cell costs this much and no more.
    c.Execute.timeout = 120
