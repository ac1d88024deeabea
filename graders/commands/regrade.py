"""`gradkit regrade OUTDIR [--config NEW | --student ID --time-limit S] [--apply]`: diff first.

Grades every stored submission of OUTDIR (or only `--student`'s, with more time if asked) again
with today's grader and the config (the new one, or the one the grades were made with) into a
staged generation and prints what would change, identical changes grouped, with the reason
(also in OUTDIR/regrade/diff.md and diff.csv). Nothing in OUTDIR's grades changes until
`--apply`; the grades before are kept and `--restore N` brings them back
(`graders/classroom/regrade.py`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from graders.commands import VERBS, UsageError, options


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "regrade", help=VERBS["regrade"],
        description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, metavar="OUTDIR", help="a batch's --out folder")
    parser.add_argument("--config", default=None, metavar="FILE",
                        help="the assignment config to grade with (default: the one the "
                             "current grades were made with)")
    parser.add_argument("--apply", action="store_true",
                        help="make the regrade the current grades (the old ones are kept)")
    parser.add_argument("--restore", type=int, default=None, metavar="N",
                        help="make kept generation N the current grades again")
    parser.add_argument("--list", action="store_true",
                        help="list the generations in the order they were made")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="grading processes")
    one = parser.add_argument_group("one student (more time for a student whose grading was "
                                    "cut off)")
    one.add_argument("--student", action="append", default=[], metavar="ID",
                     help="regrade only this student (may be repeated); everyone else is "
                          "kept as they are")
    one.add_argument("--time-limit", type=float, metavar="SECONDS",
                     help="with --student: their wall-clock limit for the whole submission "
                          "(the batch's is the default, 60 unless it was given)")
    one.add_argument("--op-timeout", type=float, metavar="SECONDS",
                     help="with --student: their time for one op's checks (default 10)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from graders.classroom import regrade
    from graders.spec.assignments import ConfigError

    more = _more(args)
    try:
        if args.list:
            lines = regrade.listing(args.outdir)
        elif args.restore is not None:
            lines = regrade.restore(args.outdir, args.restore)
        else:
            lines = regrade.regrade(args.outdir, args.config, apply=args.apply,
                                    jobs=args.jobs, students=tuple(args.student), more=more)
    except (regrade.RegradeError, ConfigError) as error:
        raise UsageError(str(error)) from None
    print("\n".join(lines))
    return 0


def _more(args: argparse.Namespace) -> dict[str, float]:
    """The limits --time-limit and --op-timeout raise, checked as `gradkit grade` checks them."""
    options.limits(args)  # a value that cannot work is a usage error here too
    more = {}
    if args.time_limit is not None:
        more["submission_seconds"] = args.time_limit
    if args.op_timeout is not None:
        more["group_seconds"] = args.op_timeout
    if more and (args.list or args.restore is not None):
        raise UsageError("--time-limit and --op-timeout are for a regrade, not --list or "
                         "--restore")
    return more
