"""gradkit as CI runners and Gradescope get it: the built wheel in a fresh venv, no checkout
anywhere, used only through its own `gradkit` command: grading a notebook, and building and
trying a Gradescope autograder for every assignment with a correct and a buggy submission
(the sdist: tests/test_install_sdist.py; a student's Jupyter: tests/test_install_jupyter.py).
"""

from __future__ import annotations

import re
import shutil
import zipfile

import pytest

from tests.conftest import ROOT
from tests.corpus import as_notebook, mutant
from tests.installing import grades_the_example, run, venv


@pytest.mark.slow
def test_the_wheel_grades_and_builds_gradescope_autograders_with_no_checkout(tmp_path,
                                                                             gradkit_dist):
    (wheel,) = gradkit_dist.glob("gradkit-*.whl")
    bin_ = venv(tmp_path / "venv", wheel, with_pip=True)  # its `gradescope test` needs one
    work = tmp_path / "work"
    work.mkdir()
    where = run(bin_ / "python", "-c", "import graders; print(graders.__file__)", cwd=work)
    assert where.stdout.startswith(str(tmp_path / "venv"))
    packages = run(bin_ / "pip", "list", "--format=freeze", cwd=work).stdout
    assert "nbgrader" not in packages and "jupyter" not in packages  # the core stays small
    grades_the_example(bin_, work)
    # Every assignment's autograder is built from this install alone; one is set up and run as
    # Gradescope would (the wheel it carries is the same for all three, repacked from this
    # venv; tests/test_gradescope.py grades each assignment's zip).
    for assignment in ("derivatives", "backprop", "mlp"):
        run(bin_ / "gradkit", "gradescope", "build", assignment, "--out", f"{assignment}.zip",
             cwd=work)
        with zipfile.ZipFile(work / f"{assignment}.zip") as built:
            assert any(name.startswith("gradkit-") and name.endswith(".whl")
                       for name in built.namelist()), assignment
    correct = work / "backprop-correct.ipynb"
    shutil.copy(ROOT / "solutions" / "backprop" / "backprop.ipynb", correct)
    buggy = work / "backprop-buggy.ipynb"
    buggy.write_text(as_notebook(mutant("relu_inverted_mask").source()))
    scores = []
    for submission in (correct, buggy):
        # setup.sh into this install's own venv: it has the zip's wheel and packages already
        # (a fresh venv by setup.sh, as Gradescope makes it: tests/test_gradescope.py)
        tried = run(bin_ / "gradkit", "gradescope", "test", "backprop.zip", submission,
                     "--venv", tmp_path / "venv", cwd=work)
        found = re.search(r"valid Gradescope format; score ([\d.]+) / ([\d.]+)", tried.stdout)
        assert found, tried.stdout
        scores.append((float(found[1]), float(found[2])))
    (full, most), (partial, _) = scores
    assert full == most > partial, scores
