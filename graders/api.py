"""The programmatic API that `gradkit grade` mirrors: `grade(path) -> Result`."""

from __future__ import annotations

import time
from pathlib import Path

from graders.judge import oracle as oracle_module
from graders.judge import probes, scoring
from graders.report.gradescope import Result
from graders.run import session
from graders.run.loader import SubmissionError, load
from graders.run.sandbox import Limits
from graders.spec.optable import BACKPROP, Assignment
from kit import __version__


def _value_problem(loaded: dict) -> str | None:
    value = loaded.get("value", {})
    if not value.get("found"):
        return "the submission does not define a class named `Value`"
    if not value.get("is_class"):
        return f"`Value` is a {value.get('kind', 'non-class')}, not a class"
    if not value.get("own"):
        module = value.get("module", "another module")
        return (f"`Value` is imported from `{module}`, not defined by the submission; "
                "write the class yourself")
    return None


def _environment_notes(loaded: dict, cells: list[dict]) -> list[str]:
    """Say what differs from the student's own kernel: no third-party modules, no plots."""
    notes = []
    stand_ins = [str(name)[:40] for name in loaded.get("stand_ins", []) if isinstance(name, str)]
    if stand_ins:
        notes.append(f"While grading, {', '.join(stand_ins)} ran as silent stand-ins: "
                     "plots and pictures are not drawn.")
    missing = sorted({str(c.get("error", "")).split("'")[1] for c in cells
                      if str(c.get("error", "")).startswith("ModuleNotFoundError")
                      and str(c.get("error", "")).count("'") >= 2})
    if missing:
        notes.append(f"The grader runs your code with Python's standard library only: "
                     f"{', '.join(missing)} cannot be imported there. Write Value with `math`.")
    return notes


def grade(path: str | Path, *, assignment: Assignment = BACKPROP, seed: int | None = None,
          limits: Limits | None = None, strong: bool | None = None) -> Result:
    """Grade one `.ipynb` or `.py` submission. Never raises for a bad submission: the
    returned Result carries `problem` and a score of 0 instead."""
    started = time.monotonic()
    seed = probes.new_seed() if seed is None else seed
    result = Result(submission=str(path), seed=seed, grader_version=__version__)
    try:
        program = load(path)
    except SubmissionError as error:
        result.problem = str(error)
        result.ops = scoring.unscored(assignment, result.problem)
        result.seconds = time.monotonic() - started
        return result
    result.notes = list(program.notes)
    groups = probes.plan(assignment, seed)
    outcome = session.run(program, groups, limits or Limits(), strong=strong)
    result.isolation = outcome.isolation
    result.notes += outcome.notes  # containment caveats (no cgroup, unexpected interpreter)
    result.output, result.output_truncated = outcome.output, outcome.output_truncated
    if outcome.loaded is None:
        result.problem = f"{path}: {outcome.load_error or 'the submission could not be run'}"
    else:
        result.cells = [c for c in outcome.loaded.get("cells", []) if isinstance(c, dict)]
        result.notes += _environment_notes(outcome.loaded, result.cells)
        result.problem = _value_problem(outcome.loaded)
        syntax = [c for c in result.cells if c.get("status") == "syntax"]
        if result.problem and syntax:
            first = syntax[0]
            result.problem = (f"{path}: cell {first.get('index')}, line {first.get('line')}: "
                              f"{first.get('error')}, so no class `Value` could be defined")
        if result.problem is None:
            result.ops = scoring.score(assignment, groups, outcome, oracle_module.load())
    if result.problem:
        result.ops = scoring.unscored(assignment, result.problem)
    result.seconds = time.monotonic() - started
    return result
