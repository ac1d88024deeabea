"""The course's tasks: the id a student sees everywhere (stub, message, grade cell, docs).

Every assignment's tasks, ids, titles and points come from the op table
(`graders.spec.optable`: `OPS` for assignment 2, `TASKS` for assignments 1 and 3).
"""

from __future__ import annotations

from dataclasses import dataclass

from graders.spec import optable
from graders.spec.optable import BACKPROP

ASSIGNMENTS = tuple(assignment.name for assignment in optable.COURSE)


@dataclass(frozen=True)
class Task:
    """One graded task of a notebook: the id a student sees everywhere, and its points."""

    assignment: str
    task: str
    key: str
    title: str
    points: float


def tasks(assignment: str) -> tuple[Task, ...]:
    """Every graded task of an assignment, in order, from the op table."""
    found = next((a for a in optable.COURSE if a.name == assignment), None)
    if found is None:
        raise KeyError(f"unknown assignment {assignment!r}; the course has {ASSIGNMENTS}")
    return tasks_of(found)


def tasks_of(assignment: optable.Assignment) -> tuple[Task, ...]:
    """Every graded task of an assignment object (a built-in one or a config's), in order:
    required ops, and optional ones the assignment gives points."""
    return tuple(Task(assignment.name, spec.task, spec.key, spec.title,
                      assignment.points_for(spec.key))
                 for spec in map(assignment.op, assignment.ops)
                 if not spec.optional or spec.key in assignment.points)


COURSE_TASKS: tuple[Task, ...] = tuple(t for a in ASSIGNMENTS for t in tasks(a)
                                       if a != BACKPROP.name)


def task(key: str) -> Task:
    for assignment in ASSIGNMENTS:
        for item in tasks(assignment):
            if item.key == key:
                return item
    raise KeyError(f"no task {key!r} in the course")
