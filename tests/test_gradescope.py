"""`gradkit gradescope build`, then its setup.sh and run_autograder in an emulated /autograder
layout: the zip's own wheel installed into a venv, as Gradescope installs it."""

from __future__ import annotations

import io
import json
import shutil
import stat
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest

from graders.report.gradescope import validate
from tests.conftest import gradkit, gradkit_replayed, offline_pip_env
from tests.corpus import BASE, as_notebook, mutant


def _gradkit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return gradkit(*args, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("build")
    done = _gradkit("gradescope", "build", "backprop", "--out", "autograder.zip",
                    "--hidden", "reference_example", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "autograder.zip"


def _layout(tmp_path: Path, archive: Path, files: dict[str, str]) -> Path:
    """What Gradescope's container holds: source/ (the unzipped autograder), submission/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(root / "source")
    (root / "submission").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    return root


@pytest.fixture(scope="module")
def grader_venv(tmp_path_factory, autograder_zip) -> Path:
    """The venv the zip's setup.sh makes (without apt-get): its wheel, the core's packages."""
    venv = tmp_path_factory.mktemp("venv") / "gradkit"
    root = _layout(tmp_path_factory.mktemp("setup"), autograder_zip, {})
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=_env(root, venv),
                          cwd=root / "source", capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def _env(root: Path, venv: Path) -> dict[str, str]:
    # setup.sh's pip installs from the session's wheelhouse, the registry's packages
    # downloaded once (tests/conftest.py), not from the registry on every run.
    return {**offline_pip_env(), "GRADKIT_AUTOGRADER_ROOT": str(root),  # the zip's grader
            "GRADKIT_VENV": str(venv), "GRADKIT_NO_APT": "1"}


def _run_autograder(root: Path, venv: Path) -> dict:
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")],
                          env=_env(root, venv), cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert validate(results) == []
    return results


def test_the_zip_has_gradescopes_entry_points(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zipped:
        names = set(zipped.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in zipped.infolist()}
    assert {"setup.sh", "run_autograder", "gradkit.json"} <= names
    wheels = [name for name in names if name.endswith(".whl")]
    assert wheels == ["gradkit-0.1.0-py3-none-any.whl"]
    with zipfile.ZipFile(autograder_zip) as zipped, \
            zipfile.ZipFile(io.BytesIO(zipped.read(wheels[0]))) as wheel:
        inside = set(wheel.namelist())
    assert "graders/api.py" in inside and "graders/run/harness.py" in inside
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    for script in ("setup.sh", "run_autograder"):
        with zipfile.ZipFile(autograder_zip) as zipped:
            text = zipped.read(script).decode()
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0


def test_run_autograder_grades_with_hidden_ops_and_repeats_its_score(
        tmp_path, autograder_zip, grader_venv):
    buggy = as_notebook(mutant("relu_inverted_mask").source())
    root = _layout(tmp_path, autograder_zip, {"backprop.ipynb": buggy})
    results = _run_autograder(root, grader_venv)
    tests = {test["name"].split(":")[0]: test for test in results["tests"]}
    assert tests["relu"]["status"] == "failed" and tests["tanh"]["status"] == "passed"
    assert 0 < results["score"] < results["extra_data"]["max_score"]
    assert tests["reference_example"]["visibility"] == "after_published"
    assert {t["visibility"] for n, t in tests.items() if n != "reference_example"} == {
        "visible"}
    again = _run_autograder(root, grader_venv)  # a regrade of the same file
    assert again["score"] == results["score"]
    assert again["extra_data"]["seed"] == results["extra_data"]["seed"]


def test_a_missing_or_broken_submission_still_gets_results(tmp_path, autograder_zip, grader_venv):
    root = _layout(tmp_path, autograder_zip, {"notes.txt": "oops"})
    results = _run_autograder(root, grader_venv)
    assert results["score"] == 0 and "no notebook" in results["output"]
    shutil.rmtree(root)
    root = _layout(tmp_path, autograder_zip, {"backprop.ipynb": '{"cells": ['})
    results = _run_autograder(root, grader_venv)
    assert results["score"] == 0 and "not a notebook" in results["output"]


def test_build_refuses_unknown_names_in_one_line(tmp_path):
    done = _gradkit("gradescope", "build", "nope", cwd=tmp_path)
    assert done.returncode == 2 and "known: derivatives, backprop, mlp" in done.stderr
    done = _gradkit("gradescope", "build", "backprop", "--hidden", "tanhh", cwd=tmp_path)
    assert done.returncode == 2 and "tanhh" in done.stderr
    assert not (tmp_path / "autograder.zip").exists()


def test_build_takes_the_same_course_config_as_grade(tmp_path, grader_venv):
    """One registry: a course.toml that `gradkit grade --config` takes builds an autograder
    that grades its ops with its points and hides its hidden checks."""
    (tmp_path / "course.toml").write_text(
        'name = "week4"\nops = ["add", "mul", "relu", "backward"]\nhidden = ["backward"]\n'
        "[points]\nmul = 5\n")
    done = _gradkit("gradescope", "build", "course.toml", "--out", "a.zip", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    root = _layout(tmp_path, tmp_path / "a.zip",
                   {"backprop.ipynb": as_notebook(mutant("relu_inverted_mask").source())})
    results = _run_autograder(root, grader_venv)
    tests = {test["name"].split(":")[0]: test for test in results["tests"]}
    assert list(tests) == ["add", "mul", "relu", "backward"]
    assert tests["mul"]["max_score"] == 5 and tests["relu"]["status"] == "failed"
    assert tests["backward"]["visibility"] == "after_published"
    assert tests["mul"]["visibility"] == "visible"


@pytest.mark.parametrize("assignment", ["derivatives", "mlp"])
def test_every_course_assignment_builds_and_grades_in_gradescope(tmp_path, assignment,
                                                                grader_venv):
    from graders import course
    from graders.course import authoring

    done = _gradkit("gradescope", "build", assignment, "--out", "a.zip", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    solution = authoring.path_for(assignment).read_text()
    root = _layout(tmp_path, tmp_path / "a.zip", {f"{assignment}.ipynb": solution})
    results = _run_autograder(root, grader_venv)
    assert [test["name"].split(":")[0] for test in results["tests"]] == [
        item.key for item in course.tasks(assignment)]
    assert results["score"] == results["extra_data"]["max_score"] > 0


def test_a_config_with_a_named_formula_cluster_grades_in_gradescope(tmp_path, grader_venv):
    (tmp_path / "course.toml").write_text(
        'name = "week4"\nops = ["add", "mul", "backward"]\n'
        '[cluster."mul:0123abcd"]\nmessage = "Drop the +1."\nx = "g + u*(y + 1)"\n')
    done = _gradkit("gradescope", "build", "course.toml", "--out", "a.zip", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plus_one = BASE.read_text().replace("self.grad += other.data * out.grad",
                                        "self.grad += (other.data + 1) * out.grad", 1)
    assert plus_one != BASE.read_text()
    root = _layout(tmp_path, tmp_path / "a.zip", {"backprop.ipynb": as_notebook(plus_one)})
    results = _run_autograder(root, grader_venv)
    tests = {test["name"].split(":")[0]: test for test in results["tests"]}
    assert list(tests) == ["add", "mul", "backward"]
    assert tests["add"]["status"] == "passed" and tests["mul"]["status"] == "failed"
    assert "Drop the +1." in tests["mul"]["output"]  # the formula matched at the own points


def test_an_autograder_that_cannot_read_its_config_says_so_in_results(tmp_path,
                                                                      autograder_zip,
                                                                      grader_venv):
    root = _layout(tmp_path, autograder_zip, {"backprop.ipynb": as_notebook(BASE.read_text())})
    config = root / "source" / "gradkit.json"
    data = json.loads(config.read_text())
    data["assignment"]["colour"] = "red"
    config.write_text(json.dumps(data))
    results = _run_autograder(root, grader_venv)
    assert results["score"] == 0 and "Please tell your instructor" in results["output"]
    assert "unknown setting 'colour'" in results["extra_data"]["autograder_error"]


def test_gradescope_test_keeps_results_json_and_prints_each_tests_text(tmp_path, monkeypatch):
    """What the student would read, per test, is printed and the file is kept (the emulated
    layout is a temporary folder): here with the zip's two scripts stood in for, cheaply."""
    from graders.commands import gradescope

    archive = tmp_path / "autograder.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("setup.sh", "run_autograder", "gradkit.json",
                     "gradkit-0.1.0-py3-none-any.whl"):
            zipped.writestr(name, "")
    results = {"score": 2, "output": "Graded as backprop.", "tests": [
        {"name": "add: x + y", "number": "2.1", "score": 2, "max_score": 2,
         "status": "passed", "output": "add: every check passed"},
        {"name": "mul: x * y", "number": "2.2", "score": 0, "max_score": 2,
         "status": "failed", "output": "mul: your gradient is x·out.grad\nexpected y·out.grad"}]}
    assert validate(results) == []

    def step(name, root, cwd, env):
        if name == "run_autograder":
            (root / "results" / "results.json").write_text(json.dumps(results))
        return subprocess.CompletedProcess([name], 0, "", "")

    monkeypatch.setattr(gradescope, "_step", step)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "backprop.ipynb").write_text("{}")
    done = gradkit_replayed("gradescope", "test", str(archive), "backprop.ipynb")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / "results.json").read_text()) == results
    lines = done.stdout.splitlines()
    mul = next(i for i, line in enumerate(lines) if "mul: x * y" in line)
    assert lines[mul + 1:mul + 3] == ["        mul: your gradient is x·out.grad",
                                      "        expected y·out.grad"]
    assert "  Graded as backprop." in lines and "        add: every check passed" in lines
    kept = gradkit_replayed("gradescope", "test", str(archive), "backprop.ipynb",
                            "--results", str(tmp_path / "mine.json"))
    assert kept.returncode == 0 and (tmp_path / "mine.json").is_file()


def test_a_checkouts_wheel_is_built_once_until_a_file_that_goes_into_it_changes(
        tmp_path, monkeypatch):
    """`gradescope build` from a checkout keeps the wheel pip built, keyed by what went into
    it: the next build reuses it, a changed source file or pyproject builds again, and bytecode
    or an unwritable cache changes nothing but the time."""
    from graders.commands import distribution

    source = tmp_path / "checkout"
    for name, text in {"pyproject.toml": "[project]\nname = 'gradkit'\n", "README.md": "hi",
                       "graders/__init__.py": "", "kit/engine.py": "x = 1\n"}.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    built = []

    def pip_wheel(command, **kwargs):  # pip's `wheel -w FOLDER SOURCE`, writing a numbered wheel
        built.append(command)
        folder = Path(command[command.index("-w") + 1])
        (folder / "gradkit-0.1.0-py3-none-any.whl").write_text(f"build {len(built)}")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(distribution.subprocess, "run", pip_wheel)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def wheel() -> str:
        out = Path(tempfile.mkdtemp(dir=tmp_path))
        return distribution._build_from_source(source, out).read_text()

    assert wheel() == wheel() == "build 1" and len(built) == 1
    (source / "graders" / "__pycache__").mkdir()
    (source / "graders" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert wheel() == "build 1"
    (source / "kit" / "engine.py").write_text("x = 2\n")
    assert wheel() == wheel() == "build 2"
    (source / "pyproject.toml").write_text("[project]\nname = 'gradkit'\nversion = '0.2'\n")
    assert wheel() == "build 3"
    monkeypatch.setenv("XDG_CACHE_HOME", str(source / "README.md"))  # a file: nothing kept
    assert wheel() == "build 4" and wheel() == "build 5"
