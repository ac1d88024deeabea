"""`gradkit grade SUBMISSION --results results.json`: grade one file, print a table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graders.cli import UsageError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "grade", help="grade a submission (.ipynb or .py)",
        description="Run a submission in a sandbox and check every op against sympy.")
    parser.add_argument("submission", help="the student's .ipynb or .py file")
    parser.add_argument("--results", metavar="PATH",
                        help="write Gradescope's results.json here")
    parser.add_argument("--seed", type=int, help="reproduce a run's probe points")
    parser.add_argument("--verbose", "-v", action="store_true", help="show every detail")
    parser.add_argument("--weak-isolation", action="store_true",
                        help="do not use bubblewrap even where it is available")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from graders.api import grade
    from graders.report import render
    from graders.results import gradescope, write_json_atomic

    path = Path(args.submission)
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{path}: no such file")
    if path.is_dir():
        raise UsageError(f"{path}: is a directory; give one .ipynb or .py file")
    result = grade(path, seed=args.seed, strong=False if args.weak_isolation else None)
    render(result, verbose=args.verbose)
    if args.results:
        try:
            write_json_atomic(args.results, gradescope(result))
        except OSError as error:
            print(f"gradkit grade: error: cannot write {args.results}: {error}",
                  file=sys.stderr)
            return 1
    return 0
