"""Shapes real students wrote get the true diagnosis (issue 25, items 5 and 6).

Most tests grade in this process (`grade_namespace`: the child's own runners and the parent's
scorer, without starting a sandbox), so they are fast; the submissions are the small files in
`tests/submissions/shapes/`, written as students wrote them.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graders.api import grade_namespace
from graders.judge import probes, scoring
from graders.judge.oracle import load
from graders.model import Outcome, Record
from graders.report.sections import sections
from graders.report.text import explain
from graders.run import harness, protocol
from graders.spec import assignments, optable
from tests import corpus

SHAPES = Path(__file__).parent / "submissions" / "shapes"
LECTURE = corpus.BASE.read_text()


def namespace_of(source: str) -> dict:
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<cell 1>", "exec"), namespace)
    return namespace


def graded(source: str, assignment: optable.Assignment = optable.BACKPROP, seed: int = 3):
    ops, _, _ = grade_namespace(namespace_of(source), assignment=assignment, seed=seed)
    return {op.key: op for op in ops}


def said(op) -> str:
    return "\n".join(explain(op))


# --- 1. a closure whose one parameter is the node ------------------------------------------


def test_closures_that_take_their_node_are_called_with_it():
    """`def _backward(self)`, `def _backward(node)`, `lambda v: ...`, called by the class's
    own backward() as `node._backward(node)`: every op passes (before: "'float' object has no
    attribute 'grad'" on every op)."""
    ops = graded((SHAPES / "node_param.py").read_text())
    assert [key for key, op in ops.items() if not op.passed] == []


def test_closures_that_take_the_grad_are_called_with_it():
    """kit.engine's convention: `_backward(grad)`, called `node._backward(node.grad)`."""
    source = (SHAPES / "node_param.py").read_text()
    source = source.replace("node._backward(node)", "node._backward(node.grad)")
    source = source.replace("def _backward(node):\n            self.grad += other.data * node.grad"
                            "\n            other.grad += self.data * node.grad",
                            "def _backward(node):\n            self.grad += other.data * node"
                            "\n            other.grad += self.data * node")
    ops = graded(source)
    assert ops["mul"].passed  # `node` is a number here: the class's backward() says so
    assert not ops["add"].passed  # `self.grad` of a number: the student's own bug


@pytest.mark.parametrize(("name", "expects"), [("node", "node"), ("self", "node"), ("v", "node"),
                                               ("grad", "grad"), ("g", "grad"),
                                               ("upstream", "grad"), ("out_grad", "grad")])
def test_without_a_backward_to_ask_the_parameter_name_decides(name, expects):
    got = []

    class Value:
        def __init__(self, data):
            self.data, self.grad = data, 2.5
            self._backward = eval(f"lambda {name}: got.append({name})", {"got": got})

    node = Value(1.0)
    harness.run_closure(node)
    assert (got[0] is node) if expects == "node" else got[0] == 2.5


# --- 2. a wrong forward is said first; a raising closure is not a wrong forward -------------


def test_a_wrong_forward_is_diagnosed_as_a_forward_error_not_a_sign_error():
    """`__rsub__` computing `self - other` was "sign error" from its gradients."""
    ops = graded(corpus.mutant("rsub_wrong_forward").source())
    rsub = ops["rsub"]
    assert rsub.diagnosis.key == "wrong_forward"
    text = said(rsub)
    assert "sign" not in text
    first = sections(rsub)["mistake"]
    assert first.startswith("rsub: your code computes a wrong forward value. At x = ")
    assert "out.data should be" in first
    assert ("checked", "the forward value") in sections(rsub)["probe"]


@pytest.mark.parametrize("body", ["raise NotImplementedError('task 2.3')",
                                  "self.grad += (1 - t**2) * out.grd"])
def test_a_closure_that_raises_fails_the_gradient_not_the_forward(body):
    source = LECTURE.replace("self.grad += (1 - t**2) * out.grad", body)
    tanh = graded(source)["tanh"]
    checks = {check.name: check.passed for check in tanh.subchecks}
    assert checks["forward"] is True and checks["gradient"] is False
    assert "forward value" not in "; ".join(sections(tanh).get("failed_checks", []))


def test_an_op_never_answered_says_nothing_of_its_forward():
    """A hang (or a crash) leaves no answer: the forward was never judged, so it is not
    listed as failed."""
    spec = optable.op("tanh")
    group = probes.op_group(spec, random.Random(1), 5)
    outcome = Outcome(group_errors={"tanh": "after 10 s without an answer"})
    result = scoring.score_op(spec, group, outcome, load(), 2.0)
    assert "forward" not in {check.name for check in result.subchecks}
    assert not result.passed


def test_a_forward_that_cannot_be_computed_fails_the_forward():
    tanh = graded(LECTURE.replace("t = (math.exp(2*x) - 1)/(math.exp(2*x) + 1)", "t = 1/0"))
    assert {c.name: c.passed for c in tanh["tanh"].subchecks}["forward"] is False


# --- 3. the closure stored on the input -----------------------------------------------------


def test_a_closure_stored_on_the_input_is_named():
    """Before: "never updates this input's gradient"."""
    ops = graded((corpus.SUBMISSIONS / "closure_on_input.py").read_text())
    add = ops["add"]
    assert add.diagnosis.key == "closure_on_input"
    assert "store it on `out`" in said(add)
    assert ops["mul"].passed and ops["backward"].passed


def test_the_corpus_mutant_is_named_and_costs_only_its_op():
    ops = graded(corpus.mutant("add_closure_on_input").source())
    assert ops["add"].diagnosis.key == "closure_on_input"
    # and the lecture's example, which is end to end and adds
    assert {key for key, op in ops.items() if op.points < op.max_points} == \
        {"add", "reference_example"}


# --- 4. requires_grad-style flags -----------------------------------------------------------


def test_a_backward_that_skips_unflagged_values_names_the_flag():
    backward = graded((SHAPES / "requires_grad.py").read_text())["backward"]
    assert not backward.passed
    assert backward.diagnosis.key == "requires_grad_flag"
    assert ("Leaves made with `Value(x)` get no gradient: your backward() skips values whose "
            "`requires_grad` is False; in the lecture every Value gets a grad") in said(backward)


def test_closures_that_skip_unflagged_inputs_name_the_flag_not_a_missing_update():
    ops = graded((SHAPES / "requires_grad_closures.py").read_text())
    assert ops["add"].diagnosis.key == "requires_grad_flag"
    assert "your `_backward` skips inputs" in said(ops["add"])
    assert ops["mul"].passed  # its closure does not look at the flag


def test_a_flag_beside_a_right_backward_is_never_named():
    source = LECTURE.replace("self.label = label", "self.label = label\n        "
                             "self.requires_grad = False")
    assert all(op.passed for op in graded(source).values())


# --- 5. a loss that is a value ----------------------------------------------------------------


def _mlp_namespace(loss_is_a_value: bool) -> dict:
    notebook = json.loads((Path(__file__).parents[1] / "solutions" / "mlp" / "mlp.ipynb")
                          .read_text())
    namespace = {"__name__": "__main__"}
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "HIDDEN TESTS" in source or "print(" in source:
            continue
        exec(source, namespace)
    if loss_is_a_value:  # the lecture's shape: one loss, computed at the top level
        model, xs, ys = namespace["model"], namespace["xs"], namespace["ys"]
        namespace["loss"] = sum((model(x) - y) ** 2 for x, y in zip(xs, ys, strict=True))
    return namespace


def test_a_loss_that_is_a_value_is_told_what_the_task_calls():
    ops, _, _ = grade_namespace(_mlp_namespace(True), assignment=optable.MLP, seed=3)
    loss = next(op for op in ops if op.key == "loss_gradient")
    assert loss.diagnosis.key == "not_a_function"
    text = said(loss)
    assert "defines `loss` as a Value, not a function" in text
    assert "This task calls `loss(ypred, ys)`" in text and "def loss(ypred, ys):" in text


def test_a_loss_function_is_graded_as_before():
    ops, _, _ = grade_namespace(_mlp_namespace(False), assignment=optable.MLP, seed=3)
    assert all(op.passed for op in ops), [(op.key, op.error) for op in ops if not op.passed]


# --- 6. numerical derivatives ---------------------------------------------------------------

NUMERICAL = ("central", "onesided", "complex", "richardson")
GENERIC = ("tanh", "exp", "relu")  # the ops the numerical submissions differentiate generically


@pytest.mark.parametrize("variant", NUMERICAL)
def test_a_numerical_backward_is_flagged(variant):
    ops = graded((SHAPES / f"numerical_{variant}.py").read_text())
    for key in GENERIC:
        op = ops[key]
        named = op.flag if op.passed else op.diagnosis
        assert named is not None and named.key == "numerical_derivative", (key, op.diagnosis)
        assert "evaluates the forward again at " in said(op)
        assert "a numerical derivative, not the chain rule" in said(op) or \
            "a complex-step derivative, not the chain rule" in said(op)
    assert all(ops[key].flag is None for key in ops if key not in GENERIC)


@pytest.mark.parametrize("variant", NUMERICAL)
def test_numerical_zero_gives_those_ops_no_points(variant):
    zero = replace(optable.BACKPROP, numerical="zero")
    ops = graded((SHAPES / f"numerical_{variant}.py").read_text(), zero)
    for key in GENERIC:
        assert ops[key].points == 0 and not ops[key].passed
        assert "this assignment gives it no points" in said(ops[key])
    assert {key for key, op in ops.items() if op.points < op.max_points} == set(GENERIC)


def test_numerical_allow_says_nothing():
    allow = replace(optable.BACKPROP, numerical="allow")
    ops = graded((SHAPES / "numerical_central.py").read_text(), allow)
    assert all(op.passed and op.flag is None for op in ops.values())


def test_the_relu_sentence():
    relu = graded((SHAPES / "numerical_central.py").read_text())["relu"]
    assert "relu's `_backward` evaluates the forward again at x ± 1e-6" in said(relu)


SIGMOID = '''
def _sig(v):
    return 1 / (1 + math.exp(-v))


def _sigmoid(self):
    out = Value(_sig(self.data), (self,), 'sigmoid')

    def _backward():
        s = _sig(self.data)  # the forward helper again, at the same point: analytic
        self.grad += s * (1 - s) * out.grad
    out._backward = _backward
    return out


def _sigmoid_exp(self):
    out = Value(1 / (1 + math.exp(-self.data)), (self,), 'sigmoid')

    def _backward():
        x = self.data
        self.grad += math.exp(-x) / (1 + math.exp(-x)) ** 2 * out.grad
    out._backward = _backward
    return out


def _exp(self):
    out = Value(math.exp(self.data), (self,), 'exp')

    def _backward():
        self.grad += math.exp(self.data) * out.grad
    out._backward = _backward
    return out


Value.sigmoid = {sigmoid}
Value.exp = _exp
'''


@pytest.mark.parametrize("sigmoid", ["_sigmoid", "_sigmoid_exp"])
def test_analytic_closures_that_call_the_forward_at_the_same_point_are_not_flagged(sigmoid):
    extra = replace(optable.BACKPROP, points={"sigmoid": 1.0})
    ops = graded(LECTURE + SIGMOID.format(sigmoid=sigmoid), extra)
    assert ops["sigmoid"].passed and ops["exp"].passed
    assert all(op.flag is None and op.numeric is None for op in ops.values())


@pytest.mark.parametrize("path", corpus.CORRECT, ids=lambda p: p.stem)
def test_correct_submissions_are_not_flagged(path):
    for seed in (1, 2):
        ops = graded(path.read_text(), seed=seed)
        assert [key for key, op in ops.items() if op.numeric or op.flag or not op.passed] == []


def test_the_reference_engine_is_not_flagged():
    import kit.engine

    ops, _, _ = grade_namespace({"Value": kit.engine.Value}, seed=4)
    assert all(op.passed and op.flag is None for op in ops)


UNARY = '''
import cmath, math

class Value:
    def __init__(self, data, _children=()):
        self.data, self.grad, self._prev = data, 0.0, set(_children)
        self._backward = lambda: None

    def f(self):
        out = Value(math.sin(self.data), (self,))

        def _backward():
            self.grad += {derivative} * out.grad
        out._backward = _backward
        return out
'''


def _facts(derivative: str, x: float) -> dict:
    cls = namespace_of(UNARY.format(derivative=derivative))["Value"]
    case = {"id": "f/0", "kind": "op", "build": "x.f()", "leaves": {"x": x}, "consts": {},
            "pre": {"x": 0.0}, "upstream": 1.0}
    return harness.run_op(cls, case).get("numeric", {})


@given(x=st.floats(0.05, 50), h=st.floats(1e-9, 9e-4))
def test_any_nearby_step_is_seen_and_the_same_point_never(x, h):
    step = h * max(1.0, x)
    assert _facts(f"(math.sin(self.data + {step!r}) - math.sin(self.data)) / {step!r}", x)
    assert _facts(f"math.sin(self.data + {step!r}j).imag / {step!r}".replace(
        "math.sin", "cmath.sin"), x)["complex"] == 1
    assert _facts("math.cos(self.data) + 0 * math.sin(self.data)", x) == {}


def test_the_watch_puts_everything_back():
    ns = namespace_of(UNARY.format(derivative="math.cos(self.data)"))
    cls = ns["Value"]
    before = (math.sin, math.cos, cls.f, dict(vars(cls)))
    harness.run_op(cls, {"id": "f/0", "kind": "op", "build": "x.f()", "leaves": {"x": 0.7},
                         "consts": {}, "pre": {"x": 0.0}, "upstream": 1.0})
    assert (math.sin, math.cos, cls.f, dict(vars(cls))) == before
    assert harness._WATCHING[0] is None


# --- the catalogue, the protocol and the setting -------------------------------------------


def test_every_observed_mistake_is_catalogued_with_a_title_and_hint():
    keys = {m.key for m in optable.OBSERVED_MISTAKES}
    assert keys == {"wrong_forward", "closure_on_input", "numerical_derivative",
                    "requires_grad_flag", "not_a_function"}
    assert all(m.title and m.hint for m in optable.OBSERVED_MISTAKES)


def test_the_new_answer_keys_are_documented_and_parsed():
    assert {"moved", "numeric", "flags"} <= protocol.keys("answer:op")
    assert "flags" in protocol.keys("answer:backward")
    record = Record.parse({"id": "x", "moved": ["x", 3], "flags": ["requires_grad"],
                           "numeric": {"near": 2, "complex": 0, "calls": 4, "step": 1e-6,
                                       "via": "math.tanh"}})
    assert record.moved == ("x",) and record.flags == ("requires_grad",)
    assert record.numeric.near == 2 and record.numeric.step == 1e-6
    assert Record.parse({"id": "x", "numeric": {"near": "2"}}).numeric is None


def test_the_numerical_setting_is_read_checked_and_written(tmp_path):
    config = tmp_path / "a.toml"
    config.write_text('numerical = "zero"\n')
    assignment = assignments.from_file(config)
    assert assignment.numerical == "zero"
    assert assignments.from_data(assignments.to_data(assignment), "x").numerical == "zero"
    assert assignments.to_data(optable.BACKPROP)["numerical"] == "flag"
    config.write_text('numerical = "never"\n')
    with pytest.raises(assignments.ConfigError, match="numerical"):
        assignments.from_file(config)




@pytest.mark.parametrize("derivative", [
    "(Value(self.data + 1e-6).f().data - Value(self.data - 1e-6).f().data) / 2e-6",
    "(type(self)(self.data + 1e-5).f().data - out.data) / 1e-5",
    "_slope(math.sin, self.data)",
])
def test_the_forward_reached_through_the_class_or_a_helper_is_seen(derivative):
    helper = "\ndef _slope(f, x, h=1e-6):\n    return (f(x + h) - f(x - h)) / (2 * h)\n"
    cls = namespace_of(UNARY.format(derivative=derivative) + helper)["Value"]
    case = {"id": "f/0", "kind": "op", "build": "x.f()", "leaves": {"x": 0.7}, "consts": {},
            "pre": {"x": 0.0}, "upstream": 1.0}
    found = harness.run_op(cls, case)["numeric"]
    assert found["near"] >= 1


def test_a_numerical_backward_is_a_flag_the_class_layer_shows(tmp_path):
    """Graded in the sandbox, the flag reaches Result.flags (the gradebook, the dashboard and
    grades.csv show those)."""
    from graders.api import grade

    path = tmp_path / "numerical.py"
    path.write_text((SHAPES / "numerical_central.py").read_text())
    result = grade(path, seed=3)
    assert f"numerical derivative: {', '.join(GENERIC)}" in result.flags
    allow = grade(path, seed=3, assignment=replace(optable.BACKPROP, numerical="allow"))
    assert not any(flag.startswith("numerical") for flag in allow.flags)
