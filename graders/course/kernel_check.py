"""`selfcheck(Value)`: a student's own table of ops, passed / wrong / not implemented.

It runs in the student's kernel, with no sandbox, but with everything else the grader uses
(`graders.api.grade_class`): the op table, a fresh probe plan, the child's runners, the scorer
and the feedback catalogue. So a row that passes here passes in `gradkit grade`, and a row that
fails says the same thing the grade report will say. In Jupyter the table is HTML
(`_repr_html_`); anywhere else it is plain text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from graders import api
from graders.judge import probes
from graders.model import OpResult, total
from graders.report import html as report_html
from graders.report.sections import (  # noqa: F401 - the self-check's public names
    ERROR,
    NOT_IMPLEMENTED,
    PASSED,
    WRONG,
    stub_message,
    verdict,
)
from graders.report.text import explain
from graders.spec.optable import BACKPROP, Assignment

status_of = verdict  # the report's vocabulary, under the self-check's old name


@dataclass
class Row:
    task: str
    op: str
    title: str
    status: str
    points: float
    max_points: float
    lines: list[str] = field(default_factory=list)

    @classmethod
    def from_result(cls, op: OpResult) -> Row:
        status = status_of(op)
        lines = [stub_message(op)] if status == NOT_IMPLEMENTED else explain(op)
        return cls(op.task, op.key, op.title, status, op.points, op.max_points, lines)


@dataclass
class Report:
    """The self-check's verdict; displays itself as an HTML table or plain text."""

    rows: list[Row]
    seed: int
    output: str = ""
    problem: str | None = None
    results: list[OpResult] = field(default_factory=list)

    @property
    def score(self) -> float:
        return total(row.points for row in self.rows)

    @property
    def max_score(self) -> float:
        return total(row.max_points for row in self.rows)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in self.rows:
            found[row.status] = found.get(row.status, 0) + 1
        return found

    def summary(self) -> str:
        parts = ", ".join(f"{n} {status}" for status, n in self.counts().items())
        return (f"self-check: {self.score:g} / {self.max_score:g} points ({parts}; seed "
                f"{self.seed}). Advice only: grades come from gradkit's sandboxed grader.")

    def __str__(self) -> str:
        if self.problem:
            return f"self-check: {self.problem}"
        lines = [self.summary(), f"{'task':<6}{'op':<19}{'points':<9}status"]
        for row in self.rows:
            points = f"{row.points:g}/{row.max_points:g}"
            lines.append(f"{row.task:<6}{row.op:<19}{points:<9}{row.status}")
            lines += [f"{'':<6}  {line}" for line in row.lines[:4]]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The grade report's own table (formulas as MathML), with the self-check's words."""
        esc = html.escape
        if self.problem:
            return f"<p><b>self-check:</b> {esc(self.problem)}</p>"
        table = report_html.table(self.results, "student", status_of=status_of)
        return f"<p><b>{esc(self.summary())}</b></p>{table}"


def config_assignment(config: str | Path) -> Assignment:
    """The assignment of a config file beside the notebook (`gradkit course new` writes one
    as course.toml), checked as `gradkit grade --config` checks it."""
    from graders.spec import assignments

    return api.check_assignment(assignments.from_file(config))


def check(cls: object, *, assignment: Assignment = BACKPROP, seed: int | None = None,
          config: str | Path | None = None) -> Report:
    """Score `cls` on every op of `assignment` (or of the `config` file) in this process and
    return the report."""
    if config is not None:
        assignment = config_assignment(config)
    seed = probes.new_seed() if seed is None else seed
    if not isinstance(cls, type):
        return Report([], seed, problem=f"pass your Value class itself, not a "
                                        f"{type(cls).__name__}: selfcheck(Value)")
    results, outcome, seed = api.grade_class(cls, assignment=assignment, seed=seed)
    return Report([Row.from_result(op) for op in results], seed, output=outcome.output,
                  results=results)


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def selfcheck(cls: object, *, assignment: Assignment = BACKPROP,
              seed: int | None = None, config: str | Path | None = None) -> None:
    """Print (or, in Jupyter, display) the self-check table for your `Value` class.

    Returns nothing on purpose, so the table shows once wherever the call sits in a cell;
    use `graders.selfcheck.check` for the report as data.
    """
    report = check(cls, assignment=assignment, seed=seed, config=config)
    if _in_ipython():
        from IPython.display import display

        display(report)
    else:
        print(report)

