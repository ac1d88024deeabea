"""Assignment 2's Value class is the lecture's form, each op's answer lifted from kit/engine.py
(graders/course/reference.py): the lift is the rewrite it claims, and the class it makes
computes what the engine computes."""

from __future__ import annotations

import ast
import inspect
import itertools
import math
import re
import textwrap

import pytest

import kit.engine
from graders import course
from graders.course import authoring, reference
from graders.spec import optable

BASE = [item for item in course.tasks("backprop") if optable.op(item.key).kind == "op"]
PRIMITIVES = [item for item in BASE if reference.is_primitive(item.key)]
DERIVED = [item for item in BASE if not reference.is_primitive(item.key)]

# The lecture's text of each answer (solutions/backprop at 375e96a, before the lift). tanh is
# the one the lift does not reproduce: the engine keeps `1.0 - t * t`, correctly rounded, where
# `t ** 2` goes through libm's pow (see kit/engine.py's tanh).
LECTURE = {
    "add": "self.grad += out.grad\nother.grad += out.grad",
    "mul": "self.grad += other.data * out.grad\nother.grad += self.data * out.grad",
    "pow": "self.grad += other * self.data ** (other - 1) * out.grad",
    "relu": "self.grad += (out.data > 0) * out.grad",
    "tanh": "self.grad += (1.0 - t * t) * out.grad",  # the lecture: (1 - t ** 2) * out.grad
    "exp": "self.grad += out.data * out.grad",
    "neg": "return self * -1",
    "sub": "return self + (-other)",
    "truediv": "return self * other ** -1",
    "radd": "return self + other",
    "rsub": "return (-self) + other",
    "rmul": "return self * other",
    "rtruediv": "return self ** -1 * other",
}


def _class_text() -> str:
    nb = authoring.backprop()
    return next(cell.source for cell in nb.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == "value_class")


def _solution(text: str, key: str, what: str) -> str:
    """The solution region of the stub `key` names, without the `return` `todo` closes it with
    when the answer does not end in one."""
    item = course.task(key)
    raise_line = f"raise NotImplementedError('not implemented: task {item.task}, {what}')"
    head = text[:text.index(raise_line)]
    region = head[head.rindex("### BEGIN SOLUTION\n") + len("### BEGIN SOLUTION\n"):
                  head.rindex("### END SOLUTION")]
    lines = textwrap.dedent(region).strip().split("\n")
    if lines[-1] == "return" and len(lines) > 1:
        lines.pop()
    return "\n".join(lines)


def _engine_method(key: str) -> str:
    return textwrap.dedent(inspect.getsource(getattr(kit.engine.Value, optable.op(key).method)))


def _notebook_method(text: str, key: str) -> str:
    method = optable.op(key).method
    start = text.index(f"    def {method}(")
    end = text.find("\n    def ", start + 1)
    return text[start:end if end >= 0 else None]


@pytest.fixture(scope="module")
def class_text() -> str:
    return _class_text()


@pytest.mark.parametrize("key", [item.key for item in PRIMITIVES])
def test_a_primitive_answer_is_the_engine_closure_reading_out_grad(class_text, key):
    engine = _engine_method(key)
    closure = engine[engine.index("def _backward(grad: float) -> None:\n"):]
    closure = closure.split("\n", 1)[1].split("\n\n", 1)[0]
    expected = re.sub(r"(?<![\w.])grad\b", "out.grad", textwrap.dedent(closure).strip())
    # the local the engine makes `out` from is out.data, unless the lecture's forward names it
    data = re.search(r"out = Value\((\w+),", engine)
    mine = _notebook_method(class_text, key)
    if data and not re.search(rf"^\s+{data.group(1)} = ", mine, re.MULTILINE):
        expected = re.sub(rf"(?<![\w.]){data.group(1)}\b", "out.data", expected)
    answer = _solution(class_text, key, f"{key} backward")
    assert answer == expected
    assert answer == LECTURE[key]
    assert "        def _backward():\n" in mine and "grad: float" not in mine


@pytest.mark.parametrize("key", [item.key for item in DERIVED])
def test_a_derived_answer_is_the_engine_body_without_its_input_check(class_text, key):
    engine = _engine_method(key)
    head, body = engine.strip().split("\n", 1)
    expected = re.sub(r'_checked\((\w+), "[^"]+"\)', r"\1", textwrap.dedent(body).strip())
    comment = head.partition("#")[2].strip()
    answer = _solution(class_text, key, f"{key} ({comment})")
    assert answer == expected == LECTURE[key]
    params = ", ".join(arg.arg for arg in ast.parse(engine).body[0].args.args)
    assert f"    def {optable.op(key).method}({params}):  # {comment}\n" in class_text


def test_the_class_is_the_lecture_form(class_text):
    assert "from __future__" not in class_text and "__slots__" not in class_text
    assert not re.search(r"_to_float|_checked|_wrap|-> |: float", class_text)
    assert "stack = [(self, False)]" in class_text and "node._backward()" in class_text
    assert class_text.count("def _backward():") == len(PRIMITIVES)


def test_the_lift_refuses_code_the_lecture_method_cannot_run():
    with pytest.raises(ValueError, match="reads t"):
        reference._check_names("tanh", "self.grad += (1.0 - t * t) * out.grad", {"self"})


# --- the class the lift makes computes what the engine computes ----------------------------

XS = (0.7, -1.3, 2.0)
YS = (1.9, -0.4)
CS = (3.0, -2.5)
KS = (2, 3, -1, 0.5)


def _lecture_value():
    scope: dict = {}
    exec(compile(_class_text(), "<backprop value_class>", "exec"), scope)
    return scope["Value"]


def _run(value_class, build: str, x: float, y: float, c: float, k: float):
    xv, yv = value_class(x), value_class(y)
    out = eval(build, {}, {"x": xv, "y": yv, "c": c, "k": k})
    out.backward()
    return out.data, xv.grad, yv.grad


@pytest.mark.parametrize("key", [item.key for item in BASE])
def test_the_lifted_class_agrees_with_the_engine(key):
    lecture = _lecture_value()
    spec = optable.op(key)
    builds = [spec.build] + ([spec.reuse] if spec.reuse else [])
    checked = 0
    for build, x, y, c, k in itertools.product(builds, XS, YS, CS, KS):
        if "k" in build and x < 0 and not float(k).is_integer():
            continue  # no real result: the engine raises, the lecture makes a complex number
        want = _run(kit.engine.Value, build, x, y, c, k)
        got = _run(lecture, build, x, y, c, k)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15), (build, x, y, c, k)
        checked += 1
    assert checked


def test_the_lifted_class_agrees_with_the_engine_on_the_reference_program():
    lecture = _lecture_value()
    results = []
    for value_class in (kit.engine.Value, lecture):
        scope = {name: value_class(value) for name, value in optable.REFERENCE_INPUTS.items()}
        inputs = dict(scope)
        exec("\n".join(optable.REFERENCE_PROGRAM), {}, scope)
        scope["g"].backward()
        results.append([scope["g"].data] + [v.grad for v in inputs.values()])
    assert results[1] == pytest.approx(results[0], rel=1e-12)
    assert all(math.isfinite(number) for number in results[0])
