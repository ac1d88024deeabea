"""`gradkit regrade OUTDIR [--config NEW] [--apply]`: regrade a class, see the diff first.

Grades every stored submission of OUTDIR again with today's grader and the config (the new one,
or the one the grades were made with) into a staged generation and prints what would change,
per student and op, with the reason (also in OUTDIR/regrade/diff.md and diff.csv). Nothing in
OUTDIR's grades changes until `--apply`; the grades before are kept and `--restore N` brings
them back (`graders/classroom/regrade.py`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from graders.commands import VERBS, UsageError


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
    parser.add_argument("--list", action="store_true", help="list the generations")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="grading processes")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from graders.classroom import regrade
    from graders.spec.assignments import ConfigError

    try:
        if args.list:
            lines = regrade.listing(args.outdir)
        elif args.restore is not None:
            lines = regrade.restore(args.outdir, args.restore)
        else:
            lines = regrade.regrade(args.outdir, args.config, apply=args.apply,
                                    jobs=args.jobs)
    except (regrade.RegradeError, ConfigError) as error:
        raise UsageError(str(error)) from None
    print("\n".join(lines))
    return 0
