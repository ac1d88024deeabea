"""Group the class's wrong answers by how they behave: the same numbers at the class-wide points.

Every op (and `backward()`) is also asked at a few probe points that are the same for every
submission (`probes.class_cases`); they never count for points. A wrong op's answers there,
rounded to 6 significant digits, are digested into a cluster id such as `mul:1a2b3c4d`: two
submissions with the same wrong formula get the same id, whatever their code looks like and
whatever their own random points were, so the dashboard can show which wrong answers the class
shares even where the catalogue has no name for them. An instructor names a cluster once in the
assignment config (`[cluster."mul:1a2b3c4d"]`, graders/spec/named_clusters.py), and every member is
told its message. All of this is the parent's: the child only answered the points.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from graders.judge import graphs
from graders.judge.oracle import SHARED_MISTAKE, OpOracle
from graders.model import CLASS_ROLE as CLASS
from graders.model import (
    Case,
    Diagnosis,
    Group,
    OpResult,
    Outcome,
    answer_error,
    close,
    is_number,
)
from graders.spec.optable import Assignment, OpSpec

SIGNIFICANT = 6  # digits compared: far coarser than rounding noise, far finer than a mistake
ZERO = 1e-9  # below this a number is 0 (x - x computed two ways)


def _number(value: Any) -> str:
    if is_number(value):
        value = float(value)
        return "0" if abs(value) < ZERO else f"{value:.{SIGNIFICANT}g}"
    if isinstance(value, float):
        return str(value)  # nan, inf
    return type(value).__name__  # a string, None, a Value where a number belongs


def _error_kind(error: str) -> str:
    """The kind of failure, without its numbers: a time limit's seconds are not a behaviour."""
    return re.sub(r"\d+(\.\d+)?", "N", error.split(":", 1)[0].strip())[:60]


def _answers(spec: OpSpec, case: Case, record: Any) -> list[str]:
    if spec.kind == "op":
        return [_number(record.out), *(_number(record.grads.get(name))
                                       for name in case.payload["leaves"])]
    found = []
    for answer in record.graphs or ():  # whatever shape the child sent: it never raises here
        if isinstance(answer, dict):
            found += [f"{name}={_number(answer[name])}" for name in sorted(answer, key=str)]
        else:
            found.append("?")
    return found


def _inputs(case: Case) -> str:
    shown = case.shown_inputs()
    before = ", ".join(f"{name}.grad before {g:g}" for name, g in case.payload["pre"].items()
                       if g)
    text = ", ".join(f"{name}={value:.4g}" for name, value in shown.items())
    return f"{text}, out.grad={case.payload['upstream']:.4g}" + (f", {before}" if before else "")


def _op_evidence(case: Case, record: Any, own: OpOracle) -> str | None:
    """The first wrong number at one class-wide point, with what it should be; None if right."""
    for name in case.payload["leaves"]:
        g, u = case.payload["pre"][name], case.payload["upstream"]
        local = own.derivative[name](**case.values)
        got = record.grads.get(name)
        if not close(got, g + u * local, scale=abs(g) + abs(u * local)):
            return f"at {_inputs(case)}: {name}.grad = {_number(got)}, right: " \
                   f"{_number(g + u * local)}"
    return None


def _reuse_evidence(case: Case, record: Any, own: OpOracle) -> str | None:
    if own.reuse_derivative is None:
        return None
    g, u = case.payload["pre"]["x"], case.payload["upstream"]
    expected = g + u * own.reuse_derivative(**case.values)
    got = record.grads.get("x")
    if close(got, expected, scale=abs(g) + abs(expected)):
        return None
    return f"{case.payload['build']} at x={case.values['x']:.4g}: x.grad = {_number(got)}, " \
           f"right: {_number(expected)}"


def _graph_evidence(case: Case, record: Any) -> str | None:
    for graph, answer in zip(case.payload["graphs"], record.graphs or (), strict=False):
        for name, exact in graphs.exact(graph).items():
            got = answer.get(name) if isinstance(answer, dict) else None
            if not close(got, float(exact), scale=1.0):
                return f"on the {graph['name']} graph: {name}.grad = {_number(got)}, right: " \
                       f"{_number(float(exact))}"
    return None


def _evidence(spec: OpSpec, case: Case, record: Any, own: OpOracle | None) -> str | None:
    if spec.kind != "op":
        return _graph_evidence(case, record)
    if own is None:
        return None
    reuse = bool(spec.reuse) and case.payload["build"] == spec.reuse
    value = own.reuse_value if reuse else own.value
    if value is not None and not close(record.out, value(**case.values)):
        return f"at {_inputs(case)}: the forward value is {_number(record.out)}, right: " \
               f"{_number(value(**case.values))}"
    return _reuse_evidence(case, record, own) if reuse else _op_evidence(case, record, own)


def _raised_evidence(spec: OpSpec, case: Case, kind: str, own: OpOracle | None) -> str:
    """A raising answer in words, with the number it should have been (every cluster's
    evidence names the right answer beside the wrong one)."""
    if spec.kind != "op":
        for graph in case.payload.get("graphs", ()):
            for name, exact in graphs.exact(graph).items():
                return f"on the {graph['name']} graph: raises {kind}, right: {name}.grad = " \
                       f"{_number(float(exact))}"
        return f"raises {kind}"
    if own is None:
        return f"raises {kind}"
    reuse = bool(spec.reuse) and case.payload["build"] == spec.reuse
    name = "x" if reuse else next(iter(case.payload["leaves"]), None)
    if name is None:
        return f"raises {kind}"
    g, u = case.payload["pre"][name], case.payload["upstream"]
    local = own.reuse_derivative if reuse else own.derivative[name]
    if local is None:
        return f"raises {kind}"
    return f"at {_inputs(case)}: raises {kind}, right: {name}.grad = " \
           f"{_number(g + u * local(**case.values))}"


def signature(spec: OpSpec, group: Group, outcome: Outcome,
              own: OpOracle | None) -> tuple[str, str] | None:
    """(cluster id, one wrong number in words) of a wrong op's answers at the class-wide
    points; None when it has none or is right at every one of them (it is wrong only at its
    own points: no behaviour to group by)."""
    cases = [case for case in group.cases if case.role == CLASS]
    if not any(case.id in outcome.records for case in cases):
        return None  # never asked, or no answer came back: nothing to group by
    group_error = outcome.group_errors.get(group.key)
    parts, evidence = [], None
    for case in cases:
        record = outcome.records.get(case.id)
        error = answer_error(record, group_error)
        if error:
            parts.append(["raised", _error_kind(error)])
            evidence = evidence or _raised_evidence(spec, case, _error_kind(error), own)
            continue
        parts.append(_answers(spec, case, record))
        evidence = evidence or _evidence(spec, case, record, own)
    if evidence is None:
        return None
    digest = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:8]
    return f"{spec.key}:{digest}", evidence


def assign(result: OpResult, spec: OpSpec, group: Group, outcome: Outcome,
           own: OpOracle | None, assignment: Assignment) -> None:
    """Give a wrong op its cluster id and, when the instructor named that cluster, its
    message (before any catalogued diagnosis, which is kept beside it)."""
    found = signature(spec, group, outcome, own)
    if found is None:
        return
    result.cluster, result.cluster_evidence = found
    if spec.kind == "backward" and result.diagnosis:
        # A wrong traversal's numbers depend on the order a set of children iterates in (ids,
        # so memory addresses): the same code differs run to run. The diagnosis replays every
        # child order on the exact graphs, so it is what the behaviour is grouped by.
        digest = hashlib.sha256(result.diagnosis.key.encode()).hexdigest()[:8]
        result.cluster = f"{spec.key}:{digest}"
    named = next((c for c in assignment.clusters if c.id == result.cluster), None)
    if named is None or (result.diagnosis and result.diagnosis.key == named.key):
        return
    earlier = result.diagnosis
    result.diagnosis = Diagnosis(named.key, named.title or SHARED_MISTAKE, named.message,
                                 inputs=list(earlier.inputs) if earlier else [],
                                 more=[earlier] if earlier else [])
