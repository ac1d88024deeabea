"""Regrade a graded class with today's grader and config, and see what changes before it does.

`gradkit regrade OUTDIR [--config NEW]` grades every stored submission again (the batch keeps a
copy of each graded file in OUTDIR/store, by content hash) into a new gradebook generation that
is only *staged*: the grades, grades.csv and results files do not change. It prints and writes
(OUTDIR/regrade/diff.md, diff.csv) what would: per student old -> new score, per op, with the
reason. `--apply` makes the staged generation current (regrading first if the grader or config
differs from the staged one's); the previous grades are kept as their own generation, and
`--restore N` brings any kept generation back (keeping the current one in turn).

Reproducible: each submission is graded with the seed its current row records, so with the same
file, grader version and config the score is the same, and a diff shows only what the new
grader or config changed.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from graders import __version__, api
from graders.atomic import open_atomic, write_text_atomic
from graders.classroom import batch, executors, grading, seeds
from graders.classroom.gradebook import Gradebook, StaleGrades, rows_digest
from graders.classroom.grading import Grader
from graders.classroom.publishing import finish_publishing, publish_generation
from graders.classroom.records import Job, OpRow, Row, WorkerFailed
from graders.classroom.storing import (
    results_file,
    results_name,
    results_text,
    row_of,
    stored_copy,
    unscored,
)
from graders.spec import assignments
from graders.spec.optable import Assignment


class RegradeError(ValueError):
    """OUTDIR cannot be regraded; one line naming why."""


@dataclass
class Change:
    student: str
    assignment: str
    old: float
    new: float
    ops: list[tuple[str, str, str, str]] = field(default_factory=list)  # op, old, new, why


def _config(book: Gradebook, given: str | None) -> Assignment | None:
    if given:
        return api.check_assignment(assignments.resolve(given))
    return batch.stored_config(book)


def _has_copy(outdir: Path, row: Row) -> bool:
    return stored_copy(outdir, row.content_hash, row.path).exists()


def grade_again(outdir: Path, config: Assignment | None, jobs: int = 1,
                grader: Grader | None = None) -> tuple[list[tuple[Row, str | None]], list[Row]]:
    """Every current row graded again from its stored copy, with its recorded seed and the
    batch's limits and isolation; and the rows with no stored copy (never readable, decided
    before grading, or graded before OUTDIR kept copies), which are kept as they are."""
    with Gradebook(outdir) as book:
        rows = list(book.rows())
        settings = book.batch_settings()
    isolation = api.planned_isolation(settings.strong)
    planned, kept = [], []
    for row in rows:
        if not _has_copy(outdir, row):
            kept.append(row)
            continue
        assignment = batch.assignment_for(row.assignment, config)
        planned.append(Job(row.student, row.assignment,
                           str(stored_copy(outdir, row.content_hash, row.path)), assignment,
                           row.content_hash, row.seed,
                           seeds.grader_id(assignment, settings.limits, isolation),
                           settings.limits, settings.strong, shown_as=row.path))
    run = executors.inline if jobs <= 1 else (
        lambda fn, items: executors.local(fn, items, jobs))
    out: list[tuple[Row, str | None]] = []
    results_dir = outdir / "results"
    for job, graded in run(grading.grading(planned, grader or grading.grade), planned):
        if isinstance(graded, WorkerFailed):
            graded = unscored(job, f"the grader failed ({graded.reason})")
        target = results_dir / results_name(job.student, job.folder)
        out.append((row_of(job, graded, target), results_text(job, graded)))
    for row in kept:
        out.append((row, _results_text(outdir, row)))
    return sorted(out, key=lambda pair: (pair[0].student, pair[0].assignment)), kept


def _why(old: OpRow | None, new: OpRow | None) -> str:
    if old is None:
        return "newly graded (the config grades this op)"
    if new is None:
        return "no longer graded (the config drops this op)"
    if new.max_points != old.max_points:
        return f"worth {new.max_points:g} points instead of {old.max_points:g}"
    if new.status != old.status:
        named = f" ({new.diagnosis})" if new.diagnosis else ""
        return f"now {new.status}{named}"
    if new.diagnosis != old.diagnosis:
        return f"feedback: {old.diagnosis or 'no diagnosis'} -> " \
               f"{new.diagnosis or 'no diagnosis'}"
    return "partial credit changed"


def diff(old_rows: list[Row], new_rows: list[Row]) -> list[Change]:
    """Who changes: score, or any op's points or diagnosis (what a student would notice)."""
    before = {(r.student, r.assignment): r for r in old_rows}
    changes = []
    for row in new_rows:
        old = before.get((row.student, row.assignment))
        if old is None:
            continue
        old_ops = {op.op: op for op in old.ops}
        new_ops = {op.op: op for op in row.ops}
        change = Change(row.student, row.assignment, old.score, row.score)
        for key in dict.fromkeys([*old_ops, *new_ops]):
            a, b = old_ops.get(key), new_ops.get(key)
            same = a is not None and b is not None and a.points == b.points and \
                a.max_points == b.max_points and a.diagnosis == b.diagnosis
            if not same:
                change.ops.append((key, f"{a.points:g}/{a.max_points:g}" if a else "-",
                                   f"{b.points:g}/{b.max_points:g}" if b else "-",
                                   _why(a, b)))
        if change.ops or change.old != change.new:
            changes.append(change)
    return changes


def write_diff(outdir: Path, changes: list[Change], total: int, number: int,
               kept: list[Row] = ()) -> list[str]:
    """OUTDIR/regrade/diff.md and diff.csv; returns the lines printed."""
    folder = outdir / "regrade"
    folder.mkdir(exist_ok=True)
    scored = [c for c in changes if c.old != c.new]
    lines = [f"regrade (generation {number}, staged): {len(scored)} of {total} students change "
             f"score, {len(changes) - len(scored)} more change only an op's maximum or feedback"]
    if kept:
        lines.append(f"  not regraded (no stored copy, kept as they are): {len(kept)}: " +
                     ", ".join(row.student for row in kept))
    for c in changes:
        who = f"{c.student}" + (f" ({c.assignment})" if c.assignment else "")
        lines.append(f"  {who}: {c.old:g} -> {c.new:g}")
        lines += [f"    {op}: {a} -> {b}: {why}" for op, a, b, why in c.ops]
    write_text_atomic(folder / "diff.md", "# " + lines[0] + "\n\n" + "\n".join(
        f"- {line.strip()}" if not line.startswith("    ") else f"  - {line.strip()}"
        for line in lines[1:]) + "\n")
    with open_atomic(folder / "diff.csv", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "assignment", "old_score", "new_score", "op", "old", "new",
                         "reason"])
        for c in changes:
            for op, a, b, why in c.ops or [("", "", "", "")]:
                writer.writerow([c.student, c.assignment, f"{c.old:g}", f"{c.new:g}", op, a, b,
                                 why])
    return lines


def _results_text(outdir: Path, row: Row) -> str | None:
    path = results_file(outdir, row)
    return path.read_text() if path and path.exists() else None


def _gradebook(outdir: Path) -> Gradebook:
    """OUTDIR's gradebook, with an interrupted apply or restore's files finished first."""
    if not (outdir / "gradebook.sqlite").exists():
        raise RegradeError(f"{outdir}: no gradebook here; grade a class into it first")
    book = Gradebook(outdir)
    finish_publishing(outdir, book)
    return book


def regrade(outdir: Path, config_spec: str | None = None, apply: bool = False,
            jobs: int = 1, grader: Grader | None = None) -> list[str]:
    """Stage a regrade (and apply it with `apply`); returns the lines to print."""
    with _gradebook(outdir) as book:
        config = _config(book, config_spec)
        old_rows = list(book.rows())
        graded_from = rows_digest(old_rows)
        note = json.dumps({"config": assignments.to_data(config) if config else None,
                           "grader": __version__, "from": book.generation(),
                           "rows": graded_from}, sort_keys=True)
        staged = book.staged()
    if not old_rows:
        raise RegradeError(f"{outdir}: no grades to regrade yet")
    kept: list[Row] = []
    if apply and staged and staged[1] == note:  # reviewed as staged: apply exactly that
        number, new_rows = staged[0], [row for row, _ in staged[2]]
        kept = [row for row in old_rows if not _has_copy(outdir, row)]
    else:
        graded, kept = grade_again(outdir, config, jobs, grader)
        with Gradebook(outdir) as book:
            number = book.stage(graded, note)
        new_rows = [row for row, _ in graded]
    lines = write_diff(outdir, diff(old_rows, new_rows), len(old_rows), number, kept)
    if not apply:
        return [*lines, f"nothing in {outdir} changed yet: `gradkit regrade {outdir}"
                        f"{' --config ' + config_spec if config_spec else ''} --apply` makes "
                        f"generation {number} current"]
    with Gradebook(outdir) as book:
        previous = book.generation()
        try:
            book.make_current(number, lambda row: _results_text(outdir, row),
                              expected=graded_from)
        except StaleGrades as error:
            raise RegradeError(f"{outdir}: {error}") from None
        publish_generation(outdir, book)
    lines[0] = lines[0].replace("staged", "applied")
    return [*lines, f"generation {number} is current; the grades before are generation "
                    f"{previous}: `gradkit regrade {outdir} --restore {previous}` brings them "
                    "back"]


def restore(outdir: Path, number: int) -> list[str]:
    with _gradebook(outdir) as book:
        kept = {n: note for n, state, _made, note in book.generations() if state == "kept"}
        if number not in kept or number == book.generation():
            others = sorted(set(kept) - {book.generation()})
            raise RegradeError(f"{outdir}: no kept generation {number} to restore (kept: "
                               f"{', '.join(map(str, others)) or 'none'})")
        _config_of(kept[number])  # unusable: refuse now, before anything changes
        previous = book.generation()
        now = {(row.student, row.assignment) for row in book.rows()}
        book.make_current(number, lambda row: _results_text(outdir, row))
        publish_generation(outdir, book)
        back = {(row.student, row.assignment) for row in book.rows()}
    lines = [f"generation {number} is current again; generation {previous} is kept"]
    since = sorted(student for student, _ in now - back)
    if since:  # graded after generation `number` was made: its grades are as they were then
        lines.append(f"  not in generation {number} (graded since; their grades are in "
                     f"generation {previous}): {', '.join(since)}")
    return lines


def _config_of(note: str) -> Assignment | None:
    """The config a kept generation's note records (what its grades were made with)."""
    data = json.loads(note).get("config") if note else None
    try:
        return assignments.from_data(data, "the kept generation's config") if data else None
    except assignments.ConfigError as error:
        raise RegradeError(f"{error}; nothing was changed") from None


def listing(outdir: Path) -> list[str]:
    with _gradebook(outdir) as book:
        current = book.generation()
        found = book.generations()
    lines = [f"current: generation {current}"]
    lines += [f"  {n}: {state}{' (current)' if n == current else ''}, saved {made}"
              for n, state, made, _ in found]
    return lines
