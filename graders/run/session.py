"""Drive children through a probe plan: load once, ask group by group, restart after a crash.

A hang or crash inside one op's `_backward` costs that group only: the child is killed, a fresh
one re-runs the notebook, and grading goes on with the next group. Records are accepted once
per check id of the group that was asked; anything else the child sends is ignored or voids
that group.

A top-level cell the child interrupted (past `cell_seconds`; an example cell that calls the op
that hangs) is not run again: every later child is told where it stopped (program.json's
`skip`) and runs only the cell's statements before that one, so a restart never waits on the
same hang twice. The cell statuses reported are the first load's; restarts do not change them.

The time budget (`Limits`; the deadline is `_Run.deadline`):

- a hang is charged its own limit, once: a top-level cell at most `cell_seconds` (plus
  CELL_GRACE if it survives its interrupt), an op group at most `group_seconds`;
- `submission_seconds` is the budget of everything else (loading the notebook, answering the
  groups, the fresh child's load after a crash or hang). Up to one cell's and one group's
  charge is not taken from it: the deadline moves on by what they cost, so a notebook whose
  example cell calls an op that hangs costs `cell_seconds + group_seconds` more than a fast
  one, and every other op's group still gets its full `group_seconds`;
- further hangs come out of `submission_seconds`, so whatever the code does the run ends by
  `submission_seconds + cell_seconds + CELL_GRACE + group_seconds` (and the kill after it).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from graders.model import CellStatus, Group, Limits, Loaded, Outcome, Record, not_asked
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

    def __init__(self, cell: int, seconds: float, message: str) -> None:
        super().__init__(message)
        self.cell = cell
        self.seconds = seconds


def _load(child: Child, deadline: Callable[[], float], limits: Limits, outcome: Outcome,
          charge: Callable[[float], None]) -> Loaded:
    """Wait for the child to run the notebook; raise ChildGone/ChildTimeout with the cell.

    A cell that ran its whole `cell_seconds` (the child interrupted it) is `charge`d as it
    ends, which can move the `deadline` on: the next cell is timed against the new one.
    """
    running: list[int | None] = [None]
    started = [0.0]
    cell_deadline = [float("inf")]

    def current_deadline() -> float:
        return min(cell_deadline[0], deadline())

    def cell_ended(now: float) -> None:
        if running[0] is not None and now - started[0] >= limits.cell_seconds:
            charge(now - started[0])

    try:
        for record in child.records(current_deadline):
            if record.get("kind") == "hello":
                _check_python(record, outcome)
            elif record.get("kind") == "cell" and isinstance(record.get("index"), int):
                now = time.monotonic()
                cell_ended(now)
                running[0], started[0] = record["index"], now
                # The child interrupts a cell at cell_seconds itself; this is the fallback for a
                # cell that survives its interrupt (it caught it, or blocked the signal).
                cell_deadline[0] = now + limits.cell_seconds + CELL_GRACE
            elif record.get("kind") == "loaded":
                cell_ended(time.monotonic())
                return Loaded.parse(record)
    except ChildTimeout:
        cell = running[0]
        now = time.monotonic()
        if cell is not None and now < deadline():
            raise CellTimeout(cell, now - started[0], f"cell {cell} did not finish within "
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


def _program_without(program: Program, skip: dict[int, int], limits: Limits,
                     methods: tuple[str, ...] = METHODS) -> dict:
    """program.json for the child: the cells, the cells an earlier child interrupted with the
    top-level line it stopped at (`skip`: only the statements before it run; 0, none), the
    table's method names to look for on `Value`, and the time a top-level cell may take
    before the child interrupts it."""
    data = program.to_json()
    data["cell_seconds"] = limits.cell_seconds
    data["skip"] = [{"index": index, "line": line} for index, line in sorted(skip.items())]
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
            cpu = record.get("cpu")
            if type(cpu) in (int, float) and 0 <= cpu < 1e6:
                child.cpu = float(cpu)
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
    outcome.child_cpu += child.cpu
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
    started: float = field(default_factory=time.monotonic)
    child: Child | None = None
    retried: set[str] = field(default_factory=set)
    # cells a child interrupted: the top-level line it stopped at (0: the whole cell), which
    # every later child skips from; and the statuses of cells killed before any load finished
    skip: dict[int, int] = field(default_factory=dict)
    killed: dict[int, CellStatus] = field(default_factory=dict)
    cells_charged: float = 0.0  # seconds of interrupted top-level cells
    groups_charged: float = 0.0  # seconds of groups that hit their own time limit

    def deadline(self) -> float:
        """When the run stops asking: the submission's limit, moved on by one cell's and one
        group's hang at most (the module docstring's budget)."""
        limits = self.limits
        return (self.started + limits.submission_seconds
                + min(self.cells_charged, limits.cell_seconds + CELL_GRACE)
                + min(self.groups_charged, limits.group_seconds))

    def charge_cell(self, seconds: float) -> None:
        self.cells_charged += seconds

    def fail_pending(self, reason: str) -> None:
        for group in self.pending:
            self.outcome.group_errors[group.key] = reason
        self.pending = []

    def drop_child(self) -> None:
        if self.child is not None:
            _end(self.child, self.outcome)
            self.child = None


READY, AGAIN, STOP = "ready", "again", "stop"


def _first_load(run: _Run, loaded: Loaded) -> Loaded:
    """The statuses to report: this load's, with the cells killed before it as interrupted
    (this child was told to skip them, so it ran them as empty)."""
    if not run.killed:
        return loaded
    return replace(loaded, cells=tuple(run.killed.get(cell.index, cell)
                                       for cell in loaded.cells))


def _start_child(run: _Run) -> str:
    """Start a child and let it run the notebook: READY to ask it, AGAIN after a skipped cell
    (a fresh child runs the rest), STOP when nothing more can be asked.

    A child that dies or hangs while loading ends the run; the first time, the submission
    cannot be run at all.
    """
    outcome, limits = run.outcome, run.limits
    run.child = Child(_program_without(run.program, run.skip, limits, run.methods), limits,
                      strong=run.strong, library=run.library, allowed=run.packages)
    outcome.isolation = run.child.isolation
    if run.child.account_problem:
        outcome.note(f"Note: {run.child.account_problem}.")
    if run.child.cgroup_problem:
        outcome.note("Note: no per-run cgroup, so processes and memory are capped "
                     f"per process only ({run.child.cgroup_problem}).")
    try:
        loaded = _load(run.child, run.deadline, limits, outcome, run.charge_cell)
    except CellTimeout as error:
        # Like a notebook runner's cell timeout: skip the cell, run the rest.
        run.drop_child()
        outcome.output_taken = False  # the run that completes prints it all
        run.charge_cell(error.seconds)
        run.skip[error.cell] = 0
        if outcome.loaded is None:
            run.killed[error.cell] = CellStatus(
                error.cell, "interrupted", error=f"ran past the {limits.cell_seconds:g} s time "
                                                 "limit and did not stop when interrupted")
        outcome.note(f"{error}; it was skipped and the rest of the notebook ran "
                     "without it (an infinite loop or a long computation?)")
        return AGAIN
    except (ChildGone, ChildTimeout) as error:
        if outcome.loaded is None:
            outcome.load_error = str(error)
        else:
            run.fail_pending(f"not checked: {error}")
        return STOP
    for cell in loaded.cells:  # later children stop short of it
        if cell.status == "interrupted":
            run.skip.setdefault(cell.index, cell.line)
    if outcome.loaded is None:
        outcome.loaded = _first_load(run, loaded)
    else:
        outcome.restarts += 1
    if run.needs_value and not (loaded.value.found and loaded.value.is_class):
        return STOP
    return READY


def _ask_group(run: _Run, group: Group) -> None:
    """Send one group and collect its records; a hang or crash costs this group only.

    A child that dies before saying anything about the group may have been dying from the
    previous one (which can forge its own "done"), so the group is asked of a fresh child once;
    a group that really crashes it is charged the second time. A group cut short by the
    submission's deadline rather than its own limit is not a hang of its own: it says so.
    """
    outcome, limits = run.outcome, run.limits
    asked = time.monotonic()
    own_deadline, deadline = asked + limits.group_seconds, run.deadline()
    heard: list[dict] = []
    try:
        run.child.send(group.message(), min(own_deadline, deadline))
        _collect(run.child, group, min(own_deadline, deadline), outcome, heard)
    except ChildTimeout:
        if own_deadline <= deadline:
            outcome.hung.append(group.key)
            run.groups_charged += time.monotonic() - asked
            outcome.group_errors[group.key] = (
                f"after {limits.group_seconds:g} s without an answer; an infinite loop or "
                "a very slow computation in this op?")
        else:
            outcome.group_errors[group.key] = (
                f"not checked: the submission's {limits.submission_seconds:g} s limit was "
                "reached while its checks ran")
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
        packages: tuple[str, ...] = (),
        then: Callable[[Outcome], list[Group]] | None = None) -> Outcome:
    """Run every group against the program in sandboxed children; never raises for the child.
    `packages` are the assignment's installed packages the child may import (numpy).

    `then`, given what the plan's groups produced, may ask more groups of the same child (the
    edited methods of failing ops, judge/edits.py): asked only while that child lives and the
    submission's time lasts, never of a fresh child, so they cost no reload."""
    library = tuple(sorted({module for group in groups for module in group.library}))
    methods = tuple(dict.fromkeys((*METHODS, *(g.method for g in groups if g.method))))
    state = _Run(program, limits, strong, needs_value, library=library, packages=packages,
                 methods=methods, pending=list(groups))
    extra = False
    try:
        while state.pending or (then is not None and not extra and state.child is not None):
            if not state.pending:
                extra = True
                state.pending = list(then(state.outcome))
                continue
            if time.monotonic() >= state.deadline():
                state.fail_pending(f"not checked: the submission's "
                                   f"{limits.submission_seconds:g} s limit was reached")
                break
            if state.child is None and extra:
                state.fail_pending("not asked: the child that ran the plan is gone")
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
