"""Grade a whole class: find submissions, grade them in parallel, record each as it finishes.

The order of writes is what makes a batch safe to kill at any moment: a worker grades and returns
plain data; the parent writes that student's results file (atomically), then commits the
gradebook row (one transaction). A submission is "done" only once its row is committed, and a
rerun skips exactly the done ones whose file and grader are unchanged. `grades.csv` and the class
summary are regenerated from the gradebook at the end of every run.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from graders import __version__, api, relax_collector
from graders.atomic import write_json_atomic
from graders.classroom import dashboard, discover, executors, seeds, summary
from graders.classroom.gradebook import PUBLISH_PENDING, Gradebook, Row, content_hash
from graders.judge import oracle
from graders.model import Limits, valid_text
from graders.report.encode import csv_cell
from graders.report.gradescope import gradescope
from graders.run.loader import SubmissionError, open_regular
from graders.run.sandbox import planned_isolation
from graders.spec import assignments
from graders.spec.declared import DeclarationError
from graders.spec.optable import COURSE, Assignment


@dataclass
class Options:
    """How to run a batch; the CLI fills this from its flags."""

    outdir: Path
    jobs: int = 1
    limits: Limits = field(default_factory=Limits)
    strong: bool | None = None
    shard: str | None = None
    executor: str = "local"  # "local" or "dask"
    scheduler: object = None  # address, or a distributed.Client (tests)
    # The assignment, for every submission; None: an nbgrader folder's built-in assignment, else
    # assignments.DEFAULT. Never the file's own say (`assignment_for`).
    assignment: Assignment | None = None
    nbgrader_assignment: str | None = None  # only this assignment of an nbgrader layout
    progress: bool | None = None  # None: only when stderr is a terminal


@dataclass
class Report:
    """What one run did; the gradebook holds the grades themselves."""

    found: int = 0
    graded: int = 0
    unchanged: int = 0
    ungradable: int = 0
    errors: int = 0
    outdir: Path = Path(".")
    renamed: list[str] = field(default_factory=list)  # ids that are not the name on disk
    not_gradable: list[str] = field(default_factory=list)  # "student: reason", this run's
    failed: list[str] = field(default_factory=list)  # "student: reason": the grader's faults
    unmatched: list[str] = field(default_factory=list)  # named clusters nobody is in
    notes: list[str] = field(default_factory=list)  # "student: this file looks like ..."
    flagged: list[str] = field(default_factory=list)  # "student: cell 7 interrupted; ..."
    defaulted: str | None = None  # the default assignment's name, if a submission got it

    def line(self) -> str:
        return (f"{self.found} submissions: {self.graded} graded, {self.unchanged} unchanged "
                f"(not regraded), {self.ungradable} not gradable, {self.errors} grader errors; "
                f"grades in {self.outdir / 'grades.csv'}")

    def lines(self) -> list[str]:
        """The summary line, then who could not be graded and why, and each id that had to be
        changed and why: one line each."""
        default = [] if self.defaulted is None else [
            f"graded as {self.defaulted}, the default assignment: no --config was given, and "
            "none is stored in OUTDIR; give --config NAME|FILE to grade another (a submission "
            "never chooses)"]
        return [valid_text(line) for line in (
            self.line(), *default, *(f"not gradable: {line}" for line in self.not_gradable),
            *(f"grader error: {line}" for line in self.failed),
            *(f"note: {line}" for line in self.notes),
            *(f"flagged: {line}" for line in self.flagged),
            *(f"id {line}" for line in self.renamed),
            *(f"cluster {name}: named in the config, but no submission here has it (a "
              "typo in the id? the dashboard lists the ids)" for name in self.unmatched))]


def _op_rows(ops) -> list[dict]:
    return [{"op": op.key, "points": op.points, "max_points": op.max_points,
             "status": op.status, "diagnosis": op.diagnosis.key if op.diagnosis else None,
             "cluster": op.cluster, "evidence": op.cluster_evidence or None}
            for op in ops]


def grade_job(job: dict) -> dict:
    """Runs in a worker (a pool process or a Dask worker): grade one file, return plain data."""
    result = api.grade(job["path"], assignment=job["assignment"], seed=job["seed"],
                   limits=Limits(**job["limits"]), strong=job["strong"])
    return {"gradescope": gradescope(result), "score": result.score,
            "max_score": result.max_score, "problem": result.problem,
            "seconds": result.seconds, "ops": _op_rows(result.ops),
            "isolation": result.isolation, "note": result.assignment_note,
            "flags": result.flags}


def unscored_outcome(path: str, assignment: Assignment, reason: str) -> dict:
    """The outcome of a submission that cannot be graded: score 0, every op, the reason."""
    result = api.unscored(path, assignment, reason)
    return {"gradescope": gradescope(result), "score": 0.0, "max_score": result.max_score,
            "problem": reason, "seconds": 0.0, "ops": _op_rows(result.ops), "isolation": "none"}


def results_name(student: str, assignment: str) -> str:
    return f"{student}__{assignment}.json" if assignment else f"{student}.json"


def _progress(enabled: bool | None):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(file=sys.stderr)
    enabled = console.is_terminal if enabled is None else enabled
    return Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                    TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
                    TimeRemainingColumn(), console=console, disable=not enabled)


def run(paths: list[str | Path], options: Options) -> Report:
    """Grade every submission under `paths` into `options.outdir`; see the module docstring."""
    outdir = Path(options.outdir)
    results_dir = outdir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    subs = discover.shard(discover.discover(paths, assignment=options.nbgrader_assignment),
                          options.shard)
    report = Report(found=len(subs), outdir=outdir,
                    renamed=[f"{sub.student}: {sub.renamed}" for sub in subs if sub.renamed])
    with Gradebook(outdir) as book:
        finish_publishing(outdir, book)
        jobs, known = [], []
        isolation = planned_isolation(options.strong)
        for sub in subs:
            digest = content_hash(sub.path)
            problem = sub.problem
            try:
                assignment = assignment_for(sub.assignment, options.assignment)
            except Exception as error:  # a grader fault on this file costs its row only
                assignment = options.assignment or assignments.DEFAULT
                problem = api.grader_failure(sub.path, error, "reading")
            if options.assignment is None and sub.assignment not in assignments.BUILTIN:
                report.defaulted = assignment.name
            grader = seeds.grader_id(assignment, options.limits, isolation)
            if book.current(sub.student, sub.assignment, digest, grader):
                report.unchanged += 1  # graded before the store existed: keep a copy now
                if not problem:
                    _keep_copy(stored_copy(outdir, digest, sub.path),
                               {"hash": digest, "path": str(sub.path)})
                continue
            job = {"student": sub.student, "nbgrader": sub.assignment, "path": str(sub.path),
                   "hash": digest, "seed": book.seed_for(digest, grader),
                   # not a verdict when the grader failed: the next run tries again
                   "grader": grader + (FAILED if problem and not sub.problem else ""),
                   "assignment": assignment, "limits": asdict(options.limits),
                   "strong": options.strong}
            (known if problem else jobs).append((job, problem))
        progress = _progress(options.progress)
        with progress:
            task = progress.add_task("grading", total=len(jobs) + len(known), rate="")
            for job, problem in known:  # decided before grading: nothing to regrade, no copy
                _store(book, results_dir, job,
                       unscored_outcome(job["path"], job["assignment"], problem), report,
                       keep_copy=False)
                progress.advance(task)
            for job, outcome in _execute(options, [job for job, _ in jobs]):
                if "error" in outcome:
                    job, outcome = _failed(job, api.grader_failure(job["path"], outcome["error"]))
                elif outcome["isolation"] == "weak" and options.strong is not False:
                    # a worker with no OS wall (dask): not a grade for credit without the flag
                    job, outcome = _failed(job, (
                        f"{job['path']}: graded on a worker with no OS wall under the audit "
                        "hook (no bubblewrap, no Landlock); not counted: rerun on workers that "
                        "have one, or with --weak-isolation"))
                elif outcome["isolation"] not in ("none", isolation.partition("-")[0]
                                                  .partition("+")[0]):
                    # the child got other containment than planned: keep it, regrade next run
                    job = {**job, "grader": job["grader"] + "!isolation"}
                _store(book, results_dir, job, outcome, report)
                progress.advance(task)
                speed = progress.tasks[0].speed
                progress.update(task, rate=f"{speed:.1f}/s" if speed else "")
        if options.assignment is not None:  # what `gradkit regrade` grades with again
            book.set_setting("config", json.dumps(assignments.to_data(options.assignment)))
            book.set_setting("config_for", options.nbgrader_assignment or "")
        book.set_setting("grading", json.dumps({"limits": asdict(options.limits),
                                                "strong": options.strong}))
        rows = list(book.rows())
    report.unmatched = unmatched_clusters(rows, options.assignment)
    publish(rows, options.assignment, outdir, isolation)
    return report


def unmatched_clusters(rows: list[Row], assignment: Assignment | None) -> list[str]:
    """The config's named clusters that no row is in, by id or by the formula's diagnosis."""
    if assignment is None:
        return []
    seen = {(op["op"], value) for row in rows for op in row.ops
            for value in (op.get("cluster"), op.get("diagnosis")) if value}
    return [c.id for c in assignment.clusters
            if (c.op, c.id) not in seen and (c.op, c.key) not in seen]


def stored_config(book: Gradebook, nbgrader_assignment: str | None = None,
                  ) -> Assignment | None:
    """The config the gradebook's grades were made with (a batch's `--config`, or an applied
    regrade's); None for grades made by each file's own detection, or when the config was given
    for another nbgrader assignment than `nbgrader_assignment` (week 4's config is no answer
    key for week 5's notebooks)."""
    if nbgrader_assignment is not None and \
            (book.setting("config_for") or "") != nbgrader_assignment:
        return None
    stored = book.setting("config")
    return assignments.from_data(json.loads(stored), "the gradebook's config") if stored \
        else None


def stored_grading(book: Gradebook) -> tuple[Limits, bool | None]:
    """The limits and isolation choice the last batch graded with (defaults before the
    gradebook recorded them): a regrade grades under the same ones."""
    stored = json.loads(book.setting("grading") or "{}")
    known = {name: value for name, value in stored.get("limits", {}).items()
             if name in Limits.__dataclass_fields__}  # a limit a later version dropped
    return Limits(**known), stored.get("strong")


def results_file(outdir: Path, row: Row) -> Path | None:
    """Where the row's results file is now: under OUTDIR/results, wherever OUTDIR has moved."""
    return outdir / "results" / Path(row.results_file).name if row.results_file else None


def publish_generation(outdir: Path, book: Gradebook) -> None:
    """Write the files of the generation a regrade's apply or restore made current (results
    files from the gradebook's copy of their text, grades.csv, the summaries); until they are
    written, the gradebook marks them pending, and the next grade or regrade writes them."""
    results = book.results_of(book.generation())
    rows = list(book.rows())
    for row in rows:
        text = results.get((row.student, row.assignment))
        if text and row.results_file:
            write_json_atomic(results_file(outdir, row), json.loads(text))
    publish(rows, stored_config(book), outdir, planned_isolation(stored_grading(book)[1]))
    book.set_setting(PUBLISH_PENDING, "")


def finish_publishing(outdir: Path, book: Gradebook) -> None:
    """Finish an apply or restore that was interrupted after the gradebook changed."""
    if book.setting(PUBLISH_PENDING):
        publish_generation(outdir, book)


def publish(rows: list[Row], assignment: Assignment | None, outdir: Path,
            isolation: str) -> None:
    """grades.csv, summary.md/json and summary.html, all from the gradebook's rows."""
    columns = assignment or _whole_course()
    export_csv(rows, columns, outdir / "grades.csv")
    summary.write(rows, columns, outdir)
    dashboard.write(rows, summary.summarize(rows, columns)[0], outdir, isolation=isolation,
                    grader=__version__)


STORE = "store"  # OUTDIR/store: a copy of every graded file, by content hash (for regrades)


def stored_copy(outdir: Path, digest: str, path: str | Path) -> Path:
    return Path(outdir) / STORE / f"{digest}{Path(path).suffix}"


def assignment_for(folder: str, config: Assignment | None) -> Assignment:
    """What a batch grades a submission as, from what the instructor gave, never the file:
    the config (`--config`, or the one OUTDIR's grades were made with); else the nbgrader
    assignment folder's name, when it is a built-in assignment; else the default."""
    if config is not None:
        return config
    return assignments.BUILTIN.get(folder, assignments.DEFAULT)


def graded_as(book: Gradebook, folder: str) -> Assignment:
    """What the rows of one nbgrader assignment (`""`: plain files) were graded as, by the
    batch's rule: the stored config where it was given for them, else `assignment_for`'s."""
    applies = (book.setting("config_for") or "") in ("", folder)
    return assignment_for(folder, stored_config(book) if applies else None)


def max_score(assignment: Assignment) -> float:
    """The assignment's maximum: what every submission graded as it is out of."""
    return api.unscored("", assignment, "").max_score


def _whole_course() -> Assignment:
    """Every task of the course in course order: grades.csv's columns for a mixed batch."""
    return Assignment("course", tuple(key for a in COURSE for key in a.ops))


@dataclass(frozen=True)
class Grading:
    """`grade_job` with the batch's answer keys handed over: each assignment's declared ops and
    clusters are derived once, here, before any worker starts, and a worker adopts them instead
    of importing sympy and deriving them again (picklable, so pools and Dask carry it)."""

    keys: tuple[oracle.Handover, ...] = ()

    def __call__(self, job: dict) -> dict:
        relax_collector()  # a worker, like the CLI
        for key in self.keys:
            oracle.adopt(key)
        return grade_job(job)


def grading(jobs: list[dict]) -> Grading:
    """The grading of `jobs`, with the answer keys of every assignment among them."""
    keys = []
    for assignment in {id(job["assignment"]): job["assignment"] for job in jobs}.values():
        try:
            key = oracle.handover(assignment)
        except DeclarationError:  # each of its jobs fails with the reason, as it did alone
            continue
        if key is not None:
            keys.append(key)
    return Grading(tuple(keys))


def _execute(options: Options, jobs: list[dict]):
    fn = grading(jobs)
    if options.executor == "dask":
        return executors.dask(fn, jobs, options.scheduler)
    if options.jobs <= 1:
        return executors.inline(fn, jobs)
    return executors.local(fn, jobs, options.jobs)


def results_data(job: dict, outcome: dict) -> dict:
    """The results file: Gradescope's results.json, with who, which file and which seed."""
    data = outcome["gradescope"]
    data.setdefault("extra_data", {}).update(
        {"student": job["student"], "seed": job["seed"], "content_hash": job["hash"],
         "grader": job["grader"]})
    return data


def row_of(job: dict, outcome: dict, target: Path | None) -> Row:
    """The gradebook row of a graded job; `original` is the file's path when a stored copy of
    it was graded (a regrade)."""
    return Row(job["student"], job["nbgrader"], job.get("original", job["path"]), job["hash"],
               job["grader"], job["seed"], outcome["score"], outcome["max_score"],
               outcome["problem"], str(target) if target else None, outcome["seconds"],
               outcome["ops"], outcome.get("note"), list(outcome.get("flags") or []))


FAILED = "!error"  # the end of the grader key of a row the grader failed on: regraded next run


def _failed(job: dict, reason: str) -> tuple[dict, dict]:
    """The job and outcome of a submission the grader failed on: score 0 with the reason."""
    job = {**job, "grader": job["grader"].removesuffix(FAILED) + FAILED}
    return job, unscored_outcome(job["path"], job["assignment"], reason)


def _store(book: Gradebook, results_dir: Path, job: dict, outcome: dict,
           report: Report, keep_copy: bool = True) -> None:
    """Results file first, then the gradebook row: the row is the commit point. Failing to
    store one submission's grade makes that row's reason, not the end of the batch."""
    target: Path | None = results_dir / results_name(job["student"], job["nbgrader"])
    try:
        write_json_atomic(target, results_data(job, outcome))
        if keep_copy:
            _keep_copy(stored_copy(results_dir.parent, job["hash"], job["path"]), job)
        book.record(row_of(job, outcome, target))
    except Exception as error:
        reason = api.grader_failure(job["path"], error, "storing the grade of")
        job, outcome = _failed(job, reason)
        try:
            write_json_atomic(target, results_data(job, outcome))
        except OSError:  # the same file cannot be written: the row alone carries the reason
            target = None
        book.record(row_of(job, outcome, target))
    if job["grader"].endswith(FAILED):
        report.errors += 1
        report.failed.append(f"{job['student']}: {outcome['problem']}")
    elif outcome["problem"]:
        report.ungradable += 1
        report.not_gradable.append(f"{job['student']}: {outcome['problem']}")
    else:
        report.graded += 1
    if outcome.get("note"):
        note = outcome["note"]
        report.notes.append(f"{job['student']}: {note[:1].lower()}{note[1:]}")
    if outcome.get("flags"):
        report.flagged.append(f"{job['student']}: {'; '.join(outcome['flags'])}")


def _keep_copy(copy: Path, job: dict) -> None:
    """The graded bytes, for `gradkit regrade`; kept only if they still hash as graded (a file
    that changed or vanished meanwhile is not regraded: its row is kept as it is)."""
    if job["hash"].startswith("unreadable-") or copy.exists():
        return
    temporary = copy.with_name(f".{copy.name}.tmp")
    try:
        copy.parent.mkdir(exist_ok=True)
        with os.fdopen(open_regular(Path(job["path"])), "rb") as source, \
                open(temporary, "wb") as target:
            shutil.copyfileobj(source, target)
        if content_hash(temporary) == job["hash"]:
            temporary.replace(copy)
    except (OSError, SubmissionError):
        pass
    finally:
        temporary.unlink(missing_ok=True)


def export_csv(rows: list[Row], assignment: Assignment, path: Path) -> None:
    """grades.csv: one row per student, a column of points per op, total, the problem, and
    the note (a file that looks like another assignment, then the row's flags: a cell
    interrupted, an op's time limit hit). Every text cell goes through `csv_cell`; numbers
    are the grader's own."""
    present = {op["op"] for row in rows for op in row.ops}
    ops = [key for key in assignment.ops if key in present]
    ops += sorted(present - set(ops))
    with_assignment = any(row.assignment for row in rows)
    header = ["student", *(["assignment"] if with_assignment else []), *ops,
              "total", "max_score", "problem", "note"]
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            points = {op["op"]: op["points"] for op in row.ops}
            writer.writerow([csv_cell(row.student),
                             *([csv_cell(row.assignment)] if with_assignment else []),
                             *(f"{points[key]:g}" if key in points else "" for key in ops),
                             f"{row.score:g}", f"{row.max_score:g}", csv_cell(row.problem or ""),
                             csv_cell("; ".join(filter(None, [row.note, *row.flags])))])
    temporary.replace(path)
