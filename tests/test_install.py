"""gradkit as students, CI runners and Gradescope get it: a built wheel, no checkout anywhere.

The wheel and the sdist are built with `python -m build`, installed into fresh venvs outside the
repository, and used only through their own `gradkit` command: grading a notebook, and building
and trying a Gradescope autograder for every assignment with a correct and a buggy submission.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, offline_pip_env
from tests.corpus import as_notebook, mutant


def _run(*command: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    # pip (here, and in the setup.sh of each autograder tried) installs from the session's
    # wheelhouse: the same packages the registry gives, downloaded once (tests/conftest.py).
    env = {key: value for key, value in offline_pip_env().items() if key != "PYTHONPATH"}
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


@pytest.fixture
def dist(gradkit_dist) -> Path:
    """The wheel and sdist `python -m build` made of this checkout, once per session."""
    return gradkit_dist


def _venv(folder: Path, package: Path, *more: str) -> Path:
    _run(sys.executable, "-m", "venv", folder, cwd=folder.parent)
    _run(folder / "bin" / "pip", "install", "-q", "--disable-pip-version-check", package, *more,
         cwd=folder.parent)
    return folder / "bin"


def _grades_the_example(bin_: Path, work: Path) -> None:
    """The installed `gradkit grade` on the bundled example, from a folder with no checkout."""
    shutil.copy(ROOT / "examples" / "submissions" / "bob.ipynb", work)
    graded = _run(bin_ / "gradkit", "grade", "bob.ipynb", cwd=work)
    assert re.search(r"score \d+ / 25", graded.stdout), graded.stdout


@pytest.mark.slow
def test_the_wheel_grades_and_builds_gradescope_autograders_with_no_checkout(tmp_path, dist):
    (wheel,) = dist.glob("gradkit-*.whl")
    bin_ = _venv(tmp_path / "venv", wheel)
    work = tmp_path / "work"
    work.mkdir()
    where = _run(bin_ / "python", "-c", "import graders; print(graders.__file__)", cwd=work)
    assert where.stdout.startswith(str(tmp_path / "venv"))
    packages = _run(bin_ / "pip", "list", "--format=freeze", cwd=work).stdout
    assert "nbgrader" not in packages and "jupyter" not in packages  # the core stays small
    _grades_the_example(bin_, work)
    # Every assignment's autograder is built from this install alone; one is set up and run as
    # Gradescope would (the wheel it carries is the same for all three, repacked from this
    # venv; tests/test_gradescope.py grades each assignment's zip).
    for assignment in ("derivatives", "backprop", "mlp"):
        _run(bin_ / "gradkit", "gradescope", "build", assignment, "--out", f"{assignment}.zip",
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
        tried = _run(bin_ / "gradkit", "gradescope", "test", "backprop.zip", submission,
                     "--venv", tmp_path / "gradescope-venv", cwd=work)
        found = re.search(r"valid Gradescope format; score ([\d.]+) / ([\d.]+)", tried.stdout)
        assert found, tried.stdout
        scores.append((float(found[1]), float(found[2])))
    (full, most), (partial, _) = scores
    assert full == most > partial, scores


@pytest.mark.slow
def test_the_sdist_installs_and_grades(tmp_path, dist):
    (sdist,) = dist.glob("gradkit-*.tar.gz")
    work = tmp_path / "work"
    work.mkdir()
    _grades_the_example(_venv(tmp_path / "venv", sdist), work)


KERNEL_RUN = """
import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, kernel_name="python3", timeout=300, allow_errors=True).execute()
for cell in notebook.cells:
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        print(data.get("text/plain", "") if data else output.get("text", ""))
"""


@pytest.mark.slow
def test_a_students_jupyter_with_the_course_wheel_runs_the_self_check(tmp_path, dist):
    """What docs/course.md tells a student (or a JupyterHub image) to install: the course's
    wheel beside Jupyter's kernel. The release's self-check cell then runs in a real kernel and
    names every stub; the solution's finds every task passed."""
    (wheel,) = dist.glob("gradkit-*.whl")
    bin_ = _venv(tmp_path / "venv", wheel, "ipykernel", "nbclient")
    script = tmp_path / "run.py"
    script.write_text(KERNEL_RUN)
    shown = {}
    for kind, folder in (("release", ROOT / "assignments"), ("solution", ROOT / "solutions")):
        notebook = tmp_path / f"{kind}.ipynb"
        shutil.copy(folder / "backprop" / "backprop.ipynb", notebook)
        shown[kind] = _run(bin_ / "python", script, notebook, cwd=tmp_path).stdout
    assert "the self-check needs gradkit" not in shown["release"] + shown["solution"]
    assert "not implemented" in shown["release"]
    assert "self-check: 25 / 25 points" in shown["solution"], shown["solution"][-800:]
