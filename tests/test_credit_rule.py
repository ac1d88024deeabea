"""One credit rule, stated once and applied in every case (optable.CREDIT_RULES).

Under "own-code" (the default) an op is scored on its own code with the grader's correct
versions standing in for every other op it calls, whether the student's are wrong, raise, are
missing or break the forward; under "end-to-end" an op built on a broken one fails with it and
names it. The lecture's example is end to end under both: it never earns points the student's
class does not print. Each class is made from one of the honest styles by one edit of its
syntax tree, so the only difference from full marks is the breakage under test.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graders.api import grade, grade_namespace
from graders.report.text import explain
from graders.spec import assignments, optable
from graders.spec.optable import BACKPROP
from tests import corpus

OWN, END = BACKPROP, replace(BACKPROP, credit="end-to-end")
BY_METHOD = {spec.method: spec.key for spec in optable.OPS}
EXAMPLE = optable.REFERENCE.key


def _class(tree: ast.Module) -> ast.ClassDef:
    return next(node for node in tree.body if isinstance(node, ast.ClassDef)
                and node.name == "Value")


def _methods(source: str) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in _class(ast.parse(source)).body
            if isinstance(node, ast.FunctionDef)}


def _closures(method: ast.FunctionDef) -> list[ast.FunctionDef]:
    return [node for node in ast.walk(method)
            if isinstance(node, ast.FunctionDef) and node.name == "_backward"]


def composites(source: str) -> set[str]:
    """The table's ops a class writes without a `_backward` of its own: built from others."""
    return {BY_METHOD[name] for name, method in _methods(source).items()
            if name in BY_METHOD and not _closures(method)}


def primitives(source: str) -> set[str]:
    """The table's ops a class writes with a `_backward` of its own."""
    return {BY_METHOD[name] for name, method in _methods(source).items()
            if name in BY_METHOD and _closures(method)}


def _body(text: str) -> list[ast.stmt]:
    return ast.parse(text).body


def broken(source: str, key: str, how: str) -> str:
    """`source` with op `key` broken one way: its `_backward` does nothing (`noop`) or raises
    (`raises`); the method is gone (`missing`), raises when called (`forward_raises`), or
    returns a Value of the wrong number with no inputs (`wrong_forward`)."""
    tree = ast.parse(source)
    cls = _class(tree)
    method = next(node for node in cls.body
                  if isinstance(node, ast.FunctionDef) and node.name == optable.op(key).method)
    if how == "missing":
        cls.body.remove(method)
    elif how in ("noop", "raises"):
        for closure in _closures(method):
            closure.body = _body("pass" if how == "noop" else "raise RuntimeError('broken')")
    elif how == "forward_raises":
        method.body = _body("raise AttributeError(\"'float' object has no attribute 'data'\")")
    else:
        method.body = _body("return type(self)(12345.0)")
    return ast.unparse(tree)


def lost(source: str, assignment, seed: int = 5) -> set[str]:
    """The ops short of full points, graded in this process (the advisory runner: the same
    plan, runners and scorer as the sandbox)."""
    namespace: dict = {}
    exec(compile(source, "<cell 1>", "exec"), namespace)  # the corpus's honest styles
    ops, _, _ = grade_namespace(namespace, assignment=assignment, seed=seed)
    assert ops
    return {op.key for op in ops if op.points < op.max_points}


def aliases(source: str) -> dict[str, set[str]]:
    """Ops that are one function under two names (`__radd__ = __add__`): each key's group."""
    groups: dict[str, set[str]] = {}
    for node in _class(ast.parse(source)).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            names = [node.value.id, *(t.id for t in node.targets if isinstance(t, ast.Name))]
            keys = {BY_METHOD[name] for name in names if name in BY_METHOD}
            for key in keys:
                groups.setdefault(key, set()).update(keys)
    return groups


FULL = {key: BACKPROP.points_for(key) for key in BACKPROP.ops  # optional ops need points
        if not BACKPROP.op(key).optional or BACKPROP.points.get(key, 0) > 0}
STYLES = {path.stem: path.read_text() for path in corpus.CORRECT}
HOW = ("noop", "raises", "missing", "forward_raises", "wrong_forward")


def _cases() -> list[tuple[str, str, str]]:
    """Every (style, op, breakage) that changes the op: a closure breakage needs a closure,
    and an aliased method cannot go missing alone."""
    cases = []
    for style, source in STYLES.items():
        own, alias = primitives(source), aliases(source)
        for key in sorted((own | composites(source)) & FULL.keys()):
            for how in HOW:
                if (how in ("noop", "raises") and key not in own) or \
                        (how == "missing" and key in alias):
                    continue
                cases.append((style, key, how))
    return cases


CASES = _cases()


def test_every_honest_style_has_full_marks_under_both_rules():
    for source in STYLES.values():
        for assignment in (OWN, END):
            assert lost(source, assignment) == set()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**20))
def test_own_code_a_broken_op_costs_its_own_points_and_the_example_only(case, seed):
    style, key, how = case
    short = lost(broken(STYLES[style], key, how), OWN, seed)
    same = aliases(STYLES[style]).get(key, {key})  # `__radd__ = __add__` is add's own code
    assert key in short and short <= same | {EXAMPLE}, (style, key, how, short)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**20))
def test_end_to_end_a_dependent_op_fails_with_its_dependency_and_names_it(case, seed):
    """Every op lost besides the broken one and the example is one whose own code is right:
    it names the broken op as its root cause."""
    style, key, how = case
    namespace: dict = {}
    exec(compile(broken(STYLES[style], key, how), "<cell 1>", "exec"), namespace)
    ops, _, _ = grade_namespace(namespace, assignment=END, seed=seed)
    same = aliases(STYLES[style]).get(key, {key})
    for op in ops:
        if op.points < op.max_points and op.key not in same | {EXAMPLE}:
            assert op.root_cause in same, (style, key, how, op.key, op.root_cause)


@pytest.mark.parametrize("how", ["noop", "raises"])
def test_a_class_whose_primitives_do_nothing_scores_what_its_own_code_earns(how, tmp_path):
    """The no-op and the untouched stub: every op with a `_backward` of its own does nothing
    (or raises). Own-code: exactly its composites and backward(); end to end: backward()
    alone. Never the reference example. Graded in the sandbox, as a class is."""
    source = STYLES["lecture_style"]
    for key in primitives(source):
        source = broken(source, key, how)
    path = tmp_path / f"{how}.py"
    path.write_text(source)
    for assignment, earned in ((OWN, composites(source) | {"backward"}), (END, {"backward"})):
        result = grade(path, assignment=assignment, seed=7)
        assert {op.key: op.points for op in result.ops} == \
            {key: FULL[key] if key in earned else 0.0 for key in FULL}, assignment.credit


REAL_SHAPES = {  # what the issue saw lose points, each as a student writes it
    "a wrong neg under sub and rsub": ("return self * -1", "return self * 1", "neg"),
    "no radd under rsub": ("    def __radd__(self, other):  # other + self\n"
                           "        return self + other\n", "", "radd"),
    "no rmul under neg and rtruediv": ("    def __rmul__(self, other):  # other * self\n"
                                       "        return self * other\n", "", "rmul"),
}


@pytest.mark.parametrize("name", REAL_SHAPES)
def test_real_shapes_cost_only_the_broken_op_in_the_sandbox(name, tmp_path):
    old, new, key = REAL_SHAPES[name]
    source = STYLES["lecture_style"]
    assert old in source
    path = tmp_path / "shape.py"
    path.write_text(source.replace(old, new))
    result = grade(path, seed=3)
    lost = {op.key for op in result.ops if op.points < op.max_points}
    assert key in lost and lost <= {key, EXAMPLE}
    assert optable.CREDIT_RULES["own-code"] in result.summary_lines()
    dependants = [op for op in result.ops if op.credited_by == key]
    assert dependants, "the report says which op works once the broken one is fixed"


def test_an_add_that_does_not_wrap_numbers_fails_the_example_where_it_raises(tmp_path):
    source = STYLES["lecture_style"].replace(
        "        other = other if isinstance(other, Value) else Value(other)\n"
        "        out = Value(self.data + other.data", "        out = Value(self.data + other.data")
    path = tmp_path / "nowrap.py"
    path.write_text(source)
    ops = {op.key: op for op in grade(path, seed=3).ops}
    assert ops[EXAMPLE].points == 0 and "no attribute 'data'" in ops[EXAMPLE].error
    assert all(op.passed for key, op in ops.items() if key != EXAMPLE)


def test_the_example_shows_what_the_class_printed_and_the_first_cause(tmp_path):
    path = tmp_path / "mul.py"
    path.write_text(corpus.mutant("mul_swapped").source())
    example = next(op for op in grade(path, seed=3).ops if op.key == EXAMPLE)
    assert example.points == 0 and example.root_cause == "mul"
    lines = "\n".join(explain(example))
    assert "your class prints g " in lines and "the lecture's prints g 24.7041, a.grad " \
        "138.8338, b.grad 645.5773" in lines
    assert "the example calls `mul`" in lines


def test_the_credit_rule_reads_from_a_config_and_the_old_switch(tmp_path):
    for text, rule in (('credit = "end-to-end"', "end-to-end"), ("credit_composites = false",
                                                                  "end-to-end"),
                       ("credit_composites = true", "own-code"), ("", "own-code")):
        path = Path(tmp_path / "a.toml")
        path.write_text(text + "\n")
        assert assignments.from_file(path).credit == rule
        assert assignments.from_data(assignments.to_data(assignments.from_file(path)),
                                     "zip").credit == rule
    path.write_text('credit = "partial"\n')
    with pytest.raises(assignments.ConfigError, match=r'credit = .partial.: give "own-code"'):
        assignments.from_file(path)


HONEST_SHAPES = Path(__file__).parent / "submissions" / "shapes"


@pytest.mark.parametrize("name", ["grad_before_children", "add_through_radd"])
def test_honest_shapes_the_stand_ins_must_not_misread(name):
    """A constructor whose second argument is a grad, not the children; an `__add__` that
    calls `__radd__`, which holds the body: both honest, both full marks under both rules."""
    source = (HONEST_SHAPES / f"{name}.py").read_text()
    for assignment in (OWN, END):
        assert lost(source, assignment) == set(), assignment.credit
