"""Drive children through a probe plan: load once, ask group by group, restart after a crash.

A hang or crash inside one op's `_backward` costs that group only: the child is killed, a fresh
one re-runs the notebook, and grading goes on with the next group, all within the submission's
time limit. Records are accepted once per check id of the group that was asked; anything else
the child sends is ignored or voids that group.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from graders.model import Group, Limits, Loaded, Outcome, Record, not_asked
from graders.run.loader import Program
from graders.run.sandbox import Child, ChildGone, ChildTimeout
from graders.spec.optable import METHODS


def _check_python(record: dict, outcome: Outcome) -> None:
    """The child must run the interpreter the grader chose (same build as the parent's)."""
    reported = record.get("python")
    if outcome.python is None and isinstance(reported, str):
        outcome.python = reported[:200]
        if reported != sys.version:
            outcome.note(f"Note: the sandboxed interpreter reported Python {reported[:60]!r}, "
                         f"not the grader's {sys.version[:60]!r}.")


CELL_GRACE = 2.0  # seconds after a cell's limit before the parent kills it and skips it


class CellTimeout(ChildTimeout):
    """One top-level cell ran past its limit; the rest of the notebook can run without it."""

    def __init__(self, cell: int, message: str) -> None:
        super().__init__(message)
        self.cell = cell


def _load(child: Child, deadline: float, limits: Limits, outcome: Outcome) -> Loaded:
    """Wait for the child to run the notebook; raise ChildGone/ChildTimeout with the cell."""
    running: list[int | None] = [None]
    cell_deadline = [deadline]

    def current_deadline() -> float:
        return min(cell_deadline[0], deadline)

    try:
        for record in child.records(current_deadline):
            if record.get("kind") == "hello":
                _check_python(record, outcome)
            elif record.get("kind") == "cell" and isinstance(record.get("index"), int):
                running[0] = record["index"]
                # The child interrupts a cell at cell_seconds itself; this is the fallback for a
                # cell that survives its interrupt (it caught it, or blocked the signal).
                cell_deadline[0] = time.monotonic() + limits.cell_seconds + CELL_GRACE
            elif record.get("kind") == "loaded":
                return Loaded.parse(record)
    except ChildTimeout:
        cell = running[0]
        if cell is not None and time.monotonic() < deadline:
            raise CellTimeout(cell, f"cell {cell} did not finish within "
                                    f"{limits.cell_seconds:g} s") from None
        where = f" (cell {cell} was running)" if cell else ""
        raise ChildTimeout(
            f"running the submission did not finish within {limits.submission_seconds:g} s"
            f"{where}; an infinite loop or a long computation at the top level?"
        ) from None
    except ChildGone as error:
        where = f" while running cell {running[0]}" if running[0] else ""
        raise ChildGone(f"{error}{where}") from None
    raise ChildGone("the process stopped before loading the submission")


def _program_without(program: Program, skipped: set[int], limits: Limits,
                     methods: tuple[str, ...] = METHODS) -> dict:
    """program.json for the child: the cells (skipped ones emptied, indices kept, so messages
    still match), the table's method names to look for on `Value`, and the time a top-level
    cell may take before the child interrupts it."""
    data = program.to_json()
    data["cell_seconds"] = limits.cell_seconds
    for cell in data["cells"]:
        if cell["index"] in skipped:
            cell["source"] = ""
    data["methods"] = list(methods)
    return data


class OutOfOrder(ChildGone):
    """The child sent a record the protocol does not allow at this point: a forgery. Handled as
    a child gone: the rest of its channel is not to be trusted either."""


def _collect(child: Child, group: Group, deadline: float, outcome: Outcome,
             heard: list[dict]) -> None:
    """Answers are kept as they arrive: a group that times out half-way (a `backward()` too
    slow for the deep chain) keeps the checks it answered, and only the rest fail."""
    wanted = {case.id for case in group.cases}
    got: set[str] = set()
    for record in child.records(deadline):
        kind = record.get("kind")
        if kind == "done" and record.get("group") == group.key:
            break
        if kind in ("loaded", "hello", "cell"):  # forged: the harness sends none of these now
            for answered in got:
                del outcome.records[answered]
            raise OutOfOrder(f"sent a {kind!r} record out of order")
        case_id = record.get("id")
        if case_id in wanted:
            heard.append(record)
            if case_id in got:
                outcome.group_errors[group.key] = "sent two answers for one check"
                for answered in got:
                    del outcome.records[answered]
                return
            got.add(case_id)
            outcome.records[case_id] = Record.parse(record)


def _end(child: Child, outcome: Outcome) -> None:
    """Kill the child's whole sandbox, and say so if anything in it could not be killed.

    The first child's output is what the student printed (later children re-run the same
    cells); it is taken only now, after the kill has drained the pipe, because the child's
    stdout is block-buffered and may arrive after its records.
    """
    had_cgroup = child.cgroup is not None
    child.kill()
    if outcome.restarts == 0 and not outcome.output_taken:
        outcome.output_taken = True
        outcome.output = child.output.decode("utf-8", "replace")
        outcome.output_truncated = child.output_truncated
    if had_cgroup and child.cgroup_problem:
        outcome.note(f"Note: {child.cgroup_problem}.")


@dataclass
class _Run:
    """One submission's run through the plan: the child now alive and what is left to ask."""

    program: Program
    limits: Limits
    strong: bool | None
    needs_value: bool = True  # the plan checks a class `Value` (not only course tasks)
    library: tuple[str, ...] = ()  # kit's modules the checks' notebooks import
    packages: tuple[str, ...] = ()  # installed packages the child may import (numpy)
    methods: tuple[str, ...] = METHODS  # the methods of `Value` the child reports
    outcome: Outcome = field(default_factory=Outcome)
    pending: list[Group] = field(default_factory=list)
    deadline: float = 0.0
    child: Child | None = None
    retried: set[str] = field(default_factory=set)
    skipped: set[int] = field(default_factory=set)

    def fail_pending(self, reason: str) -> None:
        for group in self.pending:
            self.outcome.group_errors[group.key] = reason
        self.pending = []

    def drop_child(self) -> None:
        if self.child is not None:
            _end(self.child, self.outcome)
            self.child = None


READY, AGAIN, STOP = "ready", "again", "stop"


def _start_child(run: _Run) -> str:
    """Start a child and let it run the notebook: READY to ask it, AGAIN after a skipped cell
    (a fresh child runs the rest), STOP when nothing more can be asked.

    A child that dies or hangs while loading ends the run; the first time, the submission
    cannot be run at all.
    """
    outcome, limits = run.outcome, run.limits
    run.child = Child(_program_without(run.program, run.skipped, limits, run.methods), limits,
                      strong=run.strong, library=run.library, allowed=run.packages)
    outcome.isolation = run.child.isolation
    if run.child.account_problem:
        outcome.note(f"Note: {run.child.account_problem}.")
    if run.child.cgroup_problem:
        outcome.note("Note: no per-run cgroup, so processes and memory are capped "
                     f"per process only ({run.child.cgroup_problem}).")
    try:
        loaded = _load(run.child, run.deadline, limits, outcome)
    except CellTimeout as error:
        # Like a notebook runner's cell timeout: skip the cell, run the rest.
        run.drop_child()
        outcome.output_taken = False  # the run that completes prints it all
        run.skipped.add(error.cell)
        outcome.note(f"{error}; it was skipped and the rest of the notebook ran "
                     "without it (an infinite loop or a long computation?)")
        return AGAIN
    except (ChildGone, ChildTimeout) as error:
        if outcome.loaded is None:
            outcome.load_error = str(error)
        else:
            run.fail_pending(f"not checked: {error}")
        return STOP
    if outcome.loaded is None:
        outcome.loaded = loaded
    else:
        outcome.restarts += 1
    if run.needs_value and not (loaded.value.found and loaded.value.is_class):
        return STOP
    return READY


def _ask_group(run: _Run, group: Group) -> None:
    """Send one group and collect its records; a hang or crash costs this group only.

    A child that dies before saying anything about the group may have been dying from the
    previous one (which can forge its own "done"), so the group is asked of a fresh child once;
    a group that really crashes it is charged the second time.
    """
    outcome, limits = run.outcome, run.limits
    group_deadline = min(time.monotonic() + limits.group_seconds, run.deadline)
    heard: list[dict] = []
    try:
        run.child.send(group.message(), group_deadline)
        _collect(run.child, group, group_deadline, outcome, heard)
    except ChildTimeout:
        outcome.group_errors[group.key] = (
            f"after {limits.group_seconds:g} s without an answer; an infinite loop or "
            "a very slow computation in this op?")
        run.drop_child()
    except ChildGone as error:  # or OutOfOrder: forged records may be the previous group's
        run.drop_child()
        if not heard and group.key not in run.retried:
            run.retried.add(group.key)
            run.pending.insert(0, group)
            return
        outcome.group_errors[group.key] = str(error)


def _quit(run: _Run) -> None:
    if run.child is not None:
        try:
            run.child.send({"kind": "quit"}, time.monotonic() + 1)
        except (ChildGone, ChildTimeout):
            pass
        run.drop_child()


def run(program: Program, groups: list[Group], limits: Limits,
        *, strong: bool | None = None, needs_value: bool = True,
        packages: tuple[str, ...] = ()) -> Outcome:
    """Run every group against the program in sandboxed children; never raises for the child.
    `packages` are the assignment's installed packages the child may import (numpy)."""
    library = tuple(sorted({module for group in groups for module in group.library}))
    methods = tuple(dict.fromkeys((*METHODS, *(g.method for g in groups if g.method))))
    state = _Run(program, limits, strong, needs_value, library=library, packages=packages,
                 methods=methods,
                 pending=list(groups),
                 deadline=time.monotonic() + limits.submission_seconds)
    try:
        while state.pending:
            if time.monotonic() >= state.deadline:
                state.fail_pending(f"not checked: the submission's "
                                   f"{limits.submission_seconds:g} s limit was reached")
                break
            if state.child is None:
                started = _start_child(state)
                if started == AGAIN:
                    continue
                if started == STOP:
                    break
            group = state.pending.pop(0)
            skip = not_asked(group, state.outcome.group_errors)
            if skip:
                state.outcome.group_errors[group.key] = skip
                continue
            _ask_group(state, group)
    finally:
        _quit(state)
    return state.outcome
