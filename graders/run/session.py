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

from graders.judge.probes import Group
from graders.run.loader import Program
from graders.run.sandbox import Child, ChildGone, ChildTimeout, Limits


@dataclass
class Outcome:
    """Everything the child side produced, as data for the scorer. Nothing here is a verdict."""

    loaded: dict | None = None
    load_error: str | None = None
    records: dict[str, dict] = field(default_factory=dict)
    group_errors: dict[str, str] = field(default_factory=dict)
    output: str = ""
    output_truncated: bool = False
    output_taken: bool = False
    isolation: str = "weak"
    restarts: int = 0
    python: str | None = None  # sys.version as the child reported it
    notes: list[str] = field(default_factory=list)  # containment caveats for the report

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def _check_python(record: dict, outcome: Outcome) -> None:
    """The child must run the interpreter the grader chose (same build as the parent's)."""
    reported = record.get("python")
    if outcome.python is None and isinstance(reported, str):
        outcome.python = reported[:200]
        if reported != sys.version:
            outcome.note(f"Note: the sandboxed interpreter reported Python {reported[:60]!r}, "
                         f"not the grader's {sys.version[:60]!r}.")


class CellTimeout(ChildTimeout):
    """One top-level cell ran past its limit; the rest of the notebook can run without it."""

    def __init__(self, cell: int, message: str) -> None:
        super().__init__(message)
        self.cell = cell


def _load(child: Child, deadline: float, limits: Limits, outcome: Outcome) -> dict:
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
                cell_deadline[0] = time.monotonic() + limits.cell_seconds
            elif record.get("kind") == "loaded":
                return record
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


def _program_without(program: Program, skipped: set[int]) -> dict:
    """The program with skipped cells emptied (indices kept, so messages still match)."""
    data = program.to_json()
    for cell in data["cells"]:
        if cell["index"] in skipped:
            cell["source"] = ""
    return data


def _collect(child: Child, group: Group, deadline: float, outcome: Outcome,
             heard: list[dict]) -> None:
    wanted = {case.id for case in group.cases}
    got: dict[str, dict] = {}
    for record in child.records(deadline):
        if record.get("kind") == "done" and record.get("group") == group.key:
            break
        case_id = record.get("id")
        if case_id in wanted:
            heard.append(record)
            if case_id in got:
                outcome.group_errors[group.key] = "sent two answers for one check"
                return
            got[case_id] = record
    outcome.records.update(got)


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


def run(program: Program, groups: list[Group], limits: Limits,
        *, strong: bool | None = None) -> Outcome:
    """Run every group against the program in sandboxed children; never raises for the child."""
    outcome = Outcome()
    deadline = time.monotonic() + limits.submission_seconds
    pending = list(groups)
    child: Child | None = None
    retried: set[str] = set()
    skipped: set[int] = set()
    try:
        while pending:
            if time.monotonic() >= deadline:
                for group in pending:
                    outcome.group_errors[group.key] = (
                        f"not checked: the submission's {limits.submission_seconds:g} s "
                        "limit was reached")
                break
            if child is None:
                child = Child(_program_without(program, skipped), limits, strong=strong)
                outcome.isolation = child.isolation
                if child.cgroup_problem:
                    outcome.note("Note: no per-run cgroup, so processes and memory are capped "
                                 f"per process only ({child.cgroup_problem}).")
                try:
                    loaded = _load(child, deadline, limits, outcome)
                except CellTimeout as error:
                    # Like a notebook runner's cell timeout: skip the cell, run the rest.
                    _end(child, outcome)
                    outcome.output_taken = False  # the run that completes prints it all
                    child = None
                    skipped.add(error.cell)
                    outcome.note(f"{error}; it was skipped and the rest of the notebook ran "
                                 "without it (an infinite loop or a long computation?)")
                    continue
                except (ChildGone, ChildTimeout) as error:
                    if outcome.loaded is None:
                        outcome.load_error = str(error)
                        break
                    for group in pending:
                        outcome.group_errors[group.key] = f"not checked: {error}"
                    break
                if outcome.loaded is None:
                    outcome.loaded = loaded
                else:
                    outcome.restarts += 1
                value = loaded.get("value", {})
                if not (value.get("found") and value.get("is_class")):
                    break
            group = pending.pop(0)
            group_deadline = min(time.monotonic() + limits.group_seconds, deadline)
            heard: list[dict] = []
            try:
                child.send(group.message())
                _collect(child, group, group_deadline, outcome, heard)
            except ChildTimeout:
                outcome.group_errors[group.key] = (
                    f"no answer within {limits.group_seconds:g} s; an infinite loop or a "
                    "very slow computation in this op?")
                _end(child, outcome)
                child = None
            except ChildGone as error:
                _end(child, outcome)
                child = None
                if not heard and group.key not in retried:
                    # It died before saying anything about this group: it may have been dying
                    # from the previous one (which can forge its own "done"). Ask a fresh child
                    # once; a group that really crashes it is charged the second time.
                    retried.add(group.key)
                    pending.insert(0, group)
                    continue
                outcome.group_errors[group.key] = str(error)
    finally:
        if child is not None:
            try:
                child.send({"kind": "quit"})
            except ChildGone:
                pass
            _end(child, outcome)
    return outcome
