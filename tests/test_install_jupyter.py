"""A student's Jupyter with the course's wheel: the release's self-check runs in a real kernel
from an install with no checkout."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import ROOT
from tests.installing import run, venv

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
def test_a_students_jupyter_with_the_course_wheel_runs_the_self_check(tmp_path, gradkit_dist):
    """What docs/course.md tells a student (or a JupyterHub image) to install: the course's
    wheel beside Jupyter's kernel. The release's self-check cell then runs in a real kernel and
    names every stub; the solution's finds every task passed."""
    (wheel,) = gradkit_dist.glob("gradkit-*.whl")
    bin_ = venv(tmp_path / "venv", wheel, "ipykernel", "nbclient")
    script = tmp_path / "run.py"
    script.write_text(KERNEL_RUN)
    shown = {}
    for kind, folder in (("release", ROOT / "assignments"), ("solution", ROOT / "solutions")):
        notebook = tmp_path / f"{kind}.ipynb"
        shutil.copy(folder / "backprop" / "backprop.ipynb", notebook)
        shown[kind] = run(bin_ / "python", script, notebook, cwd=tmp_path).stdout
    assert "the self-check needs gradkit" not in shown["release"] + shown["solution"]
    assert "not implemented" in shown["release"]
    assert "self-check: 25 / 25 points" in shown["solution"], shown["solution"][-800:]
