"""Instructors' assignment configs: points, subsets and hidden checks without editing code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.api import grade
from graders.spec import optable
from graders.spec.assignments import ConfigError, from_data, resolve, to_data
from tests import corpus


def test_config_changes_points_ops_and_hidden(tmp_path):
    config = tmp_path / "course.toml"
    config.write_text('ops = ["add", "mul", "log", "backward"]\nhidden = ["backward"]\n'
                      "probes_per_op = 6\n[points]\nmul = 3\nlog = 1\n")
    assignment = resolve(str(config))
    result = grade(corpus.SUBMISSIONS / "correct" / "direct_ops.py", assignment=assignment)
    points = {op.key: op.max_points for op in result.ops}
    assert points == {"add": 2, "mul": 3, "log": 1, "backward": 4}
    assert result.score == result.max_score == 10
    assert [op.hidden for op in result.ops] == [False, False, False, True]


@pytest.mark.parametrize("text, words", [
    ('[points]\nmull = 3\n', "unknown op 'mull'"),
    ('colour = "red"\n', "unknown setting 'colour'"),
    ('probes_per_op = 1\n', "probes_per_op"),
    ('[points]\nmul = -1\n', "points.mul"),
    ('ops = [', "not valid TOML"),
])
def test_bad_configs_are_refused_in_one_line(tmp_path, text, words):
    config = tmp_path / "course.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=r"course\.toml") as caught:
        resolve(str(config))
    assert words in str(caught.value) and "\n" not in str(caught.value)
    run = subprocess.run([sys.executable, "-m", "graders", "grade", str(corpus.BASE),
                          "--config", str(config)], capture_output=True, text=True)
    assert run.returncode == 2 and words in run.stderr and "Traceback" not in run.stderr


def test_json_config_and_builtin_names(tmp_path):
    config = tmp_path / "course.json"
    config.write_text(json.dumps({"ops": ["add"], "points": {"add": 5}}))
    assert resolve(str(config)).points_for("add") == 5
    assert resolve("backprop") is optable.BACKPROP
    with pytest.raises(ConfigError):
        resolve("nonsense")


def test_op_timeout_option_is_honoured(tmp_path):
    source = corpus.BASE.read_text().replace(
        "self.grad += out.data * out.grad", "while True:\n                pass")
    path = tmp_path / "hang.py"
    path.write_text(source)
    results = tmp_path / "r.json"
    run = subprocess.run([sys.executable, "-m", "graders", "grade", str(path), "--op-timeout",
                          "1", "--results", str(results)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    exp = next(t for t in json.loads(results.read_text())["tests"]
               if t["name"].startswith("exp"))
    assert exp["score"] == 0 and "after 1 s without an answer" in exp["output"]


# --- a config survives being stored (the gradebook, an autograder zip) ----------------------

_BINARY_OPS = [key for key in optable.BACKPROP.ops
               if optable.BACKPROP.op(key).kind == "op"
               and set(optable.BACKPROP.op(key).inputs) >= {"x", "y"}]


@st.composite
def _named_clusters(draw) -> dict:
    tables = {}
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(_BINARY_OPS))
        cluster_id = f"{op}:{draw(st.integers(0, 16**8 - 1)):08x}"
        table = {"message": draw(st.text("abc +-*/1.", min_size=1, max_size=20)).strip()
                 or "m"}
        if draw(st.booleans()):
            table["title"] = "adds one"
        for symbol in draw(st.sets(st.sampled_from(["x", "y"]))):
            table[symbol] = draw(st.sampled_from(["g + u*(y + 1)", "g + u*x", "g"]))
        tables[cluster_id] = table
    return tables


@settings(max_examples=40, deadline=None)
@given(clusters=_named_clusters())
def test_named_clusters_come_back_the_same_from_a_stored_config(clusters):
    assignment = from_data({"base": "backprop", "cluster": clusters}, "course.toml")
    stored = json.loads(json.dumps(to_data(assignment)))  # as the gradebook keeps it
    again = from_data(stored, "the gradebook's config")
    assert {c.id for c in again.clusters} == set(clusters)
    assert to_data(again) == to_data(assignment)
    assert {c.id: dict(c.grads) for c in again.clusters} == {
        cluster_id: {s: t for s, t in table.items() if s in ("x", "y")}
        for cluster_id, table in clusters.items()}


def test_python_3_10_reads_toml_configs_with_tomli(tmp_path, monkeypatch):
    """3.10 has no tomllib: the same config is read with tomli (a core dependency there),
    and a broken one is still a ConfigError naming the file."""
    import types

    from graders.spec import assignments

    tomllib = pytest.importorskip("tomllib")  # on 3.10 the real tomli is what other tests use

    read = []
    tomli = types.ModuleType("tomli")
    tomli.loads = lambda text: read.append(text) or tomllib.loads(text)
    monkeypatch.setitem(sys.modules, "tomli", tomli)
    monkeypatch.setattr(assignments, "sys", types.SimpleNamespace(version_info=(3, 10, 14)))
    config = tmp_path / "course.toml"
    config.write_text('ops = ["add", "mul"]\n[points]\nmul = 3\n')
    assignment = resolve(str(config))
    assert read and list(assignment.ops) == ["add", "mul"]
    assert assignment.points["mul"] == 3
    config.write_text("ops = [\n")
    with pytest.raises(ConfigError, match=r"course\.toml: not valid TOML"):
        resolve(str(config))
