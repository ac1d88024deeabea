"""The per-op table a person reads in a terminal, drawn with rich."""

from __future__ import annotations

import sys

from graders.model import Result
from graders.report import encode
from graders.report.sections import verdict
from graders.report.text import brief


def _isolation(result: Result) -> str:
    return "no student code ran" if result.isolation == "none" else \
        f"{result.isolation} isolation"


def render(result: Result, *, file=None, verbose: bool = False,
           audience: str = "student") -> None:
    """The table, in `audience`'s view. Every text is a `rich.text.Text` made by the terminal
    encoder: no markup is read from it and no escape sequence reaches the terminal."""
    file = file or sys.stdout
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=file, highlight=False, soft_wrap=False,
                      width=None if file.isatty() else 110)
    console.print(Text(encode.terminal(result.submission), style="bold"))
    for line in result.summary_lines(audience):
        style = "bold red" if line.startswith(("Not graded", "WARNING")) else "yellow"
        console.print(Text(encode.terminal(line), style=style))
    if result.problem:  # nothing ran: the one line above says it all, no table of zeros
        console.print(Text(f"score 0 / {result.max_score:g}", style="bold"))
        return
    table = Table(show_header=True, header_style="bold", expand=False)
    for column in ("task", "op", "points", "status", "what to look at"):
        table.add_column(column, overflow="fold")
    for op in result.ops:
        lines = brief(op, audience)
        status = Text(verdict(op), style="green" if op.passed else "red")
        detail = "\n".join(lines if verbose else lines[:4])
        table.add_row(op.task, op.key, f"{op.points:g}/{op.max_points:g}", status,
                      Text(encode.terminal(detail)))
    console.print(table)
    console.print(f"[bold]score {result.score:g} / {result.max_score:g}[/bold]  "
                  f"(seed {result.seed}, {_isolation(result)}, "
                  f"{result.seconds:.2f} s)")
