"""The grading seam: one function from a job to what grading it gave, `grade(job) -> Graded`.

The batch, a regrade, nbgrader's autograde and the Gradescope runner all grade through it, so
what a submission is graded as, with which seed and limits, and which file its reports name, is
decided by the job in one place. Everything around grading (the gradebook, results files, the
diff of a regrade, retries) takes the grader as a value (`Grader`), so a test can hand it a fake
one and check that bookkeeping without running a sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from graders import api, relax_collector
from graders.classroom.records import Graded, Job
from graders.judge import oracle
from graders.spec.declared import DeclarationError

Grader = Callable[[Job], Graded]


def grade(job: Job) -> Graded:
    """Grade one job's file in the sandbox (a worker's work: the parent judges nothing)."""
    return Graded(api.grade(job.path, assignment=job.assignment, seed=job.seed,
                            limits=job.limits, strong=job.strong,
                            shown_as=job.shown_as or None))


@dataclass(frozen=True)
class Grading:
    """A grader with the batch's answer keys handed over: each assignment's declared ops and
    clusters are derived once, in the parent, before any worker starts, and a worker adopts
    them instead of importing sympy and deriving them again (picklable, so pools and Dask
    carry it)."""

    keys: tuple[oracle.Handover, ...] = ()
    grader: Grader = grade

    def __call__(self, job: Job) -> Graded:
        relax_collector()  # a worker, like the CLI
        for key in self.keys:
            oracle.adopt(key)
        return self.grader(job)


def grading(jobs: Iterable[Job], grader: Grader = grade) -> Grading:
    """`grader` with the answer keys of every assignment among `jobs`."""
    keys = []
    for assignment in {id(job.assignment): job.assignment for job in jobs}.values():
        try:
            key = oracle.handover(assignment)
        except DeclarationError:  # each of its jobs fails with the reason, as it did alone
            continue
        if key is not None:
            keys.append(key)
    return Grading(tuple(keys), grader)
