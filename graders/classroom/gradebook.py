"""The batch's single source of truth: one SQLite file in OUTDIR, one transaction per submission.

Why SQLite: a grade is either fully recorded (row, per-op rows and audit entry together) or not at
all, even after `kill -9` or a power cut (WAL journal, synchronous=FULL). A rerun asks the
gradebook which submissions are already graded, by content hash and grader version, so nothing is
graded twice and nothing is skipped. Only the batch's parent process writes here; workers (local
or Dask) return plain data.

Seeds: a batch's probe points come from HMAC-SHA256(course secret, content hash + grader), the
secret being 32 random bytes made once per gradebook and kept in it. The same file graded twice
into the same gradebook gets the same points (and so the same score); a student, who never sees
OUTDIR, cannot predict them. The seed is also recorded per row, so any grading can be replayed
with `gradkit grade FILE --seed SEED`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from graders.api import SubmissionError, open_regular
from graders.classroom import seeds
from graders.classroom.records import LEGACY_SUFFIXES, BatchSettings, OpRow, Retry, Row
from graders.model import Limits, valid_text
from graders.spec import assignments

FILENAME = "gradebook.sqlite"
EXTRA_LIMITS = "limits_for"  # a generation note's [student, assignment, {limit: value}] list
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grades (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    grader TEXT NOT NULL,
    seed INTEGER,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    problem TEXT,
    results_file TEXT,
    seconds REAL,
    graded_at TEXT NOT NULL,
    note TEXT,
    flags TEXT,
    retry TEXT,
    PRIMARY KEY (student, assignment)
);
CREATE TABLE IF NOT EXISTS op_results (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL DEFAULT '',
    op TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    status TEXT NOT NULL,
    diagnosis TEXT,
    cluster TEXT,
    evidence TEXT,
    PRIMARY KEY (student, assignment, op)
);
CREATE TABLE IF NOT EXISTS generations (
    number INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    made_at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS generation_rows (
    generation INTEGER NOT NULL,
    student TEXT NOT NULL,
    assignment TEXT NOT NULL DEFAULT '',
    row TEXT NOT NULL,
    results TEXT
);
CREATE TABLE IF NOT EXISTS gradings (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    grader TEXT NOT NULL,
    score REAL NOT NULL,
    graded_at TEXT NOT NULL
);
"""


PUBLISH_PENDING = "publish_pending"  # meta: a generation made current whose files are unwritten
SETTINGS = "batch_settings"  # meta: records.BatchSettings as versioned JSON


def with_extra(base: Limits, extra: dict[str, float] | None) -> Limits:
    """`base` with the limits a student was given more of raised (never lowered: a class
    rerun with more time for everyone gives them that too)."""
    if not extra:
        return base
    return replace(base, **{name: max(getattr(base, name), value)
                            for name, value in extra.items()
                            if name in Limits.__dataclass_fields__})


def rows_digest(rows: list[Row]) -> str:
    """Which grades `rows` are (who, which file, graded how, with which seed): a regrade staged
    against one digest is not applied over another."""
    text = json.dumps(sorted([r.student, r.assignment, r.content_hash, r.grader, r.seed]
                             for r in rows))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stored(*values: object) -> tuple:
    """A row's values as SQLite can store them: texts as valid UTF-8 (a file name that is not
    UTF-8, a lone surrogate in a problem, would make it refuse the row)."""
    return tuple(valid_text(v) if isinstance(v, str) else v for v in values)


def _flags(stored: str | None) -> tuple[str, ...]:
    """A row's flags as stored (a JSON list of texts; NULL for none, and in rows made before
    flags existed)."""
    try:
        flags = json.loads(stored) if stored else []
    except ValueError:
        return ()
    return tuple(flag for flag in flags if isinstance(flag, str)) if isinstance(flags, list) \
        else ()


class StaleGrades(RuntimeError):
    """The grades changed under a regrade being applied; nothing was changed."""


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes; a file that is missing, unreadable, not a regular file (a
    FIFO, a symlink to a device) or too big hashes the reason instead, read without opening
    anything that could block, so it still gets a stable key (and a row)."""
    digest = hashlib.sha256()
    try:
        with os.fdopen(open_regular(Path(path)), "rb") as handle:
            for block in iter(lambda: handle.read(1 << 16), b""):
                digest.update(block)
    except (OSError, SubmissionError) as error:
        reason = str(error).removeprefix(f"{path}: ")
        digest.update(f"unreadable: {reason}".encode())
        return "unreadable-" + digest.hexdigest()[:56]
    return digest.hexdigest()


class Gradebook:
    """A gradebook in `outdir`; created on first use."""

    def __init__(self, outdir: str | os.PathLike) -> None:
        self.path = Path(outdir) / FILENAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(op_results)")}
        for column in ("cluster", "evidence"):  # a gradebook made before clusters existed
            if column not in columns:
                self.db.execute(f"ALTER TABLE op_results ADD COLUMN {column} TEXT")
        grades = {row[1] for row in self.db.execute("PRAGMA table_info(grades)")}
        for column in ("note", "flags", "retry"):  # a gradebook made before these
            if column not in grades:
                self.db.execute(f"ALTER TABLE grades ADD COLUMN {column} TEXT")
        if "retry" not in grades:  # it rode on the grader id as "!error" / "!isolation"
            for suffix, reason in LEGACY_SUFFIXES.items():
                self.db.execute(
                    "UPDATE grades SET retry=?, grader=substr(grader, 1, length(grader)-?) "
                    "WHERE grader LIKE ?", (reason.value, len(suffix), f"%{suffix}"))
        self._secret: bytes | None = None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def secret(self) -> bytes:
        """The per-course secret for seeds, made on first use (in one transaction, so two
        processes racing to create it agree)."""
        if self._secret is not None:
            return self._secret
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key='secret'").fetchone()
            if row is None:
                value = os.urandom(32).hex()
                self.db.execute("INSERT INTO meta VALUES ('secret', ?)", (value,))
            else:
                value = row[0]
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self._secret = bytes.fromhex(value)
        return self._secret

    def seed_for(self, digest: str, grader: str) -> int:
        return seeds.seed(self.secret(), digest, grader)

    def current(self, student: str, assignment: str, digest: str, grader: str) -> bool:
        """True if this exact file was already graded by this grader, for good (no retry
        pending): no need to grade again."""
        row = self.db.execute(
            "SELECT 1 FROM grades WHERE student=? AND assignment=? AND content_hash=? "
            "AND grader=? AND retry IS NULL",
            _stored(student, assignment, digest, grader)).fetchone()
        return row is not None

    def record(self, row: Row) -> None:
        """Store one grade, its per-op rows and an audit entry, all or nothing."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._insert(row)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _insert(self, row: Row) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        key = _stored(row.student, row.assignment)
        self.db.execute(
            "INSERT OR REPLACE INTO grades (student, assignment, path, content_hash, grader, "
            "seed, score, max_score, problem, results_file, seconds, graded_at, note, flags, "
            "retry) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            _stored(*key, row.path, row.content_hash, row.grader, row.seed, row.score,
                    row.max_score, row.problem, row.results_file, row.seconds, now, row.note,
                    json.dumps(list(row.flags)) if row.flags else None,
                    row.retry.value if row.retry else None))
        self.db.execute("DELETE FROM op_results WHERE student=? AND assignment=?", key)
        self.db.executemany(
            "INSERT INTO op_results (student, assignment, op, points, max_points, status, "
            "diagnosis, cluster, evidence) VALUES (?,?,?,?,?,?,?,?,?)",
            [_stored(*key, op.op, op.points, op.max_points, op.status, op.diagnosis, op.cluster,
                     op.evidence) for op in row.ops])
        self.db.execute("INSERT INTO gradings VALUES (?,?,?,?,?,?)",
                        (*key, row.content_hash, row.grader, row.score, now))

    def rows(self) -> Iterator[Row]:
        """Every grade, sorted by student, with its per-op rows."""
        ops: dict[tuple[str, str], list[OpRow]] = {}
        for student, assignment, *op in self.db.execute(
                "SELECT student, assignment, op, points, max_points, status, diagnosis, "
                "cluster, evidence FROM op_results ORDER BY rowid"):
            ops.setdefault((student, assignment), []).append(OpRow(*op))
        for record in self.db.execute(
                "SELECT student, assignment, path, content_hash, grader, seed, score, "
                "max_score, problem, results_file, seconds, note, flags, retry FROM grades "
                "ORDER BY student, assignment"):
            *values, note, flags, retry = record
            yield Row(*values, ops=tuple(ops.get((values[0], values[1]), ())), note=note,
                      flags=_flags(flags), retry=Retry(retry) if retry else None)

    def gradings(self) -> list[tuple[str, str, str]]:
        """The audit trail: (student, assignment, content hash) for every grading recorded."""
        return list(self.db.execute(
            "SELECT student, assignment, content_hash FROM gradings ORDER BY rowid"))


    # --- settings and generations (gradkit regrade) ------------------------------------------

    def setting(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def batch_settings(self) -> BatchSettings:
        """How the grades here were made (the defaults before a batch recorded it); a
        gradebook made before one value held them kept them as three keys."""
        stored = self.setting(SETTINGS)
        if stored:
            return BatchSettings.from_json(stored)
        config = self.setting("config")
        return BatchSettings.from_data({**json.loads(self.setting("grading") or "{}"),
                                        "config": json.loads(config) if config else None,
                                        "config_for": self.setting("config_for") or ""})

    def save_batch_settings(self, settings: BatchSettings) -> None:
        self.set_setting(SETTINGS, settings.to_json())

    def generation(self) -> int:
        """The number of the generation the grades tables hold (1 until a regrade applies)."""
        return int(self.setting("generation") or 1)

    def generations(self) -> list[tuple[int, str, str, str]]:
        """(number, state, made at, note) of every kept or staged generation, in the order
        they were made."""
        return list(self.db.execute("SELECT * FROM generations ORDER BY number"))

    def extra_limits(self) -> dict[tuple[str, str], dict[str, float]]:
        """The students the current grades gave more time (`gradkit regrade --student ID
        --time-limit S`): (student, assignment) -> the limits raised for them, which a batch
        and a regrade grade them with again, so a rerun does not take the time back."""
        note = json.loads(self.setting("note") or "{}")
        return {(student, folder): limits
                for student, folder, limits in note.get(EXTRA_LIMITS, [])}

    def _save(self, number: int, state: str, note: str,
              rows: list[tuple[Row, str | None]], made: str | None = None) -> None:
        """Store a generation's rows; its made time is `made` (default now) the first time,
        and never changes after (kept again after a restore, it was still made then), so the
        list of generations reads in the order they were made."""
        self.db.execute("DELETE FROM generation_rows WHERE generation=?", (number,))
        self.db.execute(
            "INSERT INTO generations VALUES (?,?,?,?) ON CONFLICT(number) DO UPDATE SET "
            "state=excluded.state, note=excluded.note",
            (number, state, made or time.strftime("%Y-%m-%dT%H:%M:%S%z"), note))
        self.db.executemany("INSERT INTO generation_rows VALUES (?,?,?,?,?)",
                            [(number, row.student, row.assignment, row.to_json(), results)
                             for row, results in rows])

    def _load(self, number: int) -> list[tuple[Row, str | None]]:
        return [(Row.from_json(data), results) for data, results in self.db.execute(
            "SELECT row, results FROM generation_rows WHERE generation=? ORDER BY rowid",
            (number,))]

    def stage(self, rows: list[tuple[Row, str | None]], note: str) -> int:
        """Keep a regrade's rows (with their results files' text) beside the grades, which
        do not change; replaces any earlier staged regrade."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for (number,) in list(self.db.execute(
                    "SELECT number FROM generations WHERE state='staged'")):
                self.db.execute("DELETE FROM generation_rows WHERE generation=?", (number,))
                self.db.execute("DELETE FROM generations WHERE number=?", (number,))
            number = max([self.generation(), *(n for n, *_ in self.generations())]) + 1
            self._save(number, "staged", note, rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return number

    def staged(self) -> tuple[int, str, list[tuple[Row, str | None]]] | None:
        found = self.db.execute(
            "SELECT number, note FROM generations WHERE state='staged'").fetchone()
        return (found[0], found[1], self._load(found[0])) if found else None

    def _note_with_config(self) -> str:
        """The current generation's note, with the config its grades were made with now (a
        batch run with another --config since the note was written changes it): what a
        restore of this generation grades with again."""
        note = json.loads(self.setting("note") or "{}")
        config = self.batch_settings().config
        note["config"] = assignments.to_data(config) if config else None
        return json.dumps(note, sort_keys=True)

    def make_current(self, number: int, results_text: Callable[[Row], str | None],
                     expected: str | None = None) -> None:
        """Keep the current grades as their generation, then make generation `number` (staged
        or kept) the grades, with the config its note records, in one transaction;
        `results_text` reads a row's results file. With `expected` (a `rows_digest`), refuses if
        the grades changed since (a batch ran meanwhile) instead of dropping its rows."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            rows = list(self.rows())
            if expected is not None and rows_digest(rows) != expected:
                raise StaleGrades("grades were recorded in this OUTDIR while the regrade ran; "
                                  "nothing was changed: run the regrade again")
            current = self.generation()
            new = self._load(number)
            if not new and number != current:
                raise KeyError(number)
            # made when its first grade was (the batch's, for generation 1, which is saved
            # here for the first time)
            made = self.db.execute("SELECT MIN(graded_at) FROM grades").fetchone()[0]
            self._save(current, "kept", self._note_with_config(),
                       [(row, results_text(row)) for row in rows], made)
            self.db.execute("DELETE FROM grades")
            self.db.execute("DELETE FROM op_results")
            for row, _ in new:
                self._insert(row)
            note = self.db.execute("SELECT note FROM generations WHERE number=?",
                                   (number,)).fetchone()[0]
            self.db.execute("UPDATE generations SET state='kept' WHERE number=?", (number,))
            self.set_setting("generation", str(number))
            self.set_setting(PUBLISH_PENDING, str(number))  # cleared once its files are written
            self.set_setting("note", note)
            config = json.loads(note).get("config") if note else None
            self.save_batch_settings(replace(
                self.batch_settings(),
                config=assignments.from_data(config, "the generation's config") if config
                else None))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def results_of(self, number: int) -> dict[tuple[str, str], str | None]:
        return {(row.student, row.assignment): results for row, results in self._load(number)}
