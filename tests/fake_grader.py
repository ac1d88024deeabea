"""A grader for the class layer's bookkeeping tests: each distinct file graded once, then replayed.

What a batch, a regrade or an export does around grading (rows, results files, retries,
generations, diffs, grades.csv) does not depend on grading the same code again and again, so
those tests hand `replay_grade` to the grading seam (`batch.Options(grader=...)`,
`regrade.regrade(grader=...)`). It grades each distinct piece of code (with its assignment and
limits) once in the real sandbox, with one fixed seed, and gives every later file with the same
code that verdict, naming that file and carrying its job's seed. A class of honest copies then
costs one grade, not one per student.

Verdicts are the real grader's, so nothing here decides a score; what a replay cannot show is a
seed-dependent text (probe points in a failure message) or a reason naming the first file of a
code that has one, and tests that read those grade for real. A file the loader refuses never
reaches the sandbox: its reason is the loader's, exactly as `api.grade` gives it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from graders import api
from graders.classroom.grading import grade
from graders.classroom.records import Graded, Job
from graders.run.loader import SubmissionError, load
from graders.spec import assignments

SEED = 20261204
_GRADED: dict[str, Graded] = {}
# Shared by every process of one test session (xdist workers, a batch's pool), made fresh per
# session by tests/conftest.py so no verdict outlives the code that gave it.
CACHE = "GRADKIT_TEST_REPLAYS"


def _code(text: str) -> str:
    """The code without trailing blank and comment lines (tests tag copies of one file so)."""
    lines = text.rstrip().splitlines()
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    return "\n".join(lines)


def _key(job: Job, cells: list[str]) -> str:
    return json.dumps([[_code(cell) for cell in cells], assignments.to_data(job.assignment),
                       asdict(job.limits), job.strong], sort_keys=True, default=str)


def replay_grade(job: Job) -> Graded:
    """`grading.grade(job)`, from the first grading of the same code when there was one."""
    try:
        program = load(job.path, job.shown_as or None)
    except SubmissionError as error:
        return Graded(api.unscored(job.submitted, job.assignment, str(error), seed=job.seed))
    key = _key(job, [cell.source for cell in program.cells])
    if key not in _GRADED:
        _GRADED[key] = _shared(key) or _share(key, grade(replace(job, seed=SEED)))
    graded = copy.deepcopy(_GRADED[key])
    graded.result.submission = job.submitted
    graded.result.seed = job.seed
    return graded


def _file(key: str) -> Path | None:
    folder = os.environ.get(CACHE)
    return Path(folder) / f"{hashlib.sha256(key.encode()).hexdigest()}.pickle" if folder \
        else None


def _shared(key: str) -> Graded | None:
    """Another process's grading of the same code in this session, if there is one."""
    path = _file(key)
    try:
        return pickle.loads(path.read_bytes()) if path else None
    except (OSError, EOFError, pickle.UnpicklingError):
        return None


def _share(key: str, graded: Graded) -> Graded:
    path = _file(key)
    if path is not None:
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(pickle.dumps(graded))
        os.replace(handle.name, path)
    return graded
