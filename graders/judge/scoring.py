"""Judge the child's numbers against the oracle, op by op, and give points by sub-check.

Only plain numbers from the child are used, and a check passes only if a complete, finite,
numeric record came back for it (fail closed). Tolerances are stated here once and printed in
reports: a gradient passes when |got - exact| <= ATOL + RTOL * scale, where scale is the size of
the largest term that went into it, so that equivalent formulas with different rounding pass and
wrong formulas (off by O(1)) fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from graders.judge import diagnosis
from graders.judge.oracle import OpOracle, Oracle
from graders.judge.probes import Case, Group
from graders.run.session import Outcome
from graders.spec import optable
from graders.spec.optable import Assignment

RTOL = 1e-9
ATOL = 1e-12
FD_RTOL = 1e-5
FD_ATOL = 1e-6
SUBCHECK_WEIGHTS = {"forward": 1.0, "gradient": 2.0, "accumulate": 1.0, "reuse": 1.0}
SUBCHECK_TITLES = {
    "forward": "forward value",
    "gradient": "gradient × out.grad (also out.grad = 0)",
    "accumulate": "accumulates into an existing grad (+=)",
    "reuse": "a node used twice (x op x)",
    "diamond": "diamond graph",
    "seed": "root grad seeded with 1.0",
    "chain": "10,000-deep chain",
    "repeat": "second graph, then first again after zero_grad",
    "lecture": "prints 24.7041, 138.8338, 645.5773",
    "random": "same expression at random inputs",
    "runs": "not graded: the submission could not be run (see above)",
}


@dataclass
class Probe:
    """One failing (or diagnostic) evaluation, in the terms a student can act on."""

    case: str
    input: str | None
    inputs: dict[str, float]
    upstream: float | None
    pre: float | None
    expected: float | None
    got: Any
    finite_difference: float | None = None
    error: str | None = None
    where: tuple[int, int] | None = None


@dataclass
class SubCheck:
    name: str
    weight: float
    passed: bool
    detail: str = ""

    @property
    def title(self) -> str:
        return SUBCHECK_TITLES.get(self.name, self.name)


@dataclass
class OpResult:
    """The verdict on one op: points, sub-checks, and what to tell the student."""

    key: str
    task: str
    title: str
    max_points: float
    points: float = 0.0
    subchecks: list[SubCheck] = field(default_factory=list)
    failures: list[Probe] = field(default_factory=list)
    diagnosis: dict[str, str] | None = None  # {"key", "hint", "input", "formula"}
    root_cause: str | None = None
    error: str | None = None
    formula: dict[str, str] = field(default_factory=dict)  # input -> text of d/d(input)
    latex: dict[str, str] = field(default_factory=dict)
    fd_findings: list[str] = field(default_factory=list)
    optional: bool = False
    graph_size: int = 0  # nodes the op's graph had besides its inputs (>1: built from others)
    hidden: bool = False  # a hidden check: students see only its name and verdict

    @property
    def passed(self) -> bool:
        return bool(self.subchecks) and all(s.passed for s in self.subchecks)

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"


def is_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def close(got: Any, expected: float, scale: float = 0.0, rtol: float = RTOL,
          atol: float = ATOL) -> bool:
    """Positive form, so NaN and non-numbers fail: |got - expected| <= atol + rtol*scale."""
    if not is_number(got):
        return False
    return abs(got - expected) <= atol + rtol * max(abs(expected), scale)


def _case_error(record: dict | None, group_error: str | None) -> str | None:
    if record is None:
        return group_error or "no answer came back for this check"
    if "error" in record:
        return str(record["error"])[:400]
    return None


def _where(record: dict | None) -> tuple[int, int] | None:
    if record and isinstance(record.get("cell"), int) and isinstance(record.get("line"), int):
        return record["cell"], record["line"]
    return None


def score_op(key: str, group: Group, outcome: Outcome, oracle: OpOracle,
             max_points: float) -> OpResult:
    spec = optable.op(key)
    result = OpResult(key, spec.task, spec.title, max_points, optional=spec.optional,
                      formula={n: d.text for n, d in oracle.derivative.items()},
                      latex={n: d.latex for n, d in oracle.derivative.items()})
    group_error = outcome.group_errors.get(key)
    passed = {name: True for name in ("forward", "gradient", "accumulate")}
    if spec.reuse:
        passed["reuse"] = True
    observed: dict[str, list[tuple[Case, Any]]] = {}
    for case in group.cases:
        record = outcome.records.get(case.id)
        error = _case_error(record, group_error)
        role = "gradient" if case.role == "upstream_zero" else case.role
        symbols = dict(case.values)
        if error:
            passed["forward"] = False
            passed[role] = False
            result.error = result.error or error
            result.failures.append(Probe(case.id, None, case.payload["leaves"],
                                         case.payload["upstream"], None, None, None,
                                         error=error, where=_where(record)))
            continue
        if isinstance(record.get("ops"), list):
            result.graph_size = max(result.graph_size, len(record["ops"]))
        if case.role == "reuse":
            expected_out = oracle.reuse_value(**symbols)
        else:
            expected_out = oracle.value(**symbols)
        if not close(record.get("out"), expected_out):
            passed["forward"] = False
            result.failures.append(Probe(case.id, "out", case.payload["leaves"], None, None,
                                         expected_out, record.get("out")))
        grads = record.get("grads") if isinstance(record.get("grads"), dict) else {}
        for name in case.payload["leaves"]:
            u = case.payload["upstream"]
            g = case.payload["pre"][name]
            local = (oracle.reuse_derivative if case.role == "reuse"
                     else oracle.derivative[name])(**symbols)
            expected = g + u * local
            got = grads.get(name)
            if case.role != "reuse" and is_number(got):
                observed.setdefault(name, []).append((case, got))
            if close(got, expected, scale=abs(g) + abs(u * local)):
                continue
            passed[role] = False
            probe = Probe(case.id, name, case.payload["leaves"], u, g, expected, got)
            fd = (record.get("fd") or {}).get(name)
            if isinstance(fd, list) and len(fd) == 2 and all(is_number(v) for v in fd):
                step = case.payload["fd"][name]
                probe.finite_difference = u * (fd[0] - fd[1]) / (2 * step) + g
            result.failures.append(probe)
        _check_fd(result, case, record, oracle)
    weights = {name: SUBCHECK_WEIGHTS[name] for name in passed}
    result.subchecks = [SubCheck(name, weights[name], ok) for name, ok in passed.items()]
    total = sum(weights.values())
    earned = sum(weights[name] for name, ok in passed.items() if ok)
    result.points = round(max_points * earned / total, 4)
    result.diagnosis = diagnose(oracle, observed)
    if result.diagnosis is None and not passed.get("reuse", True) and passed["accumulate"]:
        result.diagnosis = dict(diagnosis.REUSE_OVERWRITES)
    return result


def _check_fd(result: OpResult, case: Case, record: dict, oracle: OpOracle) -> None:
    """Finite differences of the student's own forward: a second opinion beside sympy."""
    for name, pair in (record.get("fd") or {}).items():
        if name not in oracle.derivative or not isinstance(pair, list) or len(pair) != 2:
            continue
        if not all(is_number(v) for v in pair):
            continue
        step = case.payload["fd"][name]
        slope = (pair[0] - pair[1]) / (2 * step)
        exact = oracle.derivative[name](**case.values)
        if not close(slope, exact, rtol=FD_RTOL, atol=FD_ATOL):
            result.fd_findings.append(
                f"at {name}={case.values[name]:.6g} the slope of your forward pass is "
                f"{slope:.6g} but sympy's derivative is {exact:.6g}: "
                "the forward value itself is off")


def diagnose(oracle: OpOracle, observed: dict[str, list[tuple[Case, Any]]]) -> dict | None:
    """Name the catalogued mistake that reproduces every observed gradient of a wrong input
    (see graders/judge/diagnosis.py); None when nothing in the catalogue explains them all."""
    return diagnosis.diagnose_op(oracle, observed)


# --- backward() on graphs with the grader's closures -----------------------------------------


def exact_graph(spec: dict) -> tuple[dict[str, Fraction], list[str]]:
    """Exact reverse-mode gradients (rationals) of a graph made of + and * nodes."""
    if "chain" in spec:
        return {"x": Fraction(spec["chain"] + 1)}, ["x"]
    data: dict[str, Fraction] = {}
    parents: list[tuple[str, str, str, str]] = []
    for item in spec["nodes"]:
        name, op = item[0], item[1]
        if op == "leaf":
            data[name] = Fraction(item[2])
        else:
            a, b = data[item[2]], data[item[3]]
            data[name] = a + b if op == "+" else a * b
            parents.append((name, op, item[2], item[3]))
    grads = {name: Fraction(0) for name in data}
    grads[spec["root"]] = Fraction(1)
    for name, op, a, b in reversed(parents):
        upstream = grads[name]
        grads[a] += upstream if op == "+" else data[b] * upstream
        grads[b] += upstream if op == "+" else data[a] * upstream
    return grads, list(data)


def score_backward(group: Group, outcome: Outcome, max_points: float) -> OpResult:
    spec = optable.BACKWARD
    result = OpResult(spec.key, spec.task, spec.title, max_points)
    group_error = outcome.group_errors.get(spec.key)
    weights = {check.key: check.weight for check in optable.BACKWARD_GRAPHS}
    hints = {check.key: check.hint for check in optable.BACKWARD_GRAPHS}
    for case in group.cases:
        record = outcome.records.get(case.id)
        error = _case_error(record, group_error)
        ok = error is None
        if ok:
            answers = record.get("graphs")
            if not isinstance(answers, list) or len(answers) != len(case.payload["graphs"]):
                ok, error = False, "incomplete answer"
            else:
                for graph, answer in zip(case.payload["graphs"], answers, strict=True):
                    exact, names = exact_graph(graph)
                    for name in graph.get("report", names):
                        got = answer.get(name) if isinstance(answer, dict) else None
                        if not close(got, float(exact[name]), scale=1.0):
                            ok = False
                            result.failures.append(Probe(
                                case.id, name, {}, None, None, float(exact[name]), got))
        if error:
            result.error = result.error or error
            result.failures.append(Probe(case.id, None, {}, None, None, None, None,
                                         error=error, where=_where(record)))
        result.subchecks.append(SubCheck(case.role, weights[case.role], ok,
                                         "" if ok else hints[case.role]))
    total = sum(s.weight for s in result.subchecks)
    earned = sum(s.weight for s in result.subchecks if s.passed)
    result.points = round(max_points * earned / total, 4) if total else 0.0
    if not result.passed:
        result.diagnosis = diagnosis.diagnose_backward(
            group.cases, [outcome.records.get(case.id) for case in group.cases])
    return result


def score_reference(group: Group, outcome: Outcome, oracle: Oracle,
                    max_points: float) -> OpResult:
    spec = optable.REFERENCE
    reference = oracle.reference
    result = OpResult(spec.key, spec.task, spec.title, max_points)
    group_error = outcome.group_errors.get(spec.key)
    passed = {"lecture": True, "random": True}
    for case in group.cases:
        record = outcome.records.get(case.id)
        error = _case_error(record, group_error)
        if error:
            passed[case.role] = False
            result.error = result.error or error
            result.failures.append(Probe(case.id, None, case.values, None, None, None, None,
                                         error=error, where=_where(record)))
            continue
        a, b = case.values["a"], case.values["b"]
        expected = {"g": reference.value(a=a, b=b),
                    "a.grad": reference.derivative["a"](a=a, b=b),
                    "b.grad": reference.derivative["b"](a=a, b=b)}
        for name, value in expected.items():
            got = record.get(name)
            ok = close(got, value, scale=abs(value))
            if case.role == "lecture":
                printed = f"{float(reference.exact_fraction(name)):.4f}"
                ok = ok and is_number(got) and f"{got:.4f}" == printed
                value = float(reference.exact_fraction(name))
            if not ok:
                passed[case.role] = False
                result.failures.append(Probe(case.id, name, case.values, None, None,
                                             value, got))
    result.subchecks = [SubCheck(name, 1.0, ok) for name, ok in passed.items()]
    result.points = round(max_points * sum(ok for ok in passed.values()) / len(passed), 4)
    return result


def score(assignment: Assignment, groups: list[Group], outcome: Outcome,
          oracle: Oracle) -> list[OpResult]:
    """One result per graded op, in the assignment's order, with root causes linked."""
    methods = set((outcome.loaded or {}).get("value", {}).get("methods", []))
    results = []
    for group in groups:
        spec = optable.op(group.key)
        points = assignment.points_for(group.key)
        if spec.optional:
            if spec.requires and spec.requires not in methods:
                continue
            points = float(assignment.points.get(group.key, 0.0))
        if group.key == "backward":
            results.append(score_backward(group, outcome, points))
        elif group.key == "reference_example":
            results.append(score_reference(group, outcome, oracle, points))
        else:
            results.append(score_op(group.key, group, outcome, oracle.ops[group.key], points))
    for result in results:
        result.hidden = result.key in assignment.hidden
    _link_root_causes(results)
    return results


def _link_root_causes(results: list[OpResult]) -> None:
    by_key = {result.key: result for result in results}
    for result in results:
        if result.passed:
            continue
        if result.key == "reference_example":
            broken = [r.key for r in results if not r.passed and r.key not in
                      ("reference_example", "log", "sigmoid", "tanh", "exp")]
            if broken:
                result.root_cause = ", ".join(broken)
            continue
        spec = optable.op(result.key)
        composite = result.graph_size > 1
        for primitive in spec.built_from:
            other = by_key.get(primitive)
            if other is not None and not other.passed and composite:
                result.root_cause = primitive
                break


def unscored(assignment: Assignment, reason: str) -> list[OpResult]:
    """Zero-point rows for every op, so a submission that could not run still has each column."""
    results = []
    for key in assignment.ops:
        spec = optable.op(key)
        if spec.optional:
            continue
        result = OpResult(key, spec.task, spec.title, assignment.points_for(key), error=reason)
        result.subchecks = [SubCheck("runs", 1.0, False)]
        results.append(result)
    return results
