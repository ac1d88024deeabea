"""What a student can read never shows a hidden check's details, and the maximum is the
assignment's: the student view is the default of every output, the instructor's is asked for.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from pathlib import Path
from xml.etree import ElementTree

from graders.api import grade
from graders.model import Diagnosis, OpResult, Probe, Result, SubCheck
from graders.report import ci, gradescope, html, markdown, terminal
from graders.report import text as plain
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


# --- a hidden op is named nowhere else ----------------------------------------------------------
# With `exp` hidden (Gradescope shows its test only once grades are published), nothing a student
# reads about any other op, nor the notes above the table, may name `exp` or tell its verdict:
# not "Fix first: exp", not "correct given a correct `exp`: fix `exp`", not a root cause, not
# an annotation on `def exp`, not its cluster. Its own row keeps its name and verdict.

LEAKS = re.compile(r"\bexp\b|\(task 2\.4\)|given a correct|Fix first|CLUSTER-MESSAGE|8968ecae|"
                   r"2\.71828")


def _own_entries_removed(kind: str, text: str, keys: dict[str, str]) -> tuple[str, int]:
    """`text` of format `kind` without the rows of the hidden ops `keys` ({key: task}), and how
    many rows were removed."""
    removed = 0
    for key, task in keys.items():
        if kind == "junit":
            root = ElementTree.fromstring(text.encode())
            for suite in root:
                for case in [c for c in suite if c.get("name") == key]:
                    suite.remove(case)
                    removed += 1
            text = ElementTree.tostring(root, encoding="unicode")
            continue
        if kind in ("classroom", "gradescope"):
            data = json.loads(text)
            kept = [t for t in data["tests"] if not t["name"].startswith(f"{key}:")]
            removed += len(data["tests"]) - len(kept)
            data["tests"] = kept
            text = json.dumps(data, ensure_ascii=False)
            continue
        if kind == "html":
            text, count = re.subn(rf"<tr>(?:(?!</tr>).)*?<b>{key}</b>.*?</tr>", "", text)
            removed += count
            continue
        own = {"text": rf"{key} \(task {re.escape(task)}\):",
               "markdown": rf"\*\*{key}\*\* \(task {re.escape(task)}\):",
               "summary": rf"\| {re.escape(task)} \| `{key}` \|",
               "log": rf"│\s*{re.escape(task)}\s*│\s*{key}\s*│|^::error .*title={key}%3A"}[kind]
        lines = text.splitlines()
        kept = [line for line in lines if not re.search(own, line)]
        removed += len(lines) - len(kept)
        text = "\n".join(kept)
    return text, removed


def _leaks(kind: str, text: str, keys: dict[str, str]) -> list[str]:
    rest, removed = _own_entries_removed(kind, text, keys)
    assert removed >= len(keys), f"{kind}: the hidden ops' own rows were not found"
    return LEAKS.findall(rest)


TANH_FROM_EXP = ("    def tanh(self):\n        e = (2 * self).exp()\n"
                 "        return (e - 1) / (e + 1)\n\n")


def _exp_hidden_and_wrong(tmp_path) -> tuple[list[str], dict[str, str]]:
    """A submission whose exp is wrong and whose tanh is built from it (so tanh is right
    given a right exp), graded with exp hidden; the command and the file names it writes."""
    source = corpus.mutant("exp_input_for_output").source()
    source = source.replace(source[source.index("    def tanh(self):"):
                                   source.index("    def exp(self):")], TANH_FROM_EXP)
    submission = tmp_path / "submission.py"
    submission.write_text(source)
    config = tmp_path / "course.toml"
    config.write_text('base = "backprop"\nhidden = ["exp"]\n')
    files = {"summary": "summary.md", "output": "output", "junit": "junit.xml",
             "gradescope": "results.json", "markdown": "feedback.md", "html": "feedback.html"}
    files = {kind: str(tmp_path / name) for kind, name in files.items()}
    command = ["grade", str(submission), "--config", str(config), "--github",
               "--junit", files["junit"], "--results", files["gradescope"],
               "--feedback", files["markdown"], "--feedback", files["html"], "--seed", "1"]
    return command, files


def _shown(tmp_path, *extra: str) -> dict[str, str]:
    command, files = _exp_hidden_and_wrong(tmp_path)
    env = {**os.environ, "GITHUB_STEP_SUMMARY": files["summary"],
           "GITHUB_OUTPUT": files["output"]}
    run = gradkit(*command, *extra, env=env)
    assert run.returncode == 0, run.stderr
    shown = {kind: Path(path).read_text(encoding="utf-8") for kind, path in files.items()
             if kind != "output"}
    outputs = dict(line.split("=", 1) for line in Path(files["output"]).read_text()
                   .splitlines())
    shown["classroom"] = base64.b64decode(outputs["result"]).decode()
    shown["log"] = run.stdout
    return shown


def test_a_hidden_op_is_named_by_no_other_line_of_any_student_output(tmp_path):
    shown = _shown(tmp_path)
    for kind, written in shown.items():
        assert _leaks(kind, written, {"exp": "2.4"}) == [], f"{kind} names the hidden exp"
    results = json.loads(shown["gradescope"])
    tanh = next(test for test in results["tests"] if test["name"].startswith("tanh:"))
    assert tanh["score"] == tanh["max_score"] and tanh["visibility"] == "visible"


def test_the_instructor_view_still_says_what_to_fix_first(tmp_path):
    shown = _shown(tmp_path, "--audience", "instructor")
    for kind in ("log", "markdown", "html"):
        assert "Fix first: exp (task 2.4)" in shown[kind].replace("\\", ""), kind
    assert "correct given a correct `exp`" in shown["markdown"]
    assert "correct given a correct <code>exp</code>" in shown["html"]


def _op(key: str, task: str, passed: bool, **fields) -> OpResult:
    op = OpResult(key, task, key, 2.0, points=2.0 if passed else 0.0, **fields)
    op.hidden_ops = frozenset({"exp", "relu"})  # as the scorer sets it from the assignment
    op.subchecks = [SubCheck("gradient", 1.0, passed, "" if passed else "look at the rule")]
    if not passed:
        op.failures = [Probe("c1", "x", {"x": 1.0}, 1.0, 0.0, 2.0, 1.0, 2.0)]
        op.formula = {"x": "2*u"}
    return op


def _result_with_hidden_exp_and_relu() -> Result:
    exp = _op("exp", "2.4", False, hidden=True, cluster="exp:8968ecae",
              cluster_evidence="at x=1: x.grad = 1, right: 2.71828",
              diagnosis=Diagnosis("named", "a shared mistake", "CLUSTER-MESSAGE drop the x",
                                  inputs=["x"]))
    return Result(submission="hw.py", seed=1, isolation="bubblewrap", ops=[
        _op("add", "2.1", True),
        _op("mul", "2.2", False),
        _op("tanh", "2.3", True, root_cause="exp",
            credited="correct given a correct `exp`: fix `exp` (task 2.4) and this op works too"),
        exp,
        _op("relu", "2.6", True, hidden=True, root_cause="mul",
            credited="correct given a correct `mul`: fix `mul` (task 2.2) and this op works too"),
        _op("sub", "3.2", False, root_cause="exp"),  # scored end to end
        _op("reference_example", "4.1", False, root_cause="mul, exp"),
    ])


SOURCE = "class Value:\n    def __mul__(self, other):\n        pass\n\n    def exp(self):\n" \
         "        pass\n\n    def __sub__(self, other):\n        pass\n"


def _every_student_format(result: Result, tmp_path) -> dict[str, str]:
    path = tmp_path / "hw.py"
    path.write_text(SOURCE)
    shown = {"text": plain.text_table(result.ops), "markdown": markdown.page_markdown(result),
             "html": html.page(result), "summary": ci.step_summary(result),
             "junit": ci.junit_xml(result),
             "classroom": json.dumps(ci.classroom(result, path), ensure_ascii=False)}
    data = gradescope.gradescope(result)
    data["tests"] = [test for test in data["tests"] if test["visibility"] == "visible"]
    shown["gradescope"] = json.dumps(data, ensure_ascii=False)
    terminal_log = io.StringIO()
    terminal.render(result, file=terminal_log, verbose=True)
    ci_log = io.StringIO()
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "s"), "GITHUB_OUTPUT": str(tmp_path / "o")}
    ci.github(result, path, environ=env, stream=ci_log)
    shown["log"] = terminal_log.getvalue() + ci_log.getvalue()
    return shown


def test_no_student_format_names_a_hidden_op_in_another_ops_lines(tmp_path):
    result = _result_with_hidden_exp_and_relu()
    hidden = {"exp": "2.4", "relu": "2.6"}
    for kind, shown in _every_student_format(result, tmp_path).items():
        if kind == "gradescope":  # Gradescope leaves the hidden tests out itself
            assert _own_entries_removed(kind, shown, hidden)[1] == 0
            assert LEAKS.findall(shown) == [], kind
            continue
        assert _leaks(kind, shown, hidden) == [], f"{kind} tells the hidden ops' verdicts"
    assert "the example calls `mul`, which fails" in markdown.page_markdown(result)
    lines = ci.annotations(result, tmp_path / "hw.py")
    sub = next(line for line in lines if "title=sub%3A" in line)
    assert ",line=8," in sub  # its own `def __sub__`, not the hidden exp's `def exp` (line 5)


def test_the_instructor_sees_every_root_cause_credit_and_fix_first(tmp_path):
    result = _result_with_hidden_exp_and_relu()
    page = markdown.page_markdown(result, "instructor").replace("\\", "")  # unescaped
    for sentence in ("Fix first: exp (task 2.4)", "Fix first: mul (task 2.2)",
                     "correct given a correct `exp`", "correct given a correct `mul`",
                     "the example calls `mul`, `exp`", "CLUSTER-MESSAGE"):
        assert sentence in page, sentence
    assert "Fix first: exp" in html.page(result, "instructor")
    assert "correct given a correct `exp`" in "\n".join(plain.explain(result.ops[2], "instructor"))
