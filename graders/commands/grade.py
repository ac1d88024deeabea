"""`gradkit grade`: one file (`--results results.json`), or a class (`--out OUTDIR -j N`).

One file prints a readable per-op table (and, with `--github`/`--junit`, the CI outputs of
graders/report/ci.py). Folders or several files are a batch (graders/classroom/batch.py):
progress bar, a results file per submission, a resumable SQLite gradebook, grades.csv and a
class summary.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

from graders.commands import VERBS, UsageError, options


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "grade", help=VERBS["grade"],
        description="Run submissions in a sandbox and check every op against sympy. "
                    "One file: prints a table (--results writes results.json). Folders or "
                    "several files: a batch into --out OUTDIR.")
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                        help="a .ipynb or .py file; or folders (nbgrader submitted/ layout "
                             "or plain folders) with --out")
    parser.add_argument("--results", metavar="PATH",
                        help="one file: write Gradescope's results.json here")
    parser.add_argument("--seed", type=int, help="one file: reproduce a run's probe points")
    options.add_config(
        parser, "one file is graded as what its grade cells say (and the table names it); a "
                "batch grades as OUTDIR's stored config, else the nbgrader assignment "
                "folder's name, else backprop (docs/batch.md)")
    parser.add_argument("--verbose", "-v", action="store_true", help="show every detail")
    options.add_limits(parser)
    parser.add_argument("--weak-isolation", action="store_true",
                        help="do not use bubblewrap even where it is available, and grade a "
                             "class even where no OS wall (Landlock + seccomp) is available")
    parser.add_argument("--feedback", metavar="PATH", action="append", default=[],
                        help="one file: write a report a student can read, .html (formulas "
                             "rendered, works offline) or .md; may be repeated")
    parser.add_argument("--audience", choices=("student", "instructor"), default="student",
                        help="who reads every report of this run (the table, --feedback, "
                             "--github, --junit): a student (the default) sees only hidden "
                             "checks' verdicts; instructor shows everything")
    batch = parser.add_argument_group("grading a class")
    batch.add_argument("--out", metavar="OUTDIR",
                       help="batch: write results/ (a results file per student), gradebook.sqlite, "
                            "grades.csv, summary.md/.json and summary.html (the class "
                            "dashboard) into OUTDIR")
    batch.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="parallel worker processes (default: one per core)")
    batch.add_argument("--shard", metavar="K/N",
                       help="grade only shard K of N (a CI matrix, a Slurm array)")
    batch.add_argument("--assignment", metavar="NAME",
                       help="nbgrader layout: grade only this assignment folder")
    batch.add_argument("--executor", choices=("local", "dask"), default="local",
                       help="where gradings run (default: local processes)")
    batch.add_argument("--scheduler", metavar="ADDR",
                       help="Dask scheduler address for --executor dask (tcp://host:8786)")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar")
    ci = parser.add_argument_group("continuous integration (one file)")
    ci.add_argument("--github", action="store_true",
                    help="GitHub Actions: job summary, annotations, Classroom points output")
    ci.add_argument("--junit", metavar="PATH", help="write JUnit XML (one testcase per op)")
    parser.set_defaults(run=run)


def write_feedback(target: str, result, audience: str) -> Path:
    """The per-submission report, through a temporary file and a rename like results.json."""
    from graders.atomic import write_text_atomic
    from graders.report import html, markdown

    text = (markdown.page_markdown(result, audience) if target.endswith(".md")
            else html.page(result, audience))
    return write_text_atomic(target, text)


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.submissions]
    single = len(paths) == 1 and args.out is None
    if single:
        return run_one(args, paths[0])
    if args.out is None:
        raise UsageError("grading several submissions or a folder needs --out OUTDIR")
    for flag, value in (("--results", args.results), ("--seed", args.seed),
                        ("--feedback", args.feedback),
                        ("--github", args.github), ("--junit", args.junit)):
        if value:
            raise UsageError(f"{flag} is for one file; a batch writes OUTDIR/results/ "
                             "(seeds come from the gradebook)")
    return run_batch(args, paths)


def run_one(args: argparse.Namespace, path: Path) -> int:
    """Grade one file, show its table (or GitHub's outputs), write every file asked for."""
    from graders.report.terminal import render

    for target in args.feedback:  # a usage error before the grade, not after it
        if not target.endswith((".html", ".htm", ".md")):
            raise UsageError(f"--feedback {target}: the name must end in .html or .md")
    result, problem, failure = _grade_one(args, path)
    if args.github:
        from graders.report import ci
        ci.github(result, path, environ=os.environ, stream=sys.stdout, audience=args.audience)
    else:
        render(result, verbose=args.verbose, audience=args.audience)
    status = 0
    for target, write in _writers(args, result):
        try:
            write()
        except OSError as error:
            print(f"gradkit grade: error: cannot write {target}: {error}", file=sys.stderr)
            status = 1
    if problem or failure:
        print(f"gradkit grade: error: {problem or failure}", file=sys.stderr)
        return 2 if problem else 1
    return status


def _grade_one(args: argparse.Namespace, path: Path):
    """(result, problem, failure): the file's grade; or, when CI files are asked for, a 0 with
    the reason (`problem`: the file cannot be graded, a usage error otherwise; `failure`: the
    grader failed on it), since CI reads those files whatever happened."""
    from graders.api import grade, grader_failure, unscored
    from graders.spec.optable import BACKPROP

    problem = None
    if not path.exists() and not path.is_symlink():
        problem = f"{path}: no such file"
    elif path.is_dir():
        problem = (f"{path}: is a directory; give one .ipynb or .py file, "
                   "or grade the folder with --out OUTDIR")
    ci_files = args.github or args.junit or args.results
    if problem and not ci_files:
        raise UsageError(problem)
    if problem:
        return unscored(path, options.assignment(args) or BACKPROP, problem), problem, None
    try:
        assignment = options.assignment(args)
        if assignment is None:  # one file alone may be guessed, and says what was guessed
            from graders.api import guess

            assignment = guess(path)
            print(f"gradkit grade: graded as {assignment.name}, guessed from the file's "
                  "grade cells (backprop when it has none); --config NAME|FILE decides",
                  file=sys.stderr)
        return grade(path, seed=args.seed, limits=options.limits(args), assignment=assignment,
                     strong=False if args.weak_isolation else None), None, None
    except Exception as error:  # a grader fault: CI still gets its files, with the reason
        if not ci_files:
            raise
        failure = grader_failure(path, error)
        return unscored(path, options.assignment(args) or BACKPROP, failure), None, failure


def _writers(args: argparse.Namespace, result) -> list[tuple[str, Callable[[], object]]]:
    """Every file this run writes, each with how: the reports a student reads (`--feedback`),
    Gradescope's results.json (`--results`), JUnit XML (`--junit`). One failing to be written
    does not stop the others."""
    from graders.atomic import write_json_atomic
    from graders.report.gradescope import gradescope

    writers: list[tuple[str, Callable[[], object]]] = [
        (target, functools.partial(write_feedback, target, result, args.audience))
        for target in args.feedback]
    if args.results:
        writers.append((args.results,
                        lambda: write_json_atomic(args.results, gradescope(result))))
    if args.junit:
        from graders.report import ci

        writers.append((args.junit, lambda: ci.write_junit(result, args.junit, args.audience)))
    return writers


def _stored_config(out: Path, nbgrader_assignment: str):
    """The config OUTDIR's grades were made with (`--config`, or an applied regrade's), so a
    rerun without `--config` keeps those grades instead of grading everything back as the
    default; None for an OUTDIR graded without one, or with one for another `--assignment` of
    an nbgrader course."""
    from graders.classroom.batch import stored_config
    from graders.classroom.gradebook import Gradebook
    from graders.spec.assignments import ConfigError

    if not (out / "gradebook.sqlite").is_file():
        return None
    try:
        with Gradebook(out) as book:
            config = stored_config(book, nbgrader_assignment)
    except (ConfigError, ValueError) as error:
        raise UsageError(f"{out}: {error}; give --config to grade with another") from None
    if config is None:
        return None
    print(f"gradkit grade: grading with the config {out}'s grades were made with "
          f"({config.name}); --config changes it", file=sys.stderr)
    return config


def run_batch(args: argparse.Namespace, paths: list[Path]) -> int:
    from graders.classroom import batch, discover, executors
    from graders.run.sandbox import no_wall_reason
    reason = no_wall_reason(None)
    if reason and not args.weak_isolation:
        raise UsageError(
            f"no OS wall under the grader's audit hook here ({reason}; no usable bubblewrap "
            "either): a class is not graded for credit this way. Grade where bubblewrap or "
            "Landlock works, or pass --weak-isolation to accept the audit hook as the only "
            "wall (every report then says so)")
    if args.jobs < 1:
        raise UsageError(f"-j {args.jobs}: need at least 1 worker")
    if args.shard:
        try:
            discover.parse_shard(args.shard)
        except ValueError as error:
            raise UsageError(str(error)) from None
    if args.executor == "dask" and not args.scheduler:
        raise UsageError("--executor dask needs --scheduler ADDR (for example "
                         "tcp://scheduler:8786)")
    if args.scheduler and args.executor != "dask":
        raise UsageError("--scheduler is for --executor dask")
    missing = [str(path) for path in paths if not path.exists() and not path.is_symlink()]
    if missing:  # a typo is found now, not as a student row after the batch
        raise UsageError(f"{', '.join(missing)}: no such file or folder; nothing graded")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    settings = batch.Options(
        outdir=out, jobs=args.jobs, limits=options.limits(args),
        assignment=options.assignment(args) or _stored_config(out, args.assignment or ""),
        strong=False if args.weak_isolation else None, shard=args.shard,
        executor=args.executor, scheduler=args.scheduler,
        nbgrader_assignment=args.assignment,
        progress=False if args.no_progress else None)
    try:
        report = batch.run(paths, settings)
    except (executors.ExecutorError, batch.NothingToGrade) as error:
        raise UsageError(str(error)) from None
    print("\n".join(report.lines()))
    if report.interrupted:
        return 130  # a shell's Ctrl-C status: a script sees the batch did not finish
    if args.verbose:
        print((out / "summary.md").read_text(encoding="utf-8"))
    return 0
