"""Flags that several verbs share, defined and checked once (pip's `cmdoptions`)."""

from __future__ import annotations

import argparse
from dataclasses import replace

from graders.commands import UsageError
from graders.model import Limits


def add_config(parser: argparse.ArgumentParser, without: str | None, *,
               positional: bool = False) -> None:
    """The assignment: a built-in name or an instructor's .toml/.json config. `without` says
    what this verb does when none is given (None: the verb needs one), since that differs
    from verb to verb and each verb's help must say its own."""
    text = ("the assignment: a built-in name (derivatives, backprop, mlp) or a .toml/.json file "
            "that sets ops, points, hidden checks (docs/assignments.md)")
    if without:
        text += f"; without it, {without}"
    if positional:
        parser.add_argument("config", metavar="ASSIGNMENT", help=text)
    else:
        parser.add_argument("--config", metavar="NAME|FILE", help=text)


def assignment(args: argparse.Namespace):
    """The assignment --config names; None without it."""
    from graders.spec.assignments import ConfigError, resolve

    if args.config is None:
        return None
    from graders.api import check_assignment

    try:
        return check_assignment(resolve(args.config))
    except ConfigError as error:
        raise UsageError(str(error)) from None


def add_limits(parser: argparse.ArgumentParser, *, op_timeout_only: bool = False) -> None:
    """Time and memory for the student's code."""
    parser.add_argument("--op-timeout", type=float, metavar="SECONDS",
                        help="time for one op's checks before it is failed (default 10)")
    if op_timeout_only:
        return
    parser.add_argument("--time-limit", type=float, metavar="SECONDS",
                        help="wall-clock limit for the whole submission (default 60)")
    parser.add_argument("--memory", type=int, metavar="MIB",
                        help="memory limit for the student's code, in MiB (default 1024)")


def limits(args: argparse.Namespace) -> Limits:
    """The limits the flags ask for, refusing values that cannot work."""
    found = Limits()
    if args.op_timeout is not None:
        if not args.op_timeout > 0:
            raise UsageError(f"--op-timeout {args.op_timeout:g}: must be more than 0 seconds")
        found = replace(found, group_seconds=args.op_timeout)
    time_limit = getattr(args, "time_limit", None)
    if time_limit is not None:
        if not time_limit > 0:
            raise UsageError(f"--time-limit {time_limit:g}: give a positive number of seconds")
        found = replace(found, submission_seconds=time_limit,
                        group_seconds=min(found.group_seconds, time_limit))
    memory = getattr(args, "memory", None)
    if memory is not None:
        if memory < 64:
            raise UsageError(f"--memory {memory}: give at least 64 (MiB)")
        found = replace(found, memory_bytes=memory << 20)
    return found
