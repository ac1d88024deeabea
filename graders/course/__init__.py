"""The course's notebooks and their grade-cell API: `course.grade(key, globals())`.

Tasks are in `tasks.py`, the checks of assignments 1 and 3 in `checks.py`, the student's
`selfcheck(Value)` table in `kernel_check.py`, the notebook builders in `authoring.py`.
Assignment 2 (`backprop`) is the op table itself, scored by `graders.api.grade_class` (the same
probes, scorer and feedback as `gradkit grade`, in the student's kernel), so nbgrader and the
grader give each op the same points.

Every public check prints what it found and *returns* the points as a float. It never raises:
nbgrader shows a failing cell's traceback, hidden lines included, and gives a cell that writes
to stderr zero points; a returned float is nbgrader's partial credit.
"""

from __future__ import annotations

import contextlib
import io
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

from graders import api
from graders.course import kernel_check
from graders.course.task_ids import ASSIGNMENTS, COURSE_TASKS, Task, task, tasks, tasks_of
from graders.model import OpResult
from graders.report import sentences
from graders.report.text import explain
from graders.spec import assignments
from graders.spec.optable import BACKPROP, Assignment

__all__ = ["ASSIGNMENTS", "COURSE_TASKS", "Task", "grade", "selfcheck", "task", "tasks",
           "tasks_of"]


# --- the entry point of every hidden grade cell ------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """Keep the student's prints and warnings out of the grade cell (stderr costs all points)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield buffer


def grade(key: str, namespace: dict[str, Any], config: str | None = None) -> float:
    """Check one task against the names the notebook defined; print why, return the points.
    `config` is the assignment config beside a notebook from `gradkit course new`."""
    try:
        assignment = kernel_check.config_assignment(config) if config else None
    except ValueError as error:  # ConfigError: the course's config, not the student's code
        print(f"task {key}: cannot check: {error}")
        return 0.0
    item = _config_task(key, assignment) if assignment else task(key)
    try:
        with _quiet():
            op = _backprop(item, namespace, assignment) if assignment or \
                item.assignment == BACKPROP.name else _task(item, namespace)
            points, lines = _advice(op)
    except _NoValue:
        points, lines = 0.0, ["the notebook does not define a class named `Value`"]
    except NotImplementedError as error:
        points, lines = 0.0, [sentences.stub(str(error))]
    except Exception as error:  # a check must end in a message, never a traceback
        points, lines = 0.0, [f"your code raised {type(error).__name__}: {error}"]
    verdict = _verdict(points, item.points, lines)
    print(f"task {item.task}, {item.title}: {points:g} / {item.points:g} ({verdict}) "
          "[self-check: the grade comes from gradkit's sandbox]")
    for line in lines:
        print(f"  {line}")
    return float(points)


def _verdict(points: float, max_points: float, lines: list[str]) -> str:
    if points == max_points:
        return "passed"
    if any(line.lower().startswith("not implemented") for line in lines):
        return "not implemented"
    return "wrong"


def selfcheck(assignment: str, namespace: dict[str, Any]) -> None:
    """Every task of an assignment, one verdict each: passed, wrong or not implemented."""
    if assignment == "backprop":
        kernel_check.selfcheck(namespace.get("Value"))
        return
    for item in tasks(assignment):
        grade(item.key, namespace)


# --- assignment 2: the op table through the in-process grader ----------------------------------

_BACKPROP_CACHE: dict[tuple, tuple[weakref.ref, dict]] = {}


class _NoValue(Exception):
    """The backprop notebook has no class `Value` to check."""


def _task(item: Task, namespace: dict[str, Any]) -> OpResult:
    """One task of assignment 1 or 3, through the same planner, runner and scorer as the
    sandboxed grader (run in this kernel: advice, not a grade that counts)."""
    only = Assignment(item.assignment, (item.key,), {item.key: item.points})
    return api.grade_namespace(namespace, assignment=only)[0][0]


def _advice(op: OpResult) -> tuple[float, list[str]]:
    row = kernel_check.Row.from_result(op)
    if row.status == kernel_check.NOT_IMPLEMENTED:
        return op.points, row.lines  # the stub's own sentence (report/sentences.py)
    return op.points, explain(op)


def _config_task(key: str, assignment: Assignment) -> Task:
    found = next((item for item in tasks_of(assignment) if item.key == key), None)
    if found is None:
        raise KeyError(f"no task {key!r} in {assignment.name}")
    return found


def _backprop(item: Task, namespace: dict[str, Any],
              assignment: Assignment | None = None) -> OpResult:
    cls = namespace.get("Value")
    if not isinstance(cls, type):
        raise _NoValue
    assignment = assignment or BACKPROP
    cache_key = (id(cls), assignment.name, repr(assignments.to_data(assignment)))
    cached = _BACKPROP_CACHE.get(cache_key)
    if cached is None or cached[0]() is not cls:
        results, _outcome, _seed = api.grade_class(cls, assignment=assignment)
        cached = (weakref.ref(cls), {op.key: op for op in results})
        _BACKPROP_CACHE[cache_key] = cached
    return cached[1][item.key]
