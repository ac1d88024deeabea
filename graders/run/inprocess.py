"""Run a probe plan against a `Value` class in *this* process, producing a `model.Outcome`.

The self-check and the notebook grade cells run in the student's own kernel, where there is no
sandbox to start and the class already exists. They still must agree with `gradkit grade` to
the point, so this module reuses the child's own runners (`harness.run_op`, `run_backward`,
`run_reference`) and its strict number handling, and sends every record through the same JSON
encoding the child writes. Scoring and feedback then cannot tell the two paths apart.

This is *not* a security boundary: code in the same process can change anything. Use it for
self-checks and nbgrader (which runs everything in the student's kernel anyway), never as a
replacement for the sandboxed `gradkit grade`.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
import threading
import warnings
from collections.abc import Iterator

from graders.model import Group, Limits, Loaded, Outcome, Record, not_asked, valid_data, valid_text
from graders.run import harness
from graders.spec.optable import METHODS

GROUP_SECONDS = Limits().group_seconds  # one op's checks, the same time the sandbox gives


class GroupTimeout(BaseException):
    """A group of checks ran past its time (an infinite loop in a `_backward`?)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a runaway check with SIGALRM; only possible on the main thread (a kernel's
    cells run there), so elsewhere the checks simply run unlimited."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise GroupTimeout(f"after {seconds:g} s without an answer; an infinite loop or a "
                           "very slow computation in this op?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _plain(record: dict) -> dict:
    """The record exactly as the parent would read it from the child's pipe (NaN becomes the
    string "nan", objects become their type name, lone surrogates U+FFFD), so scoring sees
    identical data."""
    return valid_data(json.loads(harness.encode(record)))


def _run_case(namespace: dict, case: dict) -> Record:
    # Exception, not BaseException: the group timeout and a kernel interrupt must get through.
    return Record.parse(_plain(harness.evaluate(namespace, case, escapes=Exception)))


def run(namespace: dict, groups: list[Group], *, group_seconds: float = GROUP_SECONDS,
        capture: bool = True, needs_value: bool = True) -> Outcome:
    """Evaluate every group's checks on the names a notebook defined (`Value`, or a course
    task's functions and classes); never raises for the student's code.

    With `capture`, whatever the student's code prints (stdout, stderr, warnings) is collected
    into `Outcome.output` instead of reaching the notebook: nbgrader gives a grade cell zero
    points as soon as it writes to stderr, which `gradkit grade` would not do.
    """
    outcome = Outcome(isolation="none")
    buffer = io.StringIO()
    with contextlib.ExitStack() as stack:
        if capture:
            stack.enter_context(contextlib.redirect_stdout(buffer))
            stack.enter_context(contextlib.redirect_stderr(buffer))
            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("ignore")
        methods = list(dict.fromkeys((*METHODS, *(g.method for g in groups if g.method))))
        value = _plain(harness.describe_value(namespace, methods))
        outcome.loaded = Loaded.parse({"cells": [], "value": {**value, "own": True}})
        if needs_value and not isinstance(namespace.get("Value"), type):
            return outcome
        limit = sys.getrecursionlimit()
        try:
            for group in groups:
                skip = not_asked(group, outcome.group_errors)
                if skip:
                    outcome.group_errors[group.key] = skip
                    continue
                got: dict[str, Record] = {}
                try:
                    with _time_limit(group_seconds):
                        for case in group.cases:
                            got[case.id] = _run_case(namespace, case.message())
                except GroupTimeout as error:
                    outcome.group_errors[group.key] = str(error)
                except RecursionError:
                    outcome.group_errors[group.key] = "RecursionError while checking this op"
                # Checks answered before a timeout count, as in the sandbox: a backward() too
                # slow for the deep chain still passes (or fails) the diamond on its merits.
                outcome.records.update(got)
        finally:
            sys.setrecursionlimit(limit)  # run_backward raises it for the deep chain
    outcome.output = valid_text(buffer.getvalue())
    return outcome
