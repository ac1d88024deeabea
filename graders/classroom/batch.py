"""Grade a whole class: find submissions, grade them in parallel, record each as it finishes.

This is the run loop: it turns what `discover` found into `records.Job`s, hands them to the
grader (`grading.grade`, or a fake one in tests) on the chosen executor, and stores each grade
as it arrives (`storing`: results file, then the gradebook row, the commit point). A rerun skips
exactly the done ones whose file and grader are unchanged. `publishing` regenerates grades.csv
and the class summary from the gradebook at the end of every run.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from graders import api
from graders.classroom import discover, executors, grading, seeds
from graders.classroom.gradebook import Gradebook, content_hash, with_extra
from graders.classroom.grading import Grader
from graders.classroom.publishing import finish_publishing, publish
from graders.classroom.records import BatchSettings, Graded, Job, Retry, Row, WorkerFailed
from graders.classroom.storing import failed, keep, store, stored_copy, unscored
from graders.model import Limits, valid_text
from graders.spec import assignments
from graders.spec.optable import Assignment


class NothingToGrade(ValueError):
    """The paths given hold no submission: an empty folder, or the wrong one."""


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
    grader: Grader | None = None  # what grades one job: `grading.grade` (tests replace it)


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
    interrupted: bool = False  # Ctrl-C: the grades stored before it are kept, the rest wait

    def kept(self) -> int:
        """The grades this run stored (a grade, a 0 with its reason, or a grader error)."""
        return self.graded + self.ungradable + self.errors

    def line(self) -> str:
        if self.interrupted:
            waiting = self.found - self.kept() - self.unchanged
            before = f" (and {self.unchanged} from before)" if self.unchanged else ""
            return (f"interrupted: {self.kept()} grades of this run are kept{before} in "
                    f"{self.outdir / 'gradebook.sqlite'} and {self.outdir / 'grades.csv'}; "
                    f"{waiting} of {self.found} submissions are not graded yet: run the same "
                    "command again to grade the rest (nothing kept is graded twice)")
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
    # Counted in submissions ("12/40 submissions"), never a rate: a rerun's unchanged and
    # unreadable files are stored in a blink and made a "635.7/s" that meant nothing.
    return Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("submissions"), TaskProgressColumn(), TimeRemainingColumn(),
                    console=console, disable=not enabled)


def run(paths: list[str | Path], options: Options) -> Report:
    """Grade every submission under `paths` into `options.outdir`; see the module docstring."""
    outdir = Path(options.outdir)
    found = discover.discover(paths, assignment=options.nbgrader_assignment)
    if not found:  # before OUTDIR is made: a wrong folder leaves nothing behind
        only = (f" for assignment {options.nbgrader_assignment}"
                if options.nbgrader_assignment else "")
        raise NothingToGrade(
            f"{', '.join(map(str, paths))}: no .ipynb or .py submission found{only} "
            "(looked for nbgrader's submitted/<student>/<assignment>/, <student>.ipynb or "
            "<student>/<file>.ipynb); nothing graded")
    results_dir = outdir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    subs = discover.shard(found, options.shard)
    report = Report(found=len(subs), outdir=outdir,
                    renamed=[f"{sub.student}: {sub.renamed}" for sub in subs if sub.renamed])
    isolation = api.planned_isolation(options.strong)
    with Gradebook(outdir) as book:
        finish_publishing(outdir, book)
        extra = book.extra_limits()  # students a regrade gave more time keep it
        jobs, known = [], []
        for sub in subs:
            digest = content_hash(sub.path)
            problem, retry = sub.problem, None
            try:
                assignment = assignment_for(sub.assignment, options.assignment)
            except Exception as error:  # a grader fault on this file costs its row only
                assignment = options.assignment or assignments.DEFAULT
                problem = api.grader_failure(sub.path, error, "reading")
                retry = Retry.ERROR  # not a verdict: the next run tries again
            if options.assignment is None and sub.assignment not in assignments.BUILTIN:
                report.defaulted = assignment.name
            limits = with_extra(options.limits, extra.get((sub.student, sub.assignment)))
            grader = seeds.grader_id(assignment, limits, isolation)
            if book.current(sub.student, sub.assignment, digest, grader):
                report.unchanged += 1  # graded before the store existed: keep a copy now
                if not problem:
                    keep(stored_copy(outdir, digest, sub.path),
                         Job(sub.student, sub.assignment, str(sub.path), assignment, digest))
                continue
            job = Job(sub.student, sub.assignment, str(sub.path), assignment, digest,
                      book.seed_for(digest, grader), grader, limits, options.strong)
            if problem:
                known.append((job, unscored(job, problem, retry)))
            else:
                jobs.append(job)
        progress = _progress(options.progress)
        try:
            with progress:
                task = progress.add_task("grading", total=len(jobs) + len(known))
                for job, graded in known:  # decided before grading: nothing to regrade
                    _count(report, job, *store(book, results_dir, job, graded,
                                               keep_copy=False))
                    progress.advance(task)
                for job, graded in _execute(options, jobs):
                    _count(report, job, *store(book, results_dir, job, _checked(
                        job, graded, isolation, options.strong)))
                    progress.advance(task)
        except KeyboardInterrupt:
            # Each grade is committed as it arrives; publish those, so grades.csv and the
            # summary say what the gradebook holds, and a rerun grades only the rest.
            report.interrupted = True
        settings = book.batch_settings()
        book.save_batch_settings(
            BatchSettings(options.limits, options.strong, options.assignment,
                          options.nbgrader_assignment or "")
            if options.assignment is not None  # what `gradkit regrade` grades with again
            else replace(settings, limits=options.limits, strong=options.strong))
        rows = list(book.rows())
    report.unmatched = unmatched_clusters(rows, options.assignment)
    publish(rows, options.assignment, outdir, isolation)
    return report


def _checked(job: Job, graded: Graded | WorkerFailed, isolation: str,
             strong: bool | None) -> Graded:
    """A worker's grade as the batch keeps it: a worker's failure is the grader's fault,
    retried next run; so is a grade made without an OS wall the batch did not accept; a child
    given other containment than planned is kept, and regraded next run."""
    if isinstance(graded, WorkerFailed):
        return failed(job, api.grader_failure(job.submitted, graded.reason))
    got = graded.result.isolation
    if got == "weak" and strong is not False:
        # a worker with no OS wall (dask): not a grade for credit without the flag
        return failed(job, f"{job.submitted}: graded on a worker with no OS wall under the "
                           "audit hook (no bubblewrap, no Landlock); not counted: rerun on "
                           "workers that have one, or with --weak-isolation")
    if got not in ("none", isolation.partition("-")[0].partition("+")[0]):
        return replace(graded, retry=Retry.ISOLATION)
    return graded


def _count(report: Report, job: Job, row: Row, graded: Graded) -> None:
    """What the run's report says of one stored grade."""
    if row.retry is Retry.ERROR:
        report.errors += 1
        report.failed.append(f"{job.student}: {row.problem}")
    elif row.problem:
        report.ungradable += 1
        report.not_gradable.append(f"{job.student}: {row.problem}")
    else:
        report.graded += 1
    if row.note:
        report.notes.append(f"{job.student}: {row.note[:1].lower()}{row.note[1:]}")
    if row.flags:
        report.flagged.append(f"{job.student}: {'; '.join(row.flags)}")


def unmatched_clusters(rows: list[Row], assignment: Assignment | None) -> list[str]:
    """The config's named clusters that no row is in, by id or by the formula's diagnosis."""
    if assignment is None:
        return []
    seen = {(op.op, value) for row in rows for op in row.ops
            for value in (op.cluster, op.diagnosis) if value}
    return [c.id for c in assignment.clusters
            if (c.op, c.id) not in seen and (c.op, c.key) not in seen]


def stored_config(book: Gradebook, nbgrader_assignment: str | None = None,
                  ) -> Assignment | None:
    """The config the gradebook's grades were made with (a batch's `--config`, or an applied
    regrade's); None for grades made by each file's own detection, or when the config was given
    for another nbgrader assignment than `nbgrader_assignment` (week 4's config is no answer
    key for week 5's notebooks)."""
    settings = book.batch_settings()
    if nbgrader_assignment is not None and settings.config_for != nbgrader_assignment:
        return None
    return settings.config


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
    settings = book.batch_settings()
    applies = settings.config_for in ("", folder)
    return assignment_for(folder, settings.config if applies else None)


def max_score(assignment: Assignment) -> float:
    """The assignment's maximum: what every submission graded as it is out of."""
    return api.unscored("", assignment, "").max_score


def _execute(options: Options, jobs: list[Job]):
    fn = grading.grading(jobs, options.grader or grading.grade)
    if options.executor == "dask":
        return executors.dask(fn, jobs, options.scheduler)
    if options.jobs <= 1:
        return executors.inline(fn, jobs)
    return executors.local(fn, jobs, options.jobs)
