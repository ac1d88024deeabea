"""What a student can read never shows a hidden check's details, and the maximum is the
assignment's: the student view is the default of every output, the instructor's is asked for.
"""

from __future__ import annotations

import base64
import json
import os
import re
from xml.etree import ElementTree

from graders.api import grade
from graders.spec.assignments import from_file
from tests import corpus
from tests.conftest import gradkit

HIDDEN_CONFIG = 'base = "backprop"\nhidden = ["mul"]\n'
OPTIONAL_CONFIG = 'base = "backprop"\n[points]\nlog = 2\n'


def _run(tmp_path, *extra: str):
    config = tmp_path / "course.toml"
    config.write_text(HIDDEN_CONFIG)
    submission = tmp_path / "submission.py"
    submission.write_text(corpus.mutant("mul_swapped").source())
    env_files = {"GITHUB_STEP_SUMMARY": tmp_path / "summary.md",
                 "GITHUB_OUTPUT": tmp_path / "output"}
    env = {**os.environ, **{k: str(v) for k, v in env_files.items()}}
    run = gradkit("grade", str(submission), "--config", str(config), "--github",
                  "--junit", str(tmp_path / "junit.xml"), *extra, env=env)
    outputs = dict(line.split("=", 1) for line in env_files["GITHUB_OUTPUT"].read_text()
                   .splitlines())
    classroom = json.loads(base64.b64decode(outputs["result"]))
    return run, {
        "log": run.stdout, "summary": env_files["GITHUB_STEP_SUMMARY"].read_text(),
        "junit": (tmp_path / "junit.xml").read_text(),
        "classroom": json.dumps(classroom, ensure_ascii=False),
    }


def _mul_details(text: str) -> list[str]:
    """What only the details of the (swapped-operand) mul failure carry: its formula and the
    catalogued mistake's words."""
    return re.findall(r"∂out/∂x = y\b|[Ss]wapped", text)


def test_ci_outputs_hide_a_hidden_ops_details_by_default(tmp_path):
    run, shown = _run(tmp_path)
    assert run.returncode == 0, run.stderr
    for where, text in shown.items():
        assert _mul_details(text) == [], f"{where} shows the hidden op's details"
    assert "hidden check failed" in shown["junit"]
    ElementTree.fromstring(shown["junit"])


def test_the_instructor_view_is_asked_for_by_name(tmp_path):
    _, shown = _run(tmp_path, "--audience", "instructor")
    assert _mul_details(shown["junit"]) and _mul_details(shown["summary"])


def test_an_optional_op_with_points_counts_in_every_maximum(tmp_path):
    config = tmp_path / "course.toml"
    config.write_text(OPTIONAL_CONFIG)
    assignment = from_file(config)
    without = tmp_path / "no_log.py"
    without.write_text(corpus.BASE.read_text())
    result = grade(without, assignment=assignment, seed=1)
    log = next(op for op in result.ops if op.key == "log")
    assert log.points == 0 and log.max_points == 2 and "no method `log`" in log.error
    assert result.max_score == 27
    broken = tmp_path / "broken.py"
    broken.write_text("this is not python")
    assert grade(broken, assignment=assignment, seed=1).max_score == 27
