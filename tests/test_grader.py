"""The grader end to end: correct styles get full marks, each mutant loses only where it should."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graders.api import grade
from graders.judge import oracle
from graders.report.gradescope import gradescope
from graders.spec import optable
from tests import corpus


def lost(result) -> set[str]:
    return {op.key for op in result.ops if op.points < op.max_points}


@pytest.mark.parametrize("path", corpus.CORRECT, ids=lambda p: p.stem)
def test_correct_styles_get_full_marks(path):
    result = grade(path)
    assert result.problem is None, result.problem
    assert lost(result) == set(), [line for op in result.ops for line in op.failures[:1]]
    assert result.score == result.max_score > 0


@pytest.mark.parametrize("mutant", corpus.MUTANTS, ids=lambda m: m.name)
def test_mutant_loses_points_only_where_it_is_used(mutant, tmp_path):
    path = tmp_path / f"{mutant.name}.py"
    path.write_text(mutant.source())
    result = grade(path)
    assert result.problem is None
    losses = lost(result)
    assert mutant.breaks in losses
    assert losses <= mutant.may_lose, losses - mutant.may_lose


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**48))
def test_full_marks_do_not_depend_on_the_probe_points(seed):
    result = grade(corpus.BASE, seed=seed)
    assert result.score == result.max_score
    assert result.seed == seed


def test_same_seed_same_points_and_probes(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(corpus.mutant("tanh_input_for_output").source())
    first, second = grade(path, seed=7), grade(path, seed=7)
    assert [op.points for op in first.ops] == [op.points for op in second.ops]
    tanh = next(op for op in first.ops if op.key == "tanh")
    again = next(op for op in second.ops if op.key == "tanh")
    assert tanh.failures[0].inputs == again.failures[0].inputs


def test_reference_numbers_are_derived_by_sympy():
    reference = oracle.derive().reference
    printed = [f"{float(reference.exact_fraction(name)):.4f}"
               for name in optable.REFERENCE_PRINTED]
    assert printed == ["24.7041", "138.8338", "645.5773"]
    assert reference.exact_fraction("g") == Fraction(2421, 98)


def test_special_casing_the_lecture_inputs_earns_nothing_extra(tmp_path):
    # Wrong gradients everywhere but at the lecture's point, where it returns the right ones.
    source = corpus.mutant("mul_swapped").source().replace(
        "    def backward(self):",
        "    def backward(self):\n"
        "        if round(self.data, 4) == 24.7041:\n"
        "            for v, g in zip(_LEAVES, (138.83381924198252, 645.5772594752186)):\n"
        "                v.grad = g\n"
        "            return\n",
    ).replace("class Value:", "_LEAVES = []\n\n\nclass Value:").replace(
        "        self.label = label",
        "        self.label = label\n        if data in (-4.0, 2.0):\n"
        "            _LEAVES.append(self)")
    path = tmp_path / "cheat.py"
    path.write_text(source)
    plain = tmp_path / "plain.py"
    plain.write_text(corpus.mutant("mul_swapped").source())
    cheat, honest = grade(path, seed=9), grade(plain, seed=9)
    assert cheat.score <= honest.score  # the lecture's point answered right earns nothing
    assert {o.key: o.points for o in cheat.ops} == {o.key: o.points for o in honest.ops}


def test_a_broken_primitive_is_named_as_root_cause_of_composites(tmp_path):
    """End to end, neg fails beside a broken mul and names it; under own-code credit (the
    default), neg is checked with the grader's mul and, right that way, keeps its point."""
    from dataclasses import replace

    from graders.spec.optable import BACKPROP

    path = tmp_path / "m.py"
    path.write_text(corpus.mutant("mul_no_upstream").source())
    strict = grade(path, assignment=replace(BACKPROP, credit="end-to-end"), seed=4)
    neg = next(op for op in strict.ops if op.key == "neg")
    assert not neg.passed and neg.root_cause == "mul"
    credited = next(op for op in grade(path, seed=4).ops if op.key == "neg")
    assert credited.passed and credited.points == credited.max_points
    assert "correct given a correct `mul`" in credited.credited


def test_the_reference_example_blames_only_primitives_it_uses(tmp_path):
    """pow without its -1 and a broken rsub: the lecture's program never computes c - Value,
    and truediv fails because of pow, so the example's root cause is pow alone."""
    source = (corpus.SUBMISSIONS / "correct" / "lecture_style.py").read_text()
    source = source.replace("(other - 1)", "(other)").replace(
        "return other + (-self)", "return self - other")
    path = tmp_path / "m.py"
    path.write_text(source)
    ops = {op.key: op for op in grade(path, seed=3).ops}
    assert not ops["rsub"].passed and ops["truediv"].passed
    assert ops["truediv"].credited_by == "pow"
    assert ops["reference_example"].root_cause == "pow"


TANH_FROM_EXP = """    def tanh(self):
        e = (self * 2).exp()
        return (e - 1) / (e + 1)
"""


def test_a_tanh_built_from_a_broken_exp_names_exp_and_keeps_its_points(tmp_path):
    """A class whose tanh is made of exp and arithmetic: with exp's gradient wrong, tanh's own
    code is right, so tanh names exp as its root cause and, credited, keeps its points."""
    source = corpus.BASE.read_text()
    start = source.index("    def tanh(self):")
    end = source.index("    def exp(self):")
    source = source[:start] + TANH_FROM_EXP + "\n" + source[end:]
    path = tmp_path / "m.py"
    path.write_text(source.replace(corpus.EXP, "self.grad += self.data * out.grad"))
    from dataclasses import replace

    from graders.spec.optable import BACKPROP

    strict = {op.key: op for op in grade(path, assignment=replace(
        BACKPROP, credit="end-to-end"), seed=6).ops}
    assert not strict["exp"].passed and not strict["tanh"].passed
    assert strict["tanh"].root_cause == "exp"
    credited = {op.key: op for op in grade(path, seed=6).ops}
    assert credited["tanh"].passed and "correct given a correct `exp`" in credited["tanh"].credited
    path.write_text(source)  # and the same class with a right exp passes tanh outright
    assert next(op for op in grade(path, seed=6).ops if op.key == "tanh").passed


def test_results_json_follows_gradescope(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(corpus.mutant("relu_no_mask").source())
    data = gradescope(grade(path))
    names = [test["name"].split(":")[0] for test in data["tests"]]
    assert names[:2] == ["add", "mul"] and "backward" in names and "reference_example" in names
    relu = data["tests"][names.index("relu")]
    assert relu["status"] == "failed" and relu["score"] < relu["max_score"]
    assert "relu" in relu["output"] and relu["output_format"] == "md"
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


def test_cli_grades_and_writes_results(tmp_path):
    results = tmp_path / "out" / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "graders", "grade", str(corpus.BASE), "--results", str(results)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "reference_example" in run.stdout
    data = json.loads(results.read_text())
    assert data["score"] == data["extra_data"]["max_score"]


@pytest.mark.parametrize("argv, message", [
    (["grade", "missing.ipynb"], "no such file"),
    (["grade"], "required"),
])
def test_cli_usage_errors_are_one_line_and_nonzero(argv, message, tmp_path):
    run = subprocess.run([sys.executable, "-m", "graders", *argv], capture_output=True,
                         text=True, cwd=tmp_path, timeout=60)
    assert run.returncode != 0
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_cli_version_and_help():
    version = subprocess.run([sys.executable, "-m", "graders", "--version"],
                             capture_output=True, text=True)
    assert version.returncode == 0 and "gradkit" in version.stdout
    helptext = subprocess.run([sys.executable, "-m", "graders", "--help"],
                              capture_output=True, text=True)
    assert "grade" in helptext.stdout


def test_output_piped_to_a_reader_that_left_ends_quietly():
    """`gradkit ops | head -1`: the reader's end is closed before gradkit writes a byte."""
    read, write = os.pipe()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout buffered
    child = subprocess.Popen([sys.executable, "-m", "graders", "ops"], stdout=write,
                             stderr=subprocess.PIPE, text=True, env=env)
    os.close(write)
    os.close(read)
    _out, errors = child.communicate(timeout=120)
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
    assert child.returncode == 141  # what a shell reports for a writer stopped by SIGPIPE


def test_an_op_that_hangs_at_its_own_points_is_not_asked_at_the_class_points(tmp_path):
    from graders.model import Limits

    hangs = corpus.BASE.read_text().replace(
        "            self.grad += (1 - t**2) * out.grad",
        "            while True:\n                pass", 1)
    assert hangs != corpus.BASE.read_text()
    path = tmp_path / "hangs.py"
    path.write_text(hangs)
    result = grade(path, seed=3, limits=Limits(group_seconds=2))
    tanh = next(op for op in result.ops if op.key == "tanh")
    assert tanh.points == 0 and tanh.cluster is None  # nothing answered at the class points
    assert lost(result) - {"tanh", "reference_example"} == set()


def test_hidden_checks_show_students_only_a_verdict(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(corpus.mutant("backward_no_reverse").source())
    assignment = optable.Assignment("backprop", optable.BACKPROP.ops, hidden=("backward",))
    data = gradescope(grade(path, assignment=assignment))
    test = next(t for t in data["tests"] if t["name"].startswith("backward"))
    assert test["visibility"] == "after_published"
    assert test["status"] == "failed"
    assert "topolog" not in test["output"].lower() and "expected" not in test["output"]
    shown = next(t for t in data["tests"] if t["name"].startswith("mul"))
    assert shown["visibility"] == "visible"


def test_the_reference_engine_passes_its_own_grader():
    # kit.engine's closures take out.grad as an argument; the grader accepts both conventions.
    import kit.engine
    from graders.selfcheck import check

    report = check(kit.engine.Value)
    assert report.rows and all(row.status == "passed" for row in report.rows), str(report)


def test_a_closure_stored_on_the_input_fails_its_op_and_nothing_else():
    """`self._backward = _backward` in `__add__` (instead of `out._backward`): in a real graph
    add's gradient never flows. The op check runs only the closures the op made (not the
    input's), and backward()'s graphs keep the grader's closures on their inputs."""
    from pathlib import Path

    from graders.api import grade

    result = grade(Path(__file__).parent / "submissions" / "closure_on_input.py", seed=3)
    verdicts = {op.key: op.passed for op in result.ops}
    assert verdicts["add"] is False
    assert verdicts["mul"] and verdicts["backward"]


def test_a_backward_too_slow_for_the_deep_chain_fails_only_the_chain(tmp_path):
    """The sandbox keeps the answers that came back before a group's time ran out: the
    diamond and the seed are judged on their merits, the chain (and what was never asked)
    fails with the time limit as its reason."""
    source = corpus.BASE.read_text().replace(
        "        self.grad = 1.0\n",
        "        if len(topo) > 5000:\n            import time\n            time.sleep(60)\n"
        "        self.grad = 1.0\n", 1)
    path = tmp_path / "slow.py"
    path.write_text(source)
    from graders.model import Limits

    backward = next(op for op in grade(path, seed=2, limits=Limits(group_seconds=3)).ops
                    if op.key == "backward")
    verdicts = {check.name: check.passed for check in backward.subchecks}
    assert verdicts == {"diamond": True, "seed": True, "chain": False, "repeat": False}
    assert "3 s" in backward.error
    assert "not checked" in next(c.detail for c in backward.subchecks if c.name == "repeat")


def test_an_op_whose_node_the_students_own_backward_cannot_walk_loses_its_gradient(tmp_path):
    """`x ** k` keeping k among its children: the grader's walk skips plain numbers, the
    student's backward() does not, so in their programs no gradient passes pow. A backward()
    that skips plain numbers itself makes the same node fine."""
    kept = corpus.BASE.read_text().replace("out = Value(self.data**other, (self,), ",
                                           "out = Value(self.data**other, (self, other), ")
    path = tmp_path / "kept.py"
    path.write_text(kept)
    ops = {op.key: op for op in grade(path, seed=2).ops}
    assert not ops["pow"].passed and "'int' object has no attribute '_prev'" in ops["pow"].error
    assert [c.name for c in ops["pow"].subchecks if not c.passed] == ["gradient"]
    assert ops["backward"].passed and ops["reference_example"].root_cause.startswith("pow")
    path.write_text(kept.replace("for child in v._prev:",
                                 "for child in v._prev:\n                    if not "
                                 "isinstance(child, Value):\n                        continue"))
    assert grade(path, seed=2).score == grade(corpus.BASE, seed=2).score
