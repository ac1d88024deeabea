"""The course's tasks: the id a student sees everywhere (stub, message, grade cell, docs).

Assignment 2 (`backprop`) takes its tasks from the op table (`graders.spec.optable`);
assignments 1 (`derivatives`) and 3 (`mlp`) have no ops, so their tasks are listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from graders.spec import optable
from graders.spec.optable import BACKPROP

ASSIGNMENTS = ("derivatives", "backprop", "mlp")


@dataclass(frozen=True)
class Task:
    """One graded task of a notebook: the id a student sees everywhere, and its points."""

    assignment: str
    task: str
    key: str
    title: str
    points: float


COURSE_TASKS: tuple[Task, ...] = (
    Task("derivatives", "1.1", "slope", "slope(f, x, h): the forward-difference slope", 2),
    Task("derivatives", "1.2", "slopes_abc", "slopes of d = a*b + c with respect to a, b, c", 2),
    Task("derivatives", "1.3", "slope_errors", "how the step size h changes the error", 2),
    Task("mlp", "3.1", "neuron", "Neuron: tanh(w·x + b) and its parameters", 1),
    Task("mlp", "3.2", "parameters", "Layer, MLP and parameters() (41 for MLP(3, [4, 4, 1]))", 2),
    Task("mlp", "3.3", "loss_gradient", "the squared-error loss and its gradient", 3),
    Task("mlp", "3.4", "training", "training makes the loss fall", 2),
    Task("mlp", "3.5", "zero_grad", "each step starts from zeroed gradients", 2),
)


def tasks(assignment: str) -> tuple[Task, ...]:
    """Every graded task of an assignment, in order; backprop's come from the op table."""
    if assignment == "backprop":
        return tuple(Task("backprop", spec.task, spec.key, spec.title,
                          BACKPROP.points_for(spec.key))
                     for spec in (optable.op(key) for key in BACKPROP.ops) if not spec.optional)
    found = tuple(t for t in COURSE_TASKS if t.assignment == assignment)
    if not found:
        raise KeyError(f"unknown assignment {assignment!r}; the course has {ASSIGNMENTS}")
    return found


def task(key: str) -> Task:
    for assignment in ASSIGNMENTS:
        for item in tasks(assignment):
            if item.key == key:
                return item
    raise KeyError(f"no task {key!r} in the course")
