"""The graded result of one submission, and how it is written: Gradescope's results.json.

Results are written only by the parent, after every child is gone: to a temporary file in the
target directory, then renamed over the target, refusing to write through a symlink.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.atomic import write_text_atomic
from graders.judge.scoring import OpResult


@dataclass
class Result:
    """Everything known about one graded submission."""

    submission: str
    ops: list[OpResult] = field(default_factory=list)
    problem: str | None = None  # why the submission could not be graded at all
    cells: list[dict] = field(default_factory=list)  # per-cell status from the child
    notes: list[str] = field(default_factory=list)
    output: str = ""
    output_truncated: bool = False
    isolation: str = "weak"
    seed: int | None = None
    seconds: float = 0.0
    grader_version: str = ""

    @property
    def score(self) -> float:
        return round(sum(op.points for op in self.ops), 4)

    @property
    def max_score(self) -> float:
        return round(sum(op.max_points for op in self.ops), 4)

    @property
    def cell_errors(self) -> list[str]:
        lines = []
        for cell in self.cells:
            if cell.get("status") == "ok":
                continue
            where = f"cell {cell.get('index')}"
            if cell.get("line"):
                where += f", line {cell['line']}"
            lines.append(f"{where}: {cell.get('error', 'error')}")
        return lines

    def summary_lines(self) -> list[str]:
        lines = []
        if self.problem:
            lines.append(f"Not graded: {self.problem}")
        if self.isolation == "weak":
            lines.append("WARNING: weak isolation: student code ran as a plain process with "
                         "rlimits only (bubblewrap missing, unusable here, or turned off).")
        lines += [f"Your code raised an error in {line}" for line in self.cell_errors]
        lines += self.notes
        if self.output_truncated:
            lines.append("Your code printed more than the output limit; the rest was dropped.")
        return lines


def _md_escape(text: str) -> str:
    return text.replace("`", "'")


def op_output_markdown(op: OpResult) -> str:
    """A test's output for Gradescope (Markdown); feedback.py renders richer reports."""
    from graders.report import feedback
    return feedback.markdown_for_op(op)


def gradescope(result: Result) -> dict[str, Any]:
    """Gradescope's results.json: top-level score and output, one test per op."""
    tests = []
    for number, op in enumerate(result.ops, start=1):
        tests.append({
            "name": f"{op.key}: {op.title}",
            "number": op.task if op.task else str(number),
            "score": op.points,
            "max_score": op.max_points,
            "status": op.status,
            "output": op_output_markdown(op),
            "output_format": "md",
            "tags": [f"op:{op.key}", f"task:{op.task}"],
            # Hidden checks: a verdict now, the details once grades are published.
            "visibility": "after_published" if op.hidden else "visible",
        })
    output = "\n".join(result.summary_lines()) or "Graded."
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": _md_escape(output),
        "output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "seed": result.seed,
            "isolation": result.isolation,
            "grader_version": result.grader_version,
            "max_score": result.max_score,
        },
    }


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """results.json, written only by the parent, atomically (see write_text_atomic)."""
    return write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
