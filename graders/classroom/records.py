"""The class layer's records: what a batch asks, what a grading returns, what the gradebook keeps.

Every value that crosses a module boundary in `classroom/` is one of these frozen types, never a
dict read by string key: a job handed to a worker (`Job`), what grading it gave (`Graded`, or
`WorkerFailed` when the worker itself broke), a student's stored grade (`Row` with its `OpRow`s),
and how a batch grades (`BatchSettings`, one versioned JSON value in the gradebook). To add a
column to grades.csv, add a field here and read it in `publishing.export_csv`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from enum import Enum

from graders.model import Limits, OpResult, Result
from graders.spec import assignments
from graders.spec.optable import Assignment


class Retry(str, Enum):
    """Why a stored grade is not final: the next run grades the file again."""

    ERROR = "error"  # the grader failed on it (score 0 with the reason)
    ISOLATION = "isolation"  # the child got other containment than the batch planned


@dataclass(frozen=True)
class Job:
    """One submission to grade, everything a worker needs (picklable: pools and Dask carry it).

    `path` is the file graded; `shown_as` the file as the student submitted it, when they
    differ (a regrade grades the stored copy of `shown_as`), so results name the submission
    from the start."""

    student: str
    folder: str  # the nbgrader assignment it was found under; "" for plain files
    path: str
    assignment: Assignment
    content_hash: str = ""
    seed: int | None = None  # None: drawn afresh
    grader: str = ""  # seeds.grader_id: which grader, config, limits and isolation
    limits: Limits = field(default_factory=Limits)
    strong: bool | None = None
    shown_as: str = ""

    @property
    def submitted(self) -> str:
        """The file as submitted: what every report and row names."""
        return self.shown_as or self.path


@dataclass(frozen=True)
class Graded:
    """What grading one job gave: the full result, and whether the next run must try again."""

    result: Result
    retry: Retry | None = None


@dataclass(frozen=True)
class WorkerFailed:
    """A worker that raised or died on a job: the batch still gives the job a row."""

    reason: str


@dataclass(frozen=True)
class OpRow:
    """One op's grade as the gradebook keeps it (the dashboard, summary and diffs read these)."""

    op: str
    points: float
    max_points: float
    status: str
    diagnosis: str | None = None  # the catalogued mistake's key
    cluster: str | None = None  # the class-wide cluster id of a wrong answer
    evidence: str | None = None  # what the cluster's members answered

    @classmethod
    def of(cls, op: OpResult) -> OpRow:
        return cls(op.key, op.points, op.max_points, op.status,
                   op.diagnosis.key if op.diagnosis else None, op.cluster,
                   op.cluster_evidence or None)


@dataclass(frozen=True)
class Row:
    """One student's grade as the gradebook keeps it."""

    student: str
    assignment: str  # the nbgrader assignment folder; "" for plain files
    path: str  # the file as submitted
    content_hash: str
    grader: str
    seed: int | None
    score: float
    max_score: float
    problem: str | None = None
    results_file: str | None = None
    seconds: float | None = None
    ops: tuple[OpRow, ...] = ()
    note: str | None = None  # the file looks like another assignment than it was graded as
    # what to look at beside the score ("cell 7 interrupted", "time limit hit: relu"):
    # `Result.flags`, shown by the dashboard and grades.csv
    flags: tuple[str, ...] = ()
    retry: Retry | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Row:
        """A row kept in a generation, including one kept before rows were typed (ops as
        dicts, the retry as a suffix of the grader id)."""
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        data = {name: value for name, value in data.items() if name in known}
        data["ops"] = tuple(OpRow(**{k: v for k, v in op.items()
                                     if k in OpRow.__dataclass_fields__})
                            for op in data.get("ops") or ())
        data["flags"] = tuple(data.get("flags") or ())
        grader, retry = split_grader(data["grader"], data.get("retry"))
        return cls(**{**data, "grader": grader, "retry": retry})

    def op(self, key: str) -> OpRow | None:
        return next((op for op in self.ops if op.op == key), None)


# Gradebooks made before `retry` was a column kept it as the end of the grader id.
LEGACY_SUFFIXES = {"!error": Retry.ERROR, "!isolation": Retry.ISOLATION}


def split_grader(grader: str, retry: str | None = None) -> tuple[str, Retry | None]:
    """A stored grader id and retry, with a legacy suffix moved into the retry."""
    for suffix, reason in LEGACY_SUFFIXES.items():
        if grader.endswith(suffix):
            return grader.removesuffix(suffix), Retry(retry) if retry else reason
    return grader, Retry(retry) if retry else None


@dataclass(frozen=True)
class BatchSettings:
    """How the gradebook's grades were made, for `gradkit regrade` and the next batch: the
    limits, the isolation choice, and the config given with `--config` (None: each folder's
    own assignment) for which nbgrader assignment (`config_for`, "" for all)."""

    VERSION = 1

    limits: Limits = field(default_factory=Limits)
    strong: bool | None = None
    config: Assignment | None = None
    config_for: str = ""

    def to_json(self) -> str:
        return json.dumps({"version": self.VERSION, "limits": asdict(self.limits),
                           "strong": self.strong,
                           "config": assignments.to_data(self.config) if self.config else None,
                           "config_for": self.config_for}, sort_keys=True)

    @classmethod
    def from_data(cls, data: dict) -> BatchSettings:
        limits = {name: value for name, value in (data.get("limits") or {}).items()
                  if name in Limits.__dataclass_fields__}  # a limit a later version dropped
        config = data.get("config")
        return cls(Limits(**limits), data.get("strong"),
                   assignments.from_data(config, "the gradebook's config") if config else None,
                   data.get("config_for") or "")

    @classmethod
    def from_json(cls, text: str) -> BatchSettings:
        data = json.loads(text)
        if data.get("version", cls.VERSION) > cls.VERSION:
            raise ValueError(f"batch settings version {data['version']} is newer than this "
                             f"gradkit reads ({cls.VERSION}); upgrade gradkit")
        return cls.from_data(data)


@dataclass(frozen=True)
class RosterEntry:
    """One student of the instructor's roster: gradkit's id and what an LMS knows them by.
    `columns` are the roster file's columns, so an export can tell an empty cell from a column
    the file does not have."""

    student: str
    name: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    email: str = ""
    idnumber: str = ""
    columns: frozenset[str] = frozenset()

    @classmethod
    def of(cls, row: dict[str, str | None]) -> RosterEntry:
        """A roster CSV's row; columns gradkit does not use are ignored."""
        known = {f.name for f in fields(cls)} - {"columns"}
        return cls(**{name: (row.get(name) or "").strip() for name in known},
                   columns=frozenset(name for name in row if name))
