"""The Classroom workflow installs and runs the grader, not code of the student's repository.

A student's repository holds what Python would import in place of the installer or the grader
if the checkout were on its path: a `pip/` package (`python -m pip` from the checkout imports
it first), `venv/` and `ensurepip/`, `sitecustomize.py`, and `graders/` and `kit/` packages.
Each would, once imported, leave a marker file, and the installer and grader shadows would also
forge a full score (a `gradkit` command next to the interpreter, a Classroom output of 25/25).
The template's Install and Grade steps run as a GitHub-hosted runner runs them, in the checkout,
with a real venv and the wheel `gradkit classroom init` vendored: no shadow may run, and the
points must be the honest ones.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graders.api import grade
from graders.spec.optable import BACKPROP
from tests import workflow
from tests.conftest import gradkit, offline_pip_env
from tests.corpus import as_notebook, mutant

FORGED = base64.b64encode(json.dumps({
    "version": 1, "status": "pass", "max_score": 25,
    "tests": [{"name": "all", "status": "pass", "message": "", "score": 25}]}).encode()).decode()
FAKE_GRADKIT = f"""#!/bin/sh
printf 'result={FORGED}\\nscore=25\\nmax-score=25\\n' >> "$GITHUB_OUTPUT"
"""


def _mark(markers: Path, name: str) -> str:
    return (f"import pathlib\npathlib.Path({str(markers / name)!r}).write_text('imported')\n")


def _shadows(markers: Path) -> dict[str, str]:
    """File in the student's repository -> its text."""
    forge_pip = (  # "installs" a gradkit that forges the points, beside the interpreter
        "import os, sys\n"
        f"path = os.path.join(os.path.dirname(sys.executable), 'gradkit')\n"
        f"open(path, 'w').write({FAKE_GRADKIT!r})\n"
        "os.chmod(path, 0o755)\n")
    forge_grader = (
        "import os\n"
        "with open(os.environ['GITHUB_OUTPUT'], 'a') as out:\n"
        f"    out.write('result={FORGED}\\nscore=25\\nmax-score=25\\n')\n")
    files = {"sitecustomize.py": _mark(markers, "sitecustomize"),
             "usercustomize.py": _mark(markers, "usercustomize")}
    for package in ("pip", "venv", "ensurepip", "graders", "kit"):
        files[f"{package}/__init__.py"] = _mark(markers, package)
        files[f"{package}/__main__.py"] = _mark(markers, f"{package}.__main__") + (
            forge_pip if package == "pip" else forge_grader if package == "graders" else "")
    files["graders/cli.py"] = _mark(markers, "graders.cli") + forge_grader
    return files


@pytest.fixture(scope="session")
def classroom_template(tmp_path_factory) -> Path:
    """A template repository as `gradkit classroom init` writes it (the wheel built once)."""
    repo = tmp_path_factory.mktemp("template")
    done = gradkit("classroom", "init", str(repo), "--config", "backprop",
                   "--notebook", "backprop.ipynb", timeout=600)
    assert done.returncode == 0, done.stderr
    return repo


@pytest.mark.slow
def test_no_file_of_the_students_repository_stands_in_for_the_installer_or_the_grader(
        tmp_path, classroom_template):
    markers, repo, temp = tmp_path / "markers", tmp_path / "repo", tmp_path / "runner-temp"
    markers.mkdir()
    shutil.copytree(classroom_template, repo)
    template = workflow.load(repo / ".github" / "workflows" / "classroom.yml")
    notebook = repo / template["env"]["NOTEBOOK"]
    notebook.write_text(as_notebook(mutant("mul_swapped").source()))
    for name, text in _shadows(markers).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    before = sorted(str(p.relative_to(repo)) for p in repo.rglob("*"))
    # The runner's `python` (setup-python's): an interpreter whose folder is writable, so a
    # shadow that runs can put a `gradkit` command on the PATH.
    hosted = tmp_path / "hosted"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(hosted)],
                   check=True, cwd=tmp_path)
    # pip installs the wheel's dependencies from the session's wheelhouse (tests/conftest.py):
    # where packages come from is no part of what this test checks.
    env = workflow.runner_env(repo, temp, template,
                              PATH=f"{hosted / 'bin'}:/usr/local/bin:/usr/bin:/bin",
                              **offline_pip_env({}))

    install = workflow.run_step("Install gradkit", template, repo, env, timeout=900)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    graded = workflow.run_step("Grade", template, repo, env, timeout=300)

    assert sorted(p.name for p in markers.iterdir()) == [], "the student's files were imported"
    assert not (hosted / "bin" / "gradkit").exists()
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]
    honest = grade(notebook, assignment=BACKPROP)
    assert 0 < honest.score < honest.max_score == 25
    outputs = workflow.outputs(env)
    runner = json.loads(base64.b64decode(outputs["result"]))
    assert outputs["score"] == f"{honest.score:g}"
    assert sum(test["score"] for test in runner["tests"]) == honest.score
    assert {test["name"].split(":")[0]: test["score"] for test in runner["tests"]} == \
        {op.key: op.points for op in honest.ops}
    results = temp / "gradkit" / "out" / "gradkit-results.json"
    assert json.loads(results.read_text())["score"] == honest.score
    assert sorted(str(p.relative_to(repo)) for p in repo.rglob("*")) == before
    venv = temp / "gradkit" / "venv"
    where = subprocess.run([venv / "bin" / "python", "-I", "-c",
                            "import graders, pip; print(graders.__file__, pip.__file__)"],
                           cwd=temp, capture_output=True, text=True, check=True)
    assert all(Path(found).is_relative_to(venv) for found in where.stdout.split())


def test_a_checkouts_egg_info_is_built_from_its_source_not_repacked(tmp_path):
    """`python -m graders classroom init` run in a checkout finds setuptools' gradkit.egg-info
    first: it has no METADATA, so a repacked wheel would not install."""
    from importlib import metadata

    from graders.commands.distribution import _egg_info_source

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'gradkit'\n")
    info = tmp_path / "gradkit.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: gradkit\nVersion: 0.1.0\n")
    assert _egg_info_source(metadata.PathDistribution(info)) == tmp_path
