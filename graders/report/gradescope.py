"""Gradescope's results.json for one graded submission (the format the batch stores too).

Every test's output and the top-level output are Markdown made by `report.markdown`, so text
from the child is escaped the same way on every path. The file is written by the parent only,
after every child is gone, with `graders.atomic.write_json_atomic`.
"""

from __future__ import annotations

from typing import Any

from graders.model import Result
from graders.report.markdown import markdown_for_op, md_escape


def gradescope(result: Result, *, hidden_visibility: str = "after_published") -> dict[str, Any]:
    """Gradescope's results.json: top-level score and output, one test per op; a hidden op
    (`Assignment.hidden`) shows its details at `hidden_visibility`."""
    tests = []
    for number, op in enumerate(result.ops, start=1):
        tests.append({
            "name": f"{op.key}: {op.title}",
            "number": op.task if op.task else str(number),
            "score": op.points,
            "max_score": op.max_points,
            "status": op.status,
            "output": markdown_for_op(op),
            "output_format": "md",
            "tags": [f"op:{op.key}", f"task:{op.task}"],
            # Hidden checks: a verdict now, the details once grades are published.
            "visibility": hidden_visibility if op.hidden else "visible",
        })
    output = "\n".join(md_escape(line) for line in result.summary_lines()) or "Graded."
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": output,
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
