"""Ops declared only in an assignment config, graded like the table's own (issue 15).

The reference methods below are written by hand, as a student would write them: nothing in
them comes from gradkit, so a pass means sympy's derivative and the student's agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graders import api, course
from graders.spec import assignments, optable
from tests.conftest import ROOT

HONEST = (ROOT / "tests" / "submissions" / "correct" / "lecture_style.py").read_text()
CUSTOM_OPS = ROOT / "examples" / "custom-ops" / "course.toml"

# Six ops no built-in row has: a pole (recip, tan), log's boundary at 0, kinks (abs, max,
# leaky with a slope the probes draw), and two inputs (max).
CONFIG = textwrap.dedent("""
    base = "backprop"
    name = "backprop-more"

    [op.log]
    build = "x.log()"
    value = "log(x)"
    points = 1

    [op.recip]
    build = "x.recip()"
    value = "1/x"
    points = 1

    [op.tan]
    build = "x.tan()"
    value = "tan(x)"
    points = 1

    [op.absval]
    build = "x.abs()"
    value = "Abs(x)"
    points = 1

    [op.maximum]
    build = "x.max(y)"
    value = "Max(x, y)"
    points = 2

    [op.softplus]
    build = "x.softplus()"
    value = "log(1 + exp(x))"
    points = 1

    [[op.softplus.mistakes]]
    key = "exp_not_sigmoid"
    title = "uses exp(x) as the derivative"
    x = "g + exp(x)*u"
    hint = "d/dx log(1 + exp(x)) = exp(x) / (1 + exp(x)), the sigmoid of x"

    [op.leaky]
    build = "x.leaky(c)"
    value = "Piecewise((c*x, x < 0), (x, True))"
    points = 1

    [op.leaky.domain]
    c = { low = 0.01, high = 0.3, sign = "positive" }

    [[op.leaky.mistakes]]
    key = "zero_below"
    title = "passes no gradient below 0"
    x = "g + Piecewise((0, x < 0), (u, True))"
    hint = "below 0 the output is c·a, so the gradient there is c · out.grad"
""")

# (method source, with {back} where the backward body goes; right body; wrong body; the
# diagnosis the wrong body must get)
METHODS = {
    "log": ("def log(self):\n    out = Value(math.log(self.data), (self,), 'log')",
            "self.grad += out.grad / self.data", "self.grad = out.grad / self.data",
            "assign_not_accumulate"),
    "recip": ("def recip(self):\n    out = Value(1 / self.data, (self,), 'recip')",
              "self.grad += -out.grad / self.data ** 2", "self.grad += out.grad / self.data ** 2",
              "wrong_sign"),
    "tan": ("def tan(self):\n    out = Value(math.tan(self.data), (self,), 'tan')",
            "self.grad += (1 + out.data ** 2) * out.grad",
            "self.grad = 1 / math.cos(self.data) ** 2", "upstream_assign"),
    "absval": ("def abs(self):\n    out = Value(abs(self.data), (self,), 'abs')",
               "self.grad += (1.0 if self.data > 0 else -1.0) * out.grad",
               "self.grad += 1.0 if self.data > 0 else -1.0", "no_upstream"),
    "maximum": ("def max(self, other):\n"
                "    other = other if isinstance(other, Value) else Value(other)\n"
                "    out = Value(max(self.data, other.data), (self, other), 'max')",
                "self.grad += (self.data > other.data) * out.grad\n"
                "other.grad += (other.data > self.data) * out.grad",
                "self.grad += (self.data > other.data) * out.grad", "not_updated"),
    "softplus": ("def softplus(self):\n"
                 "    out = Value(math.log(1 + math.exp(self.data)), (self,), 'softplus')",
                 "self.grad += out.grad / (1 + math.exp(-self.data))",
                 "self.grad += math.exp(self.data) * out.grad", "exp_not_sigmoid"),
    "leaky": ("def leaky(self, c):\n"
              "    out = Value(self.data if self.data > 0 else c * self.data, (self,), 'leaky')",
              "self.grad += (1.0 if self.data > 0 else c) * out.grad",
              "self.grad += (1.0 if self.data > 0 else 0.0) * out.grad", "zero_below"),
}


def _method(head: str, body: str) -> str:
    inner = textwrap.indent(body, " " * 8)
    text = f"{head}\n\n    def _backward():\n{inner}\n\n    out._backward = _backward\n" \
           "    return out\n"
    return textwrap.indent(text, " " * 4)


def _submission(wrong: str | None = None) -> str:
    methods = "\n".join(_method(head, bad if key == wrong else right)
                        for key, (head, right, bad, _) in METHODS.items())
    return "import math\n" + HONEST.replace("    def backward(self):",
                                            methods + "\n    def backward(self):", 1)


@pytest.fixture(scope="module")
def more(tmp_path_factory) -> tuple[Path, optable.Assignment]:
    folder = tmp_path_factory.mktemp("declared")
    config = folder / "course.toml"
    config.write_text(CONFIG)
    return folder, api.check_assignment(assignments.from_file(config))


def test_a_correct_class_earns_every_point_of_every_declared_op(more) -> None:
    folder, assignment = more
    path = folder / "right.py"
    path.write_text(_submission())
    result = api.grade(path, assignment=assignment, seed=11)
    failed = [(op.key, op.diagnosis) for op in result.ops if not op.passed]
    assert failed == []
    assert {op.key for op in result.ops} >= set(METHODS)
    base = sum(task.points for task in course.tasks_of(optable.BACKPROP))
    assert result.score == result.max_score == base + sum(s.points for s in assignment.declared)


@pytest.mark.parametrize("key", sorted(METHODS))
def test_one_mistake_costs_exactly_its_op_and_is_named(more, key: str) -> None:
    folder, assignment = more
    path = folder / f"wrong_{key}.py"
    path.write_text(_submission(wrong=key))
    result = api.grade(path, assignment=assignment, seed=12)
    failed = {op.key: op for op in result.ops if not op.passed}
    assert list(failed) == [key]
    assert failed[key].diagnosis is not None and failed[key].diagnosis.key == METHODS[key][3]
    assert result.max_score - result.score == assignment.points_for(key)


def test_the_example_course_grades_its_five_ops_from_the_cli(tmp_path: Path) -> None:
    """The shipped example, through `gradkit grade --config`: CI test names start with the key."""
    methods = {
        "sin": ("def sin(self):\n    out = Value(math.sin(self.data), (self,), 'sin')",
                "self.grad += math.cos(self.data) * out.grad"),
        "cos": ("def cos(self):\n    out = Value(math.cos(self.data), (self,), 'cos')",
                "self.grad += math.sin(self.data) * out.grad"),  # the sign slip
        "sigmoid": ("def sigmoid(self):\n"
                    "    out = Value(1 / (1 + math.exp(-self.data)), (self,), 'sigmoid')",
                    "self.grad += out.data * (1 - out.data) * out.grad"),
        "leaky_relu": ("def leaky_relu(self):\n    out = Value(self.data if self.data > 0 "
                       "else 0.01 * self.data, (self,), 'leaky_relu')",
                       "self.grad += (1.0 if self.data > 0 else 0.01) * out.grad"),
    }
    vpow = textwrap.indent(textwrap.dedent("""
        def __pow__(self, other):
            if isinstance(other, Value):
                out = Value(self.data ** other.data, (self, other), 'vpow')

                def _backward():
                    self.grad += other.data * self.data ** (other.data - 1) * out.grad
                    other.grad += out.data * math.log(self.data) * out.grad

                out._backward = _backward
                return out
            return self._const_pow(other)
    """), " " * 4)
    source = HONEST.replace("def __pow__(self, other):", "def _const_pow(self, other):", 1)
    body = "\n".join(_method(head, back) for head, back in methods.values())
    source = "import math\n" + source.replace("    def backward(self):",
                                              body + vpow + "\n    def backward(self):", 1)
    (tmp_path / "student.py").write_text(source)
    done = subprocess.run([sys.executable, "-m", "graders", "grade", "student.py", "--config",
                           str(CUSTOM_OPS), "--results", "results.json", "--seed", "3"],
                          cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    tests = json.loads((tmp_path / "results.json").read_text())["tests"]
    by_op = {}
    for test in tests:
        by_op.setdefault(test["name"].split(" ")[0].split(":")[0], []).append(test)
    for key in ("sin", "sigmoid", "leaky_relu", "vpow"):
        assert by_op[key] and all(t["score"] == t["max_score"] for t in by_op[key]), key
    assert sum(t["score"] for t in by_op["cos"]) == 0
    assert "sin_without_minus" in json.dumps(by_op["cos"]) or \
        "without its minus sign" in json.dumps(by_op["cos"])


BAD_CONFIGS = {
    "unparseable": ("[op.sinh]\nbuild = 'x.sinh()'\nvalue = 'sinh(x'\npoints = 1\n", "sinh"),
    "unused input": ("[op.maxi]\nbuild = 'x.maxi(y)'\nvalue = 'x*2'\npoints = 1\n", "maxi"),
    "not a method": ("[op.sq]\nbuild = 'sqrt(x)'\nvalue = 'sqrt(x)'\npoints = 1\n", "sq"),
    "unknown name": ("[op.odd]\nbuild = 'x.odd()'\nvalue = 'gamma_fn(x)'\npoints = 1\n", "odd"),
    "bad mistake": ("[op.sn]\nbuild = 'x.sn()'\nvalue = 'sin(x)'\npoints = 1\n"
                    "[[op.sn.mistakes]]\nkey = 'm'\nx = 'g + cos(z)*u'\n", "sn"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_a_config_mistake_is_refused_in_one_line_naming_file_and_op(tmp_path, case) -> None:
    text, key = BAD_CONFIGS[case]
    config = tmp_path / "bad.toml"
    config.write_text(text)
    (tmp_path / "student.py").write_text(HONEST)
    done = subprocess.run([sys.executable, "-m", "graders", "grade", "student.py", "--config",
                           str(config)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(config) in lines[0] and key in lines[0], lines[0]
    assert "Traceback" not in done.stderr


# --- random expressions: sympy's grammar, a reference that passes, a slip that fails -----------

X, Y = sp.symbols("x y", real=True)
LEAVES = st.sampled_from([X, Y, X + 2, sp.Integer(3)])


def _expressions():
    unary = [sp.exp, sp.sin, sp.cos, lambda e: e ** 2, lambda e: e ** 3]
    return st.recursive(
        LEAVES,
        lambda inner: st.one_of(
            st.builds(lambda a, b: a + b, inner, inner),
            st.builds(lambda a, b: a * b, inner, inner),
            st.builds(lambda f, a: f(a), st.sampled_from(unary), inner),
            st.just(sp.log(X)), st.just(sp.log(Y))),
        max_leaves=4)


def _value_class(expr, inputs, slip: bool):
    """The lecture's reference Value plus method `f`, its backward from the derivative as a
    student would type it (lambdified), optionally wrong on x (relatively and absolutely)."""
    from kit.engine import Value as Base

    forward = sp.lambdify(inputs, expr, "math")
    partials = [sp.lambdify(inputs, sp.diff(expr, s), "math") for s in inputs]

    class Value(Base):
        pass

    def f(self, *others):
        others = [o if isinstance(o, Value) else Value(o) for o in others]
        nodes = (self, *others)
        out = Value(forward(*(n.data for n in nodes)), nodes, "f")

        def _backward():
            data = [n.data for n in nodes]
            for index, (node, partial) in enumerate(zip(nodes, partials, strict=True)):
                local = partial(*data)
                if slip and index == 0:  # off by a quarter of itself and a half
                    local = 1.25 * local + 0.5
                node.grad += local * out.grad
        out._backward = _backward
        return out

    Value.f = f
    return Value


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expressions())
def test_any_expression_of_the_grammar_grades_right_and_a_slip_fails(expr) -> None:
    inputs = [s for s in (X, Y) if s in expr.free_symbols]
    if X not in inputs:
        expr, inputs = expr + X, [X, *inputs]
    build = "x.f(y)" if Y in inputs else "x.f()"
    data = {"base": "backprop", "ops": ["add", "f"],
            "op": {"f": {"build": build, "value": str(expr), "points": 1}}}
    assignment = api.check_assignment(assignments.from_data(data, "grammar.toml"))
    for slip in (False, True):
        results, _outcome, _seed = api.grade_class(_value_class(expr, inputs, slip),
                                                   assignment=assignment, seed=5)
        f = next(op for op in results if op.key == "f")
        assert f.passed is not slip, (expr, slip, [s.name for s in f.subchecks if not s.passed])


# --- gradkit course new, through the real nbgrader CLI ---------------------------------------


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_course_new_releases_and_autogrades_with_real_nbgrader(tmp_path: Path) -> None:
    """`gradkit course new` → `nbgrader generate_assignment` → students hand in the solution,
    the untouched release, and the solution with one slip in cos → `nbgrader autograde` gives
    full marks, 0, and full marks less cos's point; feedback is generated for all three."""
    import nbformat
    from nbgrader.api import Gradebook

    root = tmp_path / "course"
    _run(["graders", "course", "new", "plus", "--config", str(CUSTOM_OPS), "--root",
          str(root)], tmp_path)
    assert (root / "source" / "plus" / "course.toml").read_text() == CUSTOM_OPS.read_text()
    _run(["nbgrader", "generate_assignment", "plus"], root)
    release = root / "release" / "plus"
    assert (release / "course.toml").is_file()
    stub = nbformat.read(release / "plus.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in stub.cells)
    for spec in assignments.from_file(CUSTOM_OPS).declared:
        assert f"not implemented: task {spec.task}, {spec.key} backward" in text
    assert "BEGIN SOLUTION" not in text and "course.grade" not in text  # hidden, cleared

    solution = nbformat.read(root / "source" / "plus" / "plus.ipynb", as_version=4)
    slipped = nbformat.from_dict(solution)
    for cell in slipped.cells:
        cell.source = cell.source.replace("self.grad += (-math.sin(self.data)) * out.grad",
                                          "self.grad += (math.sin(self.data)) * out.grad")
    assert nbformat.writes(slipped) != nbformat.writes(solution)
    for student, nb in (("alice", solution), ("bob", stub), ("carol", slipped)):
        target = root / "submitted" / student / "plus" / "plus.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
    _run(["nbgrader", "autograde", "plus"], root)
    _run(["nbgrader", "generate_feedback", "plus"], root)
    total = sum(task.points for task in course.tasks_of(assignments.from_file(CUSTOM_OPS)))
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        scores = {s: gradebook.find_submission("plus", s).score for s in ("alice", "bob", "carol")}
        cos = {g.name: g.score for g in
               gradebook.find_submission("plus", "carol").notebooks[0].grades}["grade_cos"]
    assert scores == {"alice": total, "bob": 0.0, "carol": total - 1}
    assert cos == 0.0
    feedback = (root / "feedback" / "carol" / "plus" / "plus.html").read_text()
    assert "sin_without_minus" in feedback or "without its minus sign" in feedback


def test_the_documented_example_course_writes_a_notebook_that_earns_full_marks(tmp_path):
    """docs/assignments.md's course, verbatim: `gradkit course new` on it, then its solution
    notebook graded in the sandbox with the documented config: every point."""
    text = (ROOT / "docs" / "assignments.md").read_text()
    block = text.split("## Declaring new ops", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "course.toml").write_text(block)
    _run(["graders", "course", "new", "plus", "--config", "course.toml"], tmp_path)
    assignment = api.check_assignment(assignments.from_file(tmp_path / "course.toml"))
    assert {"sigmoid", "sin", "leaky_relu", "vpow"} <= {s.key for s in assignment.declared}
    result = api.grade(tmp_path / "source" / "plus" / "plus.ipynb", assignment=assignment)
    assert [op.key for op in result.ops if not op.passed] == []
    assert result.score == result.max_score > 25
