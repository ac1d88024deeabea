"""An op's verdict in plain text: the terminal table's details and the notebook's grade cells."""

from __future__ import annotations

from collections.abc import Iterable

from graders.model import OpResult, valid_text
from graders.report.sections import NOT_IMPLEMENTED, sections, stub_message, verdict


def explain(op: OpResult, audience: str = "student") -> list[str]:
    """Plain lines explaining a failing op (empty for a passing one, and for a hidden one in
    the student's view, the default: the instructor's view is asked for by name), as valid
    UTF-8 whatever the child's text held."""
    data = sections(op, audience)
    if data["passed"] and (data["credited"] or data["flag"]):
        # right with the grader's primitives (which one to fix), or right but breaking a rule
        return [valid_text(line) for line in (data["credited"], data["flag"]) if line]
    if data["passed"] or data["hidden"]:
        return []
    if verdict(op) == NOT_IMPLEMENTED:  # the stub names its task: nothing else to say
        return [valid_text(stub_message(op))]
    lines = [f"expected ∂out/∂{name} = {text}" for name, text, _ in data["formulas"]]
    if data["mistake"]:
        lines.append(data["mistake"])
    lines += data["more_mistakes"]
    if data["wrong_line"]:
        lines.append(data["wrong_line"])
    if data["root_cause"]:
        lines.append("root cause: " + data["root_cause"])
    if data["failed_checks"]:
        lines.append("failed: " + "; ".join(data["failed_checks"]))
    if data["probe"]:
        lines.append("failing probe: " + "; ".join(f"{label} {value}"
                                                   for label, value in data["probe"]))
    if data.get("unexplained"):
        lines.append(data["unexplained"])
    lines += data["forward_notes"]
    lines += [f"hint: {hint}" for hint in data["hints"]]
    if data["flag"]:
        lines.append(data["flag"])
    return [valid_text(line) for line in lines]  # what the child said, too: shown as text


def brief(op: OpResult, audience: str = "student") -> list[str]:
    """`explain`, or for a failing op it says nothing about, the one line that may be shown:
    a hidden check says only that it failed; any other, its error."""
    lines = explain(op, audience)
    if lines or op.passed:
        return lines
    if op.hidden and audience == "student":
        return ["a hidden check failed: its details are shown when grades are published"]
    return [valid_text(op.error or "failed")]


def verdict_line(op: OpResult) -> str:
    return f"{op.key} (task {op.task}): {op.points:g} / {op.max_points:g} — {verdict(op)}"


def text_table(results: Iterable[OpResult], audience: str = "student") -> str:
    """The whole verdict as plain text: one line per passing or hidden op, details otherwise."""
    out = []
    for op in results:
        out.append(verdict_line(op))
        out += [f"    {line}" for line in explain(op, audience)]
    return "\n".join(out)
