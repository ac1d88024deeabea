"""Judge the child's numbers against the oracle, op by op, and give points by sub-check.

Only plain numbers from the child are used, and a check passes only if a complete, finite,
numeric record came back for it (fail closed). The tolerance (`graders.model.close`) is stated
once and printed in reports: a gradient passes when |got - exact| <= ATOL + RTOL * scale, where
scale is the size of the largest term that went into it, so that equivalent formulas with
different rounding pass and wrong formulas (off by O(1)) fail.

Each kind of check in the table (`OpSpec.kind`) has one scorer in `SCORERS`, as it has one
planner in `probes.PLANNERS` and one runner in the child's `harness.RUNNERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from graders.judge import clusters, diagnosis, graphs, programs
from graders.judge.oracle import OpOracle, Oracle
from graders.model import (
    CLASS_SUFFIX,
    FD_ATOL,
    FD_RTOL,
    REFERENCE_SUFFIX,
    Case,
    Diagnosis,
    Group,
    Numeric,
    OpResult,
    Outcome,
    Probe,
    Record,
    SubCheck,
    answer_error,
    close,
    is_number,
)
from graders.spec import optable
from graders.spec.optable import Assignment, OpSpec

OP_WEIGHTS = {check.key: check.weight for check in optable.OP_SUBCHECKS}


def _error_probe(case: Case, record: Record | None, error: str,
                 inputs: dict[str, float] | None = None) -> Probe:
    upstream = case.payload.get("upstream") if case.kind == "op" else None
    return Probe(case.id, None, case.shown_inputs() if inputs is None else inputs,
                 upstream, None, None, None, error=error,
                 where=record.where if record else None, answered=record is not None)


def _points(max_points: float, subchecks: list[SubCheck]) -> float:
    total = sum(s.weight for s in subchecks)
    earned = sum(s.weight for s in subchecks if s.passed)
    return round(max_points * earned / total, 4) if total else 0.0


# --- single ops -----------------------------------------------------------------------------


def _check_forward(result: OpResult, case: Case, record: Record, oracle: OpOracle) -> bool:
    reuse = case.role == "reuse"
    expected = (oracle.reuse_value if reuse else oracle.value)(**case.values)
    if close(record.out, expected):
        return True
    result.failures.append(Probe(case.id, "out", case.shown_inputs(), None, None,
                                 expected, record.out))
    return False


def _check_gradient(result: OpResult, case: Case, record: Record, oracle: OpOracle,
                    name: str) -> bool:
    """One input's grad against g + u * (local derivative), with the FD slope if it failed."""
    u, g = case.payload["upstream"], case.payload["pre"][name]
    local = (oracle.reuse_derivative if case.role == "reuse"
             else oracle.derivative[name])(**case.values)
    expected = g + u * local
    got = record.grads.get(name)
    if close(got, expected, scale=abs(g) + abs(u * local)):
        return True
    probe = Probe(case.id, name, case.shown_inputs(), u, g, expected, got)
    if name in record.fd and name in case.payload.get("fd", {}):
        plus, minus = record.fd[name]
        probe.finite_difference = u * (plus - minus) / (2 * case.payload["fd"][name]) + g
    result.failures.append(probe)
    return False


def score_op(spec: OpSpec, group: Group, outcome: Outcome, oracle: Oracle,
             max_points: float, *, diagnose: bool = True) -> OpResult:
    """Forward, gradient, accumulation and reuse sub-checks over every probe of one op (or,
    for `group` of the reference primitives, of the op's own code); `diagnose=False` names
    no mistake (`passes`)."""
    own = oracle.ops[spec.key]
    result = OpResult(spec.key, spec.task, spec.title, max_points, optional=spec.optional,
                      formula={n: d.text for n, d in own.derivative.items()},
                      latex={n: d.latex for n, d in own.derivative.items()},
                      mathml={n: d.mathml for n, d in own.derivative.items()})
    group_error = outcome.group_errors.get(group.key)
    passed = {name: True for name in ("forward", "gradient", "accumulate")}
    if any(case.role == "reuse" for case in group.cases):  # not on a declared op's kink
        passed["reuse"] = True
    observed: dict[str, list[tuple[Case, Any]]] = {}
    reuse_changes = False  # does any reuse probe expect the gradient to change at all?
    forward_judged = False  # a forward value came back and was compared
    moved: list[str] = []
    flags: list[str] = []
    numeric: list[Numeric] = []
    answered = 0
    for case in group.cases:
        record = outcome.records.get(case.id)
        role = "gradient" if case.role == "upstream_zero" else case.role
        error = answer_error(record, group_error)
        if record is not None:
            answered += 1
            moved += [name for name in record.moved if name not in moved]
            flags += [name for name in record.flags if name not in flags]
            if record.numeric is not None:
                numeric.append(record.numeric)
        if error:
            # The forward fails only when its value was wrong or could not be computed: a
            # forward that came back before the closures raised is judged as any other, and
            # a stub's (NotImplementedError before any value) is not judged: nothing was
            # written to judge (it weighs nothing either way).
            if record is not None and record.out is not None:
                forward_judged = True
                passed["forward"] &= _check_forward(result, case, record, own)
            elif record is not None and not error.startswith("NotImplementedError"):
                forward_judged = True
                passed["forward"] = False
            passed[role] = False
            result.error = result.error or error
            result.failures.append(_error_probe(case, record, error))
            continue
        forward_judged = True
        if case.role == "reuse":
            reuse_changes |= own.reuse_derivative(**case.values) != 0
        passed["forward"] &= _check_forward(result, case, record, own)
        for name in case.payload["leaves"]:
            got = record.grads.get(name)
            if case.role != "reuse" and is_number(got):
                observed.setdefault(name, []).append((case, got))
            passed[role] &= _check_gradient(result, case, record, own, name)
        _check_fd(result, case, record, own)
    if "reuse" in passed and not reuse_changes:
        # x - x, x / x: the right answer is "no change", which doing nothing also gives; it
        # counts only together with the op's own gradient.
        passed["reuse"] = passed["reuse"] and passed["gradient"]
    if not forward_judged:  # no value came back (a stub, a hang): the forward was never judged
        del passed["forward"]
    result.subchecks = [SubCheck(name, OP_WEIGHTS[name], ok) for name, ok in passed.items()]
    result.points = _points(max_points, result.subchecks)
    if not diagnose:
        return result
    result.diagnosis = _diagnose(own, passed, result, observed, moved, flags)
    if 2 * len(numeric) > answered > 0:  # most probes: a pattern, not one coincidence
        result.numeric = max(numeric, key=lambda found: (found.complex, found.near))
    return result


def _diagnose(own: OpOracle, passed: dict[str, bool], result: OpResult,
              observed: dict[str, list[tuple[Case, Any]]], moved: list[str],
              flags: list[str]) -> Diagnosis | None:
    """The forward first (gradients of a wrong function name no gradient mistake), then a
    closure stored on the input, then the catalogue's formulas (an input never updated beside
    a `requires_grad` flag False on plain values: the flag), then a lost reuse."""
    if result.passed:
        return None
    forward = next((p for p in result.failures if p.input == "out" and p.error is None), None)
    if not passed.get("forward", True) and forward is not None:
        return diagnosis.wrong_forward(forward)
    if moved:
        return diagnosis.closure_on_input(moved)
    found = diagnosis.diagnose_op(own, observed)
    if flags and (found is None or found.key == "not_updated"):
        return diagnosis.requires_grad_flag(flags[0], in_backward=False)
    if found is None and not passed.get("reuse", True) and passed["accumulate"]:
        found = diagnosis.reuse_overwrites()
    return found


def apply_numerical(result: OpResult, assignment: Assignment) -> None:
    """The assignment's `numerical` rule for an op whose closures evaluated the forward again
    near the input: named (points kept), no points, or nothing said."""
    if result.numeric is None or assignment.numerical == "allow":
        result.numeric = None
        return
    zero = assignment.numerical == "zero"
    found = diagnosis.numerical_derivative(result.key, result.numeric, zero)
    if zero:
        result.subchecks.append(SubCheck("analytic", 0.0, False, found.hint))
        result.points = 0.0
        if result.diagnosis is None:
            result.diagnosis = found
    elif not result.passed and result.diagnosis is None:
        result.diagnosis = found  # what made it inexact (a one-sided difference)
    else:
        result.flag = found


def _check_fd(result: OpResult, case: Case, record: Record, oracle: OpOracle) -> None:
    """Finite differences of the student's own forward: a second opinion beside sympy."""
    for name, (plus, minus) in record.fd.items():
        if name not in oracle.derivative or name not in case.payload.get("fd", {}):
            continue
        step = case.payload["fd"][name]
        slope = (plus - minus) / (2 * step)
        exact = oracle.derivative[name](**case.values)
        if not close(slope, exact, rtol=FD_RTOL, atol=FD_ATOL):
            result.fd_findings.append(
                f"at {name}={case.values[name]:.6g} the slope of your forward pass is "
                f"{slope:.6g} but sympy's derivative is {exact:.6g}: "
                "the forward value itself is off")


# --- backward() on graphs with the grader's closures -----------------------------------------


def _check_graphs(result: OpResult, case: Case, record: Record) -> str | None:
    """Every reported grad of every graph of one case; an error text if the answer is unusable."""
    answers = record.graphs
    if answers is None or len(answers) != len(case.payload["graphs"]):
        return "incomplete answer"
    ok = True
    for graph, answer in zip(case.payload["graphs"], answers, strict=True):
        for name, exact in graphs.exact(graph).items():
            got = answer.get(name) if isinstance(answer, dict) else None
            if not close(got, float(exact), scale=1.0):
                ok = False
                result.failures.append(Probe(case.id, name, {}, None, None, float(exact), got))
    return None if ok else ""


def score_backward(spec: OpSpec, group: Group, outcome: Outcome, oracle: Oracle,
                   max_points: float, *, diagnose: bool = True) -> OpResult:
    """One sub-check per graph check of the table; a wrong one carries that check's hint
    (`diagnose=False`: and no mistake is named)."""
    result = OpResult(spec.key, spec.task, spec.title, max_points)
    group_error = outcome.group_errors.get(group.key)
    checks = {check.key: check for check in optable.BACKWARD_GRAPHS}
    unanswered = 0
    cases = group.cases
    for case in cases:
        record = outcome.records.get(case.id)
        error = answer_error(record, group_error)
        if error is None:
            error = _check_graphs(result, case, record)
        unanswered += record is None
        if error and unanswered > 1:  # the graphs after the one the time ran out on
            result.subchecks.append(SubCheck(case.role, checks[case.role].weight, False,
                                             "not checked: no time was left after the graph "
                                             "before it"))
            continue
        if error:
            result.error = result.error or error
            result.failures.append(_error_probe(case, record, error, inputs={}))
        check = checks[case.role]
        ok = error is None
        result.subchecks.append(SubCheck(case.role, check.weight, ok, "" if ok else check.hint))
    result.points = _points(max_points, result.subchecks)
    if not result.passed and diagnose:
        records = [outcome.records.get(case.id) for case in cases]
        result.diagnosis = diagnosis.diagnose_backward(cases, records)
        flags = [name for record in records if record is not None for name in record.flags]
        if result.diagnosis is None and flags and _nothing_ran(records):
            result.diagnosis = diagnosis.requires_grad_flag(flags[0], in_backward=True)
    return result


def _nothing_ran(records: list[Record | None]) -> bool:
    """Every reported grad of every answered graph is 0 (or the root's seed, 1): no closure
    ran at all, as when backward() skips every value whose flag is False."""
    values = [value for record in records if record is not None and record.graphs
              for graph in record.graphs if isinstance(graph, dict) for value in graph.values()]
    return bool(values) and all(value in (0, 1) and is_number(value) for value in values)


def score_reference(spec: OpSpec, group: Group, outcome: Outcome, oracle: Oracle,
                    max_points: float) -> OpResult:
    """The lecture's program, run end to end with the student's own ops and backward(), must
    print the numbers sympy derives (24.7041, 138.8338, 645.5773) and give the same
    expression's values at random inputs; a failing print is shown next to the lecture's."""
    reference = oracle.reference
    result = OpResult(spec.key, spec.task, spec.title, max_points)
    group_error = outcome.group_errors.get(group.key)
    weights = {check.key: check.weight for check in optable.REFERENCE_SUBCHECKS}
    passed = dict.fromkeys(weights, True)
    details = dict.fromkeys(weights, "")
    for case in group.cases:
        record = outcome.records.get(case.id)
        error = answer_error(record, group_error)
        if error:
            passed[case.role] = False
            result.error = result.error or error
            result.failures.append(_error_probe(case, record, error, inputs=case.values))
            continue
        a, b = case.values["a"], case.values["b"]
        expected = {"g": reference.value(a=a, b=b),
                    "a.grad": reference.derivative["a"](a=a, b=b),
                    "b.grad": reference.derivative["b"](a=a, b=b)}
        printed, lecture = [], []
        for name, value in expected.items():
            got = record.values.get(name)
            ok = close(got, value, scale=abs(value))
            if case.role == "lecture":
                value = float(reference.exact_fraction(name))
                lecture.append(f"{name} {value:.4f}")
                printed.append(f"{name} {got:.4f}" if is_number(got) else f"{name} {got!r:.20}")
                ok = ok and is_number(got) and f"{got:.4f}" == f"{value:.4f}"
            if not ok:
                passed[case.role] = False
                shown = "g.data" if name == "g" else name  # the output's value, not a grad
                result.failures.append(Probe(case.id, shown, case.values, None, None,
                                             value, got))
        if case.role == "lecture" and not passed["lecture"]:
            details["lecture"] = (f"your class prints {', '.join(printed)}; the lecture's "
                                  f"prints {', '.join(lecture)}")
    if passed["lecture"] and not passed["random"]:
        # Printing the lecture's numbers counts only with the same expression right elsewhere:
        # an answer for the one famous input is not the student's class computing it.
        passed["lecture"] = False
        details["lecture"] = ("prints the lecture's numbers at a = -4, b = 2 but not the same "
                              "expression's values at other inputs")
    result.subchecks = [SubCheck(name, weights[name], ok, "" if ok else details[name])
                        for name, ok in passed.items()]
    result.points = _points(max_points, result.subchecks)
    return result


Scorer = Callable[[OpSpec, Group, Outcome, Oracle, float], OpResult]
SCORERS: dict[str, Scorer] = {"op": score_op, "backward": score_backward,
                              "reference": score_reference, "task": programs.score}


def passes(spec: OpSpec, group: Group, outcome: Outcome, oracle: Oracle) -> bool:
    """Whether an op's (or `backward`'s) group passes every check, naming no mistake: what
    the wrong-line search (judge/edits.py) asks of each edited variant, where naming the
    mistake would be most of the cost."""
    scorer = score_backward if spec.kind == "backward" else score_op
    return scorer(spec, group, outcome, oracle, 1.0, diagnose=False).passed


def score(assignment: Assignment, groups: list[Group], outcome: Outcome,
          oracle: Oracle) -> list[OpResult]:
    """One result per graded op, in the assignment's order, with root causes linked under the
    assignment's credit rule (optable.CREDIT_RULES)."""
    methods = set(outcome.loaded.value.methods) if outcome.loaded else set()
    results = []
    again = {g.key.removesuffix(REFERENCE_SUFFIX): g for g in groups
             if g.key.endswith(REFERENCE_SUFFIX)}
    shared = {g.key.removesuffix(CLASS_SUFFIX): g for g in groups
              if g.key.endswith(CLASS_SUFFIX)}
    own = {g.key: g for g in groups if not g.key.endswith((REFERENCE_SUFFIX, CLASS_SUFFIX))}
    for group in own.values():
        spec = assignment.op(group.key)
        points = assignment.points_for(group.key)
        if spec.kind == "op" and not spec.optional and outcome.loaded is not None \
                and spec.method not in methods:  # an op the class lacks: nothing to check
            results.append(_not_defined(spec, points, assignment))
            continue
        if spec.optional:
            points = float(assignment.points.get(group.key, 0.0))
            if spec.method not in methods:
                if points <= 0:
                    continue  # an extra the assignment does not grade
                results.append(_not_defined(spec, points, assignment))
                continue  # worth points: missing costs them (the maximum is the assignment's)
        result = SCORERS[spec.kind](spec, group, outcome, oracle, points)
        result.hidden = result.key in assignment.hidden
        results.append(result)
    place = {key: index for index, key in enumerate(assignment.ops)}
    results.sort(key=lambda result: place[result.key])  # asked in checking order, shown so
    by_key = {result.key: result for result in results}
    for result in results:
        result.hidden_ops = frozenset(assignment.hidden)
        spec = assignment.op(result.key)
        if spec.kind != "op":
            continue
        if assignment.credit == "own-code":
            _name_what_it_calls(result, own[result.key], outcome, by_key)
        elif not result.passed and result.key in again:
            _find_root_cause(result, again[result.key], outcome, oracle, assignment, by_key)
    if optable.BACKWARD.key in by_key and by_key[optable.BACKWARD.key].passed:
        for result in results:
            if assignment.op(result.key).kind == "op" and result.key in own:
                _check_own_backward(result, own[result.key], outcome,
                                    assignment.op(result.key).build)
    _link_reference_example(results)
    for result in results:
        ran = [check.name for check in result.subchecks] != ["runs"]  # not "not defined"
        if not result.passed and ran and result.key in shared:
            clusters.assign(result, assignment.op(result.key), shared[result.key], outcome,
                            oracle.ops.get(result.key), assignment)
        apply_numerical(result, assignment)  # last: a credit above cannot undo "zero"
    return results


def _check_own_backward(result: OpResult, group: Group, outcome: Outcome, build: str) -> None:
    """The student's backward() works on the grader's graphs but raises on the node this op
    makes (`x ** k` keeping k, a plain number, among its children): in the student's own
    programs no gradient gets through this op, so its gradient sub-check fails."""
    error = next((record.own_backward for case in group.cases
                  if (record := outcome.records.get(case.id)) and record.own_backward), None)
    if error is None:
        return
    for check in result.subchecks:
        if check.name == "gradient":
            check.passed = False
    result.points = _points(result.max_points, result.subchecks)
    result.error = result.error or (
        f"{error} in your backward(), run on the node `{build}` makes (it "
        "works on other graphs): every child a node keeps must be a Value backward() can walk")
    result.failures.insert(0, Probe(group.cases[0].id, None, group.cases[0].shown_inputs(),
                                    None, None, None, None, error=result.error,
                                    answered=True))


def _called(group: Group, outcome: Outcome) -> set[str]:
    """The grader's ops that stood in during `group`'s checks: the ops its code called."""
    called: set[str] = set()
    for case in group.cases:
        record = outcome.records.get(case.id)
        if record is not None:
            called |= record.stood_in
    return called


def _broken(keys: set[str], by_key: dict[str, OpResult]) -> list[OpResult]:
    """Those of `keys` whose own checks fail, each followed to the end of its chain (sub is
    built from neg, neg from mul: the op to fix is mul)."""
    found: dict[str, OpResult] = {}
    for key in sorted(keys):
        cause = by_key.get(key)
        if cause is None or cause.passed:
            continue
        while cause.root_cause in by_key:
            cause = by_key[cause.root_cause]
        found[cause.key] = cause
    return list(found.values())


def _name_what_it_calls(result: OpResult, group: Group, outcome: Outcome,
                        by_key: dict[str, OpResult]) -> None:
    """Own-code credit: an op right with the grader's versions of the ops it called keeps its
    points; when one of those fails its own checks, the report says this op is right and which
    op to fix for it to work in the student's programs too."""
    if not result.passed:
        return
    broken = _broken(_called(group, outcome), by_key)
    if broken:
        first = broken[0]
        result.credited = (f"correct given a correct `{first.key}`: your code for this op "
                           f"calls `{first.key}`, which fails its own checks, and was checked "
                           f"with the grader's `{first.key}` in its place; fix `{first.key}` "
                           f"(task {first.task}) and this op works in your programs too")


def _find_root_cause(result: OpResult, again: Group, outcome: Outcome, oracle: Oracle,
                     assignment: Assignment, by_key: dict[str, OpResult]) -> None:
    """End-to-end credit: an op failing beside a broken op it calls, checked again with the
    grader's versions standing in: right that way, the broken op it called is the root cause
    (named, the points stay lost); still wrong, its own code is wrong."""
    spec = assignment.op(result.key)
    if not SCORERS[spec.kind](spec, again, outcome, oracle, result.max_points).passed:
        return
    broken = _broken(_called(again, outcome), by_key)
    result.root_cause = broken[0].key if broken else None


@cache
def program_ops(program: tuple[str, ...]) -> tuple[str, ...]:
    """The table's ops a program of the table (the lecture's example) really calls, in the
    order it first calls them.

    Derived by running the program text on a recorder whose every method is an op's, so the
    root cause of a failing reference example can only name an op the example uses, first
    cause first.
    """
    used: dict[str, None] = {}
    by_method = {spec.method: spec.key for spec in optable.OPS}

    def recorder(method: str):
        def call(self, *args):
            used.setdefault(by_method[method])
            return self
        return call

    cls = type("Recorder", (), {method: recorder(method) for method in by_method})
    exec("\n".join(program), {"__builtins__": {}}, {"a": cls(), "b": cls()})  # table text
    return tuple(used)


def _link_reference_example(results: list[OpResult]) -> None:
    """The reference example is end to end under every credit rule: when it fails, it names
    the failing ops it uses, first used first (the student's backward() last: the child runs
    the program, then g.backward()), leaving out any explained by another of them."""
    uses = (*program_ops(optable.REFERENCE_PROGRAM), optable.BACKWARD.key)
    by_key = {result.key: result for result in results}
    broken = [by_key[key] for key in uses if key in by_key and not by_key[key].passed]
    named = {r.key for r in broken}
    causes = [r.key for r in broken if r.root_cause not in named]
    if not causes:  # own-code: a composite right on its own code fails with what it calls
        causes = [r.key for r in _broken(
            {key for key in uses if key in by_key and by_key[key].credited}, by_key)]
    for result in results:
        if not result.passed and result.key == optable.REFERENCE.key:
            result.root_cause = ", ".join(causes) or None


def _not_defined(spec: OpSpec, points: float, assignment: Assignment) -> OpResult:
    result = OpResult(spec.key, spec.task, spec.title, points, optional=spec.optional,
                      error=f"not implemented: `Value` has no method `{spec.method}`, which "
                            f"this assignment grades ({points:g} "
                            f"point{'' if points == 1 else 's'})")
    result.subchecks = [SubCheck("runs", 1.0, False)]
    result.hidden = spec.key in assignment.hidden
    return result


def unscored(assignment: Assignment, reason: str) -> list[OpResult]:
    """Zero-point rows for every op the assignment gives points, so a submission that could not
    run still has each column and the same maximum as every other."""
    results = []
    for key in assignment.ops:
        spec = assignment.op(key)
        if spec.optional and assignment.points.get(key, 0.0) <= 0:
            continue
        result = OpResult(key, spec.task, spec.title, assignment.points_for(key), error=reason)
        result.subchecks = [SubCheck("runs", 1.0, False)]
        results.append(result)
    return results
