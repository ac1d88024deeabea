"""The `gradkit` command: a thin argparse front over one module per verb."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from graders.commands import VERBS, UsageError
from kit import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradkit",
        description="Teach autograd with micrograd; grade it against sympy.",
    )
    parser.add_argument("--version", action="version", version=f"gradkit {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for verb in VERBS:
        importlib.import_module(f"graders.commands.{verb}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        status = _main(argv)
        sys.stdout.flush()  # a buffered stdout meets a closed pipe here, not at exit
        return status
    except BrokenPipeError:
        # The reader went away (`gradkit ops | head`): stop quietly, as cat and grep do. Point
        # stdout at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except UsageError as error:
        print(f"gradkit {args.verb}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gradkit {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
