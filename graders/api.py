"""The programmatic API that `gradkit grade` mirrors, and the one "plan, run, score" pipeline.

`grade(path)` runs a submission file in the sandbox; `grade_class(cls)` runs a class already in
this process (the self-check and nbgrader's grade cells, not a boundary); `unscored(...)` is the
result of a submission that could not be graded. Every path that grades goes through these.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from graders.judge import edits, oracle, probes, scoring
from graders.model import (
    CLASS_SUFFIX,
    REFERENCE_SUFFIX,
    CellStatus,
    Group,
    Limits,
    Loaded,
    OpResult,
    Outcome,
    Result,
    WrongLine,
    place,
    valid_text,
)
from graders.run.loader import Program, SubmissionError, load, open_regular  # noqa: F401
from graders.spec import assignments, optable
from graders.spec.optable import BACKPROP, Assignment, OpSpec
from kit import __version__


def _value_problem(loaded: Loaded) -> str | None:
    value = loaded.value
    if not value.found:
        if value.similar:
            named = ", ".join(f"`{name}`" for name in value.similar)
            return (f"the submission does not define a class named `Value`; it defines "
                    f"{named}: the grader looks for `Value`, with a capital V")
        return "the submission does not define a class named `Value`"
    if not value.is_class and value.kind == "Missing" and value.module:
        return (f"`Value` was to be imported from `{value.module}`, which cannot be imported "
                "while grading: the submission defines no class `Value` of its own; write "
                "the class yourself")
    if not value.is_class:
        kind = f"`{value.kind}`" if value.kind else "some other type"
        return f"`Value` is an object of type {kind}, not a class"
    if not value.own:
        module = value.module or "another module"
        return (f"`Value` is imported from `{module}`, not defined by the submission; "
                "write the class yourself")
    return None


def _missing_module(cell: CellStatus) -> str | None:
    """The module named by a cell's ModuleNotFoundError, if that is how the cell failed."""
    if cell.error.startswith("ModuleNotFoundError") and cell.error.count("'") >= 2:
        return cell.error.split("'")[1]
    return None


def _environment_notes(loaded: Loaded, packages: tuple[str, ...] = ()) -> list[str]:
    """Say what differs from the student's own kernel where it changed what their code did: a
    module it could not import. (Plotting libraries that stood in change nothing a student
    can act on, so they go unmentioned; `Loaded.stand_ins` keeps them for the record.)"""
    notes = []
    missing = sorted({name for name in map(_missing_module, loaded.cells) if name})
    if missing:
        besides = f" and {', '.join(packages)}" if packages else ""
        notes.append(f"The grader runs your code with Python's standard library{besides} "
                     f"only: {', '.join(missing)} cannot be imported there (the rest of each "
                     "cell ran without it, line by line; lines that use it were skipped). "
                     "Write Value with `math`"
                     f"{' or ' + ', '.join(packages) if packages else ''}.")
    return notes


def unscored(path: str | Path, assignment: Assignment, reason: str, *,
             seed: int | None = None) -> Result:
    """A submission that could not be graded: score 0, a row per op, the reason once."""
    reason = valid_text(reason)
    return Result(submission=valid_text(str(path)), seed=seed, grader_version=__version__,
                  problem=reason, ops=scoring.unscored(assignment, reason))


def grader_failure(path: str | Path, error: str | BaseException, doing: str = "on") -> str:
    """The one-line reason of a submission the grader itself failed on (a fault of the grader,
    not a verdict): the file, what failed and the error, whatever text the error holds."""
    if isinstance(error, BaseException):
        error = f"{type(error).__name__}: {error}"
    error = " ".join(valid_text(error).split())
    error = error if len(error) <= 300 else error[:300] + "..."
    return (f"{valid_text(str(path))}: the grader failed {doing} this submission ({error}); "
            "rerun to retry, report it if it persists")


def planned_isolation(strong: bool | None) -> str:
    """What a grade on this machine will stand on ("bubblewrap", "landlock", "weak", ...):
    part of a batch's grader id, so a grade made with other containment is not kept as
    current. (`open_regular` and `SubmissionError` are the loader's, for reading a file the way
    grading reads it.)"""
    from graders.run.sandbox import planned_isolation as planned  # lazy: no sandbox in kernels

    return planned(strong)


def check_assignment(assignment: Assignment) -> Assignment:
    """Derive a config's declared ops and draw one plan, so a formula sympy cannot use or a
    domain with no usable point is refused when the config is read, not mid-batch. Raises
    ConfigError naming the file and the op (or the named cluster whose formula it is)."""
    if assignment.declared or any(cluster.grads for cluster in assignment.clusters):
        try:
            oracle.for_assignment(assignment)
            probes.plan(assignment, 0)
        except ValueError as error:  # DeclarationError, or no probe point in a domain
            raise assignments.ConfigError(str(error)) from None
    return assignment


def needs_value(assignment: Assignment) -> bool:
    """Whether the assignment checks a class `Value` (assignment 2), not only course tasks."""
    return any(assignment.op(key).kind != "task" for key in assignment.ops)


def detect(program: Program) -> Assignment:
    """A guess at the assignment a file is for, from its grade cells (nbgrader's metadata or
    the `course.grade` calls); a file without any is `backprop`, the op table. Only one file
    graded alone is guessed (and says so): everywhere else the instructor decides."""
    return assignments.for_tasks(program.task_keys()) or BACKPROP


def guess(path: str | Path) -> Assignment:
    """`detect` for a file on disk (`backprop` for a file that cannot be read)."""
    try:
        return detect(load(path))
    except SubmissionError:
        return BACKPROP


def assignment_note(program: Program, assignment: Assignment) -> str | None:
    """The note for a file whose grade cells name another assignment's tasks than the one it
    is graded as: it is told, and graded as the instructor's assignment all the same."""
    other = assignments.looks_like(program.task_keys(), assignment)
    if other is None:
        return None
    return (f"This file looks like the {other.name} assignment; graded as {assignment.name}, "
            "the assignment your instructor set.")


def _judge(result: Result, outcome: Outcome, assignment: Assignment, groups: list,
           key: oracle.Oracle, script: bool = False) -> None:
    """Fill `result` from what the child produced: cells, notes, problem, or scored ops."""
    path = result.submission
    result.isolation = outcome.isolation
    result.child_cpu = outcome.child_cpu
    result.notes += outcome.notes  # containment caveats (no cgroup, unexpected interpreter)
    # the ops whose own checks hit their time limit (an op's @reference or @class group is it)
    hung = {key.partition("@")[0] for key in outcome.hung}
    result.hung = [key for key in assignment.ops if key in hung]  # the assignment's order
    result.output, result.output_truncated = outcome.output, outcome.output_truncated
    if outcome.loaded is None:
        result.problem = f"{path}: {outcome.load_error or 'the submission could not be run'}"
    else:
        result.cells = list(outcome.loaded.cells)
        result.notes += _environment_notes(outcome.loaded, assignment.packages)
        result.problem = _value_problem(outcome.loaded) if needs_value(assignment) else None
        if script:  # a .py file has no cells: its one piece of code is cell 0 (model.place)
            result.cells = [replace(cell, index=0) for cell in result.cells]
        syntax = [c for c in result.cells if c.status == "syntax"]
        if result.problem and syntax:
            first = syntax[0]
            result.problem = (f"{path}: {place(first.index, first.line)}: {first.error}"
                              f"{_version_hint(first.error, outcome.python)}, so no class "
                              "`Value` could be defined")
    result.ops = (scoring.unscored(assignment, result.problem) if result.problem else
                  scoring.score(assignment, groups, outcome, key))
    if script:
        for probe in (probe for op in result.ops for probe in op.failures if probe.where):
            probe.where = (0, probe.where[1])
    result.credit_rule = credit_rule(assignment)


EDIT_MARK = "~edit"  # a variant group's key: "<op key>~edit<n>" (never an op key: not one)


class _WrongLines:
    """The line that is wrong (judge/edits.py): once the plan is answered, each failing op's
    catalogued single edits are asked of the same child, each as the op's own group with its
    own probes and the edited method standing in; `located` keeps a line only where exactly
    one edit made every check pass, and takes the variants' answers out of the outcome."""

    def __init__(self, program: Program, assignment: Assignment, groups: list,
                 key: oracle.Oracle) -> None:
        self.program, self.assignment, self.key = program, assignment, key
        own = {g.key: g for g in groups if not g.key.endswith((REFERENCE_SUFFIX, CLASS_SUFFIX))}
        again = {g.key.removesuffix(REFERENCE_SUFFIX): g for g in groups
                 if g.key.endswith(REFERENCE_SUFFIX)}
        # end to end, an op's own group runs the student's other ops too: an edit of this op
        # is judged where the grader's versions stand in for them, so it cannot make up for one
        self.groups = {k: again.get(k, g) if assignment.credit == "end-to-end" else g
                       for k, g in own.items()}
        self.asked: list[tuple[OpSpec, Group, edits.Candidate, Group]] = []

    def wanted(self) -> bool:
        return self.assignment.wrong_line != "off" and needs_value(self.assignment)

    def variants(self, outcome: Outcome) -> list[Group]:
        if outcome.loaded is None or _value_problem(outcome.loaded):
            return []
        methods = set(outcome.loaded.value.methods)
        cells = [(cell.index, cell.source) for cell in self.program.cells]
        searched = 0
        for op_key, group in self.groups.items():
            spec = self.assignment.op(op_key)
            answered = [record for case in group.cases
                        if (record := outcome.records.get(case.id)) and record.error is None]
            # a hang or crash would only cost its time again, and code that raised at every
            # check (a stub) has no catalogued mistake to undo
            if spec.kind not in ("op", "backward") or spec.method not in methods or \
                    outcome.group_errors.get(group.key) or not answered or \
                    scoring.passes(spec, group, outcome, self.key):
                continue
            own = self.key.ops.get(op_key)
            derivative = {n: d.text for n, d in own.derivative.items()} if own else {}
            for candidate in edits.candidates(spec, cells, derivative):
                mark = f"{EDIT_MARK}{len(self.asked)}"
                variant = Group(f"{op_key}{mark}",
                                [replace(case, id=f"{case.id}{mark}") for case in group.cases],
                                group.method, group.library,
                                patch={"method": candidate.method, "source": candidate.source})
                self.asked.append((spec, group, candidate, variant))
            searched += 1
            if searched >= edits.MAX_OPS:
                break
        return [variant for *_, variant in self.asked]

    def located(self, outcome: Outcome) -> dict[str, WrongLine]:
        passed: dict[str, list[edits.Candidate]] = {}
        unfinished: set[str] = set()  # an edit not asked or cut short: uniqueness unknown
        for spec, group, candidate, variant in self.asked:
            records = {case.id: record
                       for case, asked in zip(group.cases, variant.cases, strict=True)
                       if (record := outcome.records.pop(asked.id, None)) is not None}
            error = outcome.group_errors.pop(variant.key, None)
            if error:
                unfinished.add(spec.key)
            view = Outcome(loaded=outcome.loaded, records=records,
                           group_errors={group.key: error} if error else {})
            found = passed.setdefault(spec.key, [])
            if scoring.passes(spec, group, view, self.key):
                found.append(candidate)
        for key in unfinished:
            passed[key] = []
        outcome.hung = [key for key in outcome.hung if EDIT_MARK not in key]
        notebook = self.program.kind == "notebook"
        show = self.assignment.wrong_line == "fix"
        return {op: line for op, found in passed.items()
                if (line := edits.located(found, notebook, show)) is not None}

def _version_hint(error: str, python: str | None) -> str:
    """" (this f-string needs Python 3.12; the grader runs 3.11.7)" for a syntax error that
    only an older Python makes: a 3.12 f-string (quotes of its own kind, a backslash or a
    comment inside the braces) on 3.11 or before."""
    version = (python or "").split(" ", 1)[0]
    if "f-string" not in error or not version or tuple(
            int(part) for part in version.split(".")[:2] if part.isdigit()) >= (3, 12):
        return ""
    return (f" (this f-string is valid from Python 3.12 on, but the grader runs Python "
            f"{version}: use the other kind of quotes inside the braces, or compute the "
            "value on the line before)")


def credit_rule(assignment: Assignment) -> str:
    """The sentence every report prints for an assignment that grades ops ("" for tasks)."""
    if any(assignment.op(key).kind == "op" for key in assignment.ops):
        return optable.CREDIT_RULES[assignment.credit]
    return ""


def grade(path: str | Path, *, assignment: Assignment | None = None, seed: int | None = None,
          limits: Limits | None = None, strong: bool | None = None,
          shown_as: str | Path | None = None) -> Result:
    """Grade one `.ipynb` or `.py` submission in the sandbox as `assignment`; `None` guesses it
    from the file's grade cells (`detect`: one file graded alone, never a batch). A file that
    names another assignment's tasks gets `assignment_note`. Never raises for a bad
    submission: the returned Result carries `problem` and a score of 0 instead.

    `shown_as` is the file as the student submitted it when `path` is a copy of it (a
    regrade's stored copy, nbgrader's temporary file): the result names it everywhere."""
    from graders.run import session  # lazy: the sandbox is not needed by grade_class

    started = time.monotonic()
    seed = probes.new_seed() if seed is None else seed
    shown = shown_as or path
    try:
        program = load(path, shown_as)
    except SubmissionError as error:
        result = unscored(shown, assignment or BACKPROP, str(error), seed=seed)
        result.seconds = time.monotonic() - started
        return result
    given = assignment is not None
    assignment = assignment or detect(program)
    result = Result(submission=valid_text(str(shown)), seed=seed, grader_version=__version__,
                    notes=list(program.notes),
                    assignment_note=assignment_note(program, assignment) if given else None)
    key = oracle.for_assignment(assignment)  # before any student code runs
    groups = probes.plan(assignment, seed)
    search = _WrongLines(program, assignment, groups, key)
    outcome = session.run(program, groups, limits or Limits(), strong=strong,
                          needs_value=needs_value(assignment), packages=assignment.packages,
                          then=search.variants if search.wanted() else None)
    lines = search.located(outcome)
    _judge(result, outcome, assignment, groups, key, script=program.kind == "python")
    for op in result.ops:
        if not op.passed and op.key in lines:
            op.wrong_line = lines[op.key]
    result.seconds = time.monotonic() - started
    return result


def grade_class(cls: type, *, assignment: Assignment = BACKPROP,
                seed: int | None = None) -> tuple[list[OpResult], Outcome, int]:
    """Score a `Value` class in *this* process (self-check, nbgrader grade cells): the same
    plan, runners and scorer as `grade`, without a sandbox. Returns (ops, outcome, seed)."""
    return grade_namespace({"Value": cls}, assignment=assignment, seed=seed)


def grade_namespace(namespace: dict, *, assignment: Assignment = BACKPROP,
                    seed: int | None = None) -> tuple[list[OpResult], Outcome, int]:
    """`grade_class` for every name a notebook defined (a course task's functions and
    classes): the nbgrader grade cells' advisory check, in the student's kernel."""
    from graders.run import inprocess

    seed = probes.new_seed() if seed is None else seed
    groups = probes.plan(assignment, seed)
    outcome = inprocess.run(namespace, groups, needs_value=needs_value(assignment))
    return scoring.score(assignment, groups, outcome, oracle.for_assignment(assignment)), \
        outcome, seed
