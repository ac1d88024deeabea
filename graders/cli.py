"""The `gradkit` command: a thin argparse front over one module per verb."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from typing import NoReturn

from graders import relax_collector
from graders.commands import VERBS, UsageError
from kit import __version__


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser, with the full sub-parser of the verb `argv` calls only (all of them when
    `argv` is None): each verb's module is imported only when that verb runs, so a grade does
    not pay for the imports of export, gradescope or course."""
    called = _verb(argv) if argv is not None else None
    parser = argparse.ArgumentParser(
        prog="gradkit",
        description="Teach autograd with micrograd; grade it against sympy.",
    )
    parser.add_argument("--version", action="version", version=f"gradkit {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for verb, text in VERBS.items():
        if argv is None or verb == called:
            importlib.import_module(f"graders.commands.{verb}").add_parser(subparsers)
        else:
            subparsers.add_parser(verb, help=text)
    return parser


def called(parser: argparse.ArgumentParser,
           args: argparse.Namespace) -> argparse.ArgumentParser:
    """The innermost parser `args` went through (`gradkit gradescope build`'s, not gradkit's),
    whose usage fits a mistake made on that command line."""
    while True:
        chosen = [action.choices[getattr(args, action.dest)] for action in parser._actions
                  if isinstance(action, argparse._SubParsersAction)
                  and getattr(args, action.dest, None) in action.choices]
        if not chosen:
            return parser
        parser = chosen[0]


def _verb(argv: list[str]) -> str | None:
    """The verb argv calls: its first word that is not an option (the top level has only
    --help and --version, which take no value)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in VERBS else None
    return None


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


def run() -> NoReturn:
    """The `gradkit` program: main(), then an exit without the interpreter's teardown.

    Tearing down a process that imported the grader costs more CPU than a small grade (every
    module's objects freed one by one); the work is done and written by then, so the streams
    are flushed and the process leaves at once. Library callers use main(), which returns.
    """
    relax_collector()
    try:
        status = main()
    except SystemExit as stop:  # argparse's --help, --version and usage errors
        status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if not isinstance(stop.code, int | None):
            print(stop.code, file=sys.stderr)
    gc.freeze()  # nothing more to collect: keep the collector off the way out
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass
    os._exit(status)


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # a mistyped flag: the usage of the verb it was given to, not the top level's
        called(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
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
    run()
