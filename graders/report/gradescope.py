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
            # where the mistake is, verified by running the edit (judge/edits.py)
            **({"extra_data": {"wrong_line": op.wrong_line.to_json()}}
               if op.wrong_line and not op.hidden else {}),
        })
    # Shown to the student at once, whatever the tests' visibility: the student's view.
    output = "\n".join(md_escape(line) for line in result.summary_lines("student")) \
        or "Graded."
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
            "flags": result.flags,  # a cell interrupted, an op's time limit hit
            "child_cpu_seconds": round(result.child_cpu, 3),  # the child's own claim
        },
    }


# Gradescope's results.json format, as its autograder specification lists it: each field's type
# and, where it has one, its set of values. `validate` is the instructor's check before upload.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
FORMATS = ("text", "html", "simple_format", "md", "ansi")
NUMBER = (int, float)
TOP_LEVEL: dict[str, tuple[type | tuple[type, ...], tuple[str, ...]]] = {
    "score": (NUMBER, ()), "execution_time": (NUMBER, ()), "output": (str, ()),
    "output_format": (str, FORMATS), "test_output_format": (str, FORMATS),
    "test_name_format": (str, FORMATS), "visibility": (str, VISIBILITIES),
    "stdout_visibility": (str, VISIBILITIES), "extra_data": (dict, ()), "tests": (list, ()),
    "leaderboard": (list, ()),
}
TEST_FIELDS: dict[str, tuple[type | tuple[type, ...], tuple[str, ...]]] = {
    "score": (NUMBER, ()), "max_score": (NUMBER, ()), "status": (str, ("passed", "failed")),
    "name": (str, ()), "name_format": (str, FORMATS), "number": (str, ()), "output": (str, ()),
    "output_format": (str, FORMATS), "tags": (list, ()), "visibility": (str, VISIBILITIES),
    "extra_data": (dict, ()),
}


def _check_fields(data: dict, fields: dict, where: str) -> list[str]:
    problems = [f"{where}: unknown field {key!r}" for key in data if key not in fields]
    for key, (kind, values) in fields.items():
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"{where}.{key}: {type(value).__name__}, not "
                            f"{getattr(kind, '__name__', 'a number')}")
        elif values and value not in values:
            problems.append(f"{where}.{key}: {value!r} is not one of {', '.join(values)}")
    return problems


def validate(data: object) -> list[str]:
    """What is wrong with `data` as a Gradescope results.json (empty when nothing is)."""
    if not isinstance(data, dict):
        return ["results.json is not a JSON object"]
    problems = _check_fields(data, TOP_LEVEL, "results")
    tests = data.get("tests", [])
    if "score" not in data and not (isinstance(tests, list) and tests
                                    and all(isinstance(t, dict) and "score" in t for t in tests)):
        problems.append("results: no top-level score and not every test has one")
    for number, test in enumerate(tests if isinstance(tests, list) else [], start=1):
        if not isinstance(test, dict):
            problems.append(f"tests[{number}]: not an object")
            continue
        problems += _check_fields(test, TEST_FIELDS, f"tests[{number}]")
        tags = test.get("tags", [])
        if isinstance(tags, list) and not all(isinstance(tag, str) for tag in tags):
            problems.append(f"tests[{number}].tags: not all strings")
    return problems
