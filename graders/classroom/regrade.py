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
from graders.classroom.gradebook import (
    EXTRA_LIMITS,
    Gradebook,
    StaleGrades,
    rows_digest,
    with_extra,
)
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


Extra = dict[tuple[str, str], dict[str, float]]  # (student, assignment) -> limits raised


def grade_again(outdir: Path, config: Assignment | None, jobs: int = 1,
                grader: Grader | None = None, only: frozenset[str] | None = None,
                extra: Extra | None = None,
                ) -> tuple[list[tuple[Row, str | None]], list[Row]]:
    """Every current row (of the students in `only`, when given: the others are carried over
    as they are) graded again from its stored copy, with its recorded seed, the batch's
    isolation and the batch's limits, raised where `extra` (default: the current grades')
    gave a student more; and the rows with no stored copy (never readable, decided before
    grading, or graded before OUTDIR kept copies), which are kept as they are."""
    with Gradebook(outdir) as book:
        rows = list(book.rows())
        settings = book.batch_settings()
        extra = book.extra_limits() if extra is None else extra
    isolation = api.planned_isolation(settings.strong)
    planned, kept = [], []
    out: list[tuple[Row, str | None]] = []
    for row in rows:
        if only is not None and row.student not in only:
            out.append((row, _results_text(outdir, row)))
            continue
        if not _has_copy(outdir, row):
            kept.append(row)
            continue
        assignment = batch.assignment_for(row.assignment, config)
        limits = with_extra(settings.limits, extra.get((row.student, row.assignment)))
        planned.append(Job(row.student, row.assignment,
                           str(stored_copy(outdir, row.content_hash, row.path)), assignment,
                           row.content_hash, row.seed,
                           seeds.grader_id(assignment, limits, isolation),
                           limits, settings.strong, shown_as=row.path))
    run = executors.inline if jobs <= 1 else (
        lambda fn, items: executors.local(fn, items, jobs))
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


SHOWN = 10  # names listed in one grouped diff line; diff.csv has every student


def _who(change: Change) -> str:
    return change.student + (f" ({change.assignment})" if change.assignment else "")


def grouped(changes: list[Change]) -> list[str]:
    """The changes, students with the same op changes together: who (one student with their
    score, or "26 students (score +1 each): ada, bob, ..."), then each op change once, indented.
    A points change that moves 26 students reads once, not 26 times; largest groups first."""
    groups: dict[tuple, list[Change]] = {}
    for change in changes:
        groups.setdefault(tuple(change.ops), []).append(change)
    lines = []
    for ops, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        if len(members) == 1:
            change = members[0]
            lines.append(f"  {_who(change)}: {change.old:g} -> {change.new:g}")
        else:
            moved = {change.new - change.old for change in members}
            names = ", ".join(_who(c) if len(moved) == 1 else
                              f"{_who(c)} {c.old:g} -> {c.new:g}" for c in members[:SHOWN])
            if len(members) > SHOWN:
                names += f", and {len(members) - SHOWN} more (regrade/diff.csv)"
            score = f"score {moved.pop():+g} each" if len(moved) == 1 else "scores"
            lines.append(f"  {len(members)} students ({score}): {names}")
        lines += [f"    {op}: {a} -> {b}: {why}" for op, a, b, why in ops]
    return lines


def write_diff(outdir: Path, changes: list[Change], total: int, number: int,
               kept: list[Row] = (), said: list[str] = ()) -> list[str]:
    """OUTDIR/regrade/diff.md and diff.csv; returns the lines printed (the headline, the
    lines in `said`, who was not regraded, then the changes grouped)."""
    folder = outdir / "regrade"
    folder.mkdir(exist_ok=True)
    scored = [c for c in changes if c.old != c.new]
    lines = [f"regrade (generation {number}, staged): {len(scored)} of {total} students change "
             f"score, {len(changes) - len(scored)} more change only an op's maximum or "
             "feedback", *said]
    if kept:
        lines.append(f"  not regraded (no stored copy, kept as they are): {len(kept)}: " +
                     ", ".join(row.student for row in kept))
    lines += grouped(changes)
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


LIMIT_WORDS = {"submission_seconds": "time limit", "group_seconds": "op timeout"}


def _limits_text(limits: dict[str, float]) -> str:
    return ", ".join(f"{LIMIT_WORDS.get(name, name)} {value:g} s"
                     for name, value in limits.items())


def _more_for(rows: list[Row], students: frozenset[str], more: dict[str, float],
              current: Extra) -> Extra:
    """The extra limits after this regrade: the current ones, raised by `more` for every row
    of `students`."""
    extra = dict(current)
    for row in rows:
        if row.student in students and more:
            key = (row.student, row.assignment)
            extra[key] = {**extra.get(key, {}), **{
                name: max(value, extra.get(key, {}).get(name, 0)) for name, value in
                more.items()}}
    return extra


def regrade(outdir: Path, config_spec: str | None = None, apply: bool = False,
            jobs: int = 1, grader: Grader | None = None, students: tuple[str, ...] = (),
            more: dict[str, float] | None = None) -> list[str]:
    """Stage a regrade (and apply it with `apply`); returns the lines to print. With
    `students`, only they are graded again (the others are carried over as they are); `more`
    raises their limits (`{"submission_seconds": 120}`), kept with the grades so a later batch
    or regrade grades them with it too."""
    more = more or {}
    if more and not students:
        raise RegradeError("more time is given to named students (--student ID); for the "
                           "whole class, grade again: `gradkit grade ... --out OUTDIR "
                           "--time-limit S`")
    with _gradebook(outdir) as book:
        config = _config(book, config_spec)
        old_rows = list(book.rows())
        graded_from = rows_digest(old_rows)
        current = book.extra_limits()
        base = book.batch_settings().limits
        generation, staged = book.generation(), book.staged()
    if not old_rows:
        raise RegradeError(f"{outdir}: no grades to regrade yet")
    for name, value in more.items():
        if value <= getattr(base, name):
            flag = "--" + LIMIT_WORDS[name].replace(" ", "-")
            raise RegradeError(f"{flag} {value:g}: the class already has {getattr(base, name):g} "
                               "s; a regrade gives a student more, never less")
    only = frozenset(students) if students else None
    unknown = sorted(set(students) - {row.student for row in old_rows})
    if unknown:
        known = sorted({row.student for row in old_rows})
        raise RegradeError(f"{outdir}: no grades for {', '.join(unknown)} (students here: "
                           f"{', '.join(known[:20])}{', ...' if len(known) > 20 else ''})")
    extra = _more_for(old_rows, only or frozenset(), more, current)
    note = json.dumps({"config": assignments.to_data(config) if config else None,
                       "grader": __version__, "from": generation, "rows": graded_from,
                       "students": sorted(students),
                       EXTRA_LIMITS: sorted([*key, value] for key, value in extra.items())},
                      sort_keys=True)
    kept: list[Row] = []
    if apply and staged and staged[1] == note:  # reviewed as staged: apply exactly that
        number, new_rows = staged[0], [row for row, _ in staged[2]]
        kept = [row for row in old_rows if not _has_copy(outdir, row)
                and (only is None or row.student in only)]
    else:
        graded, kept = grade_again(outdir, config, jobs, grader, only, extra)
        with Gradebook(outdir) as book:
            number = book.stage(graded, note)
        new_rows = [row for row, _ in graded]
    said = []
    if students:
        class_limits = {name: getattr(base, name) for name in more}
        before = {(row.student, row.assignment): row.score for row in old_rows}
        scores = ", ".join(f"{row.student} {before[row.student, row.assignment]:g} -> "
                           f"{row.score:g}" for row in new_rows if row.student in students
                           and (row.student, row.assignment) in before)
        said.append(f"  graded again: {scores}" + (
            f", with {_limits_text(more)} (the class: {_limits_text(class_limits)})"
            if more else "") + "; everyone else is kept as they are")
    lines = write_diff(outdir, diff(old_rows, new_rows), len(old_rows), number, kept, said)
    if not apply:
        asked = "".join(f" --student {student}" for student in students) + "".join(
            f" --{LIMIT_WORDS[name].replace(' ', '-')} {value:g}" for name, value in
            more.items())
        return [*lines, f"nothing in {outdir} changed yet: `gradkit regrade {outdir}"
                        f"{' --config ' + config_spec if config_spec else ''}{asked} --apply` "
                        f"makes generation {number} current"]
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
    """The generations in the order they were made, each with when, what made it (the config,
    the students given more time) and which one is current."""
    with _gradebook(outdir) as book:
        current = book.generation()
        found = book.generations()
    lines = [f"current: generation {current}"]
    if current not in [number for number, *_ in found]:
        lines.append(f"  {current}: current (the batch's grades)")
    for number, state, made, note in found:
        data = json.loads(note) if note else {}
        said = [f"config {data['config'].get('name', 'given')}" if data.get("config") else ""]
        said += [f"{student} with {_limits_text(limits)}"
                 for student, _folder, limits in data.get(EXTRA_LIMITS, [])]
        what = "; ".join(filter(None, said))
        lines.append(f"  {number}: {state}{' (current)' if number == current else ''}, "
                     f"made {made}" + (f": {what}" if what else ""))
    return lines
