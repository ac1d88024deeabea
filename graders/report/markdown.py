"""Reports in Markdown: Gradescope's test and top-level output, and the `.md` feedback page.

Every piece of free or untrusted text goes through `md_escape` (or `md_code` for formulas and
error text): `report/encode.py`'s Markdown encoder, the one of every path.
"""

from __future__ import annotations

from typing import Any

from graders.model import OpResult
from graders.report import encode
from graders.report.sections import NOT_IMPLEMENTED, sections, stub_message, verdict

# The Markdown encoder (report/encode.py), under the names every Markdown writer imports.
md_escape = encode.markdown
md_code = encode.markdown_code


def markdown_for_op(op: OpResult, audience: str = "student") -> str:
    """One op's feedback in Markdown, for Gradescope's test output and the .md report."""
    data = sections(op, audience)
    head = f"**{op.key}** (task {op.task}): {op.points:g} / {op.max_points:g}"
    if data["passed"] and (data["credited"] or data["flag"]):
        said = " ".join(line for line in (data["credited"], data["flag"]) if line)
        return f"{head} — {verdict(op)}: {encode.markdown_with_code(said)}"
    if data["passed"] or data["hidden"]:
        return f"{head} — {verdict(op)}"
    if verdict(op) == NOT_IMPLEMENTED:
        return f"{head} — {md_escape(stub_message(op))}"
    lines = [f"{head} — {verdict(op)}", ""]
    for name, text, _ in data["formulas"]:
        lines.append(f"- expected local derivative ∂out/∂{name} = {md_code(text)}")
    if data["mistake"]:
        lines.append(f"- **mistake:** {md_escape(data['mistake'])}")
    lines += [f"- also: {md_escape(more)}" for more in data["more_mistakes"]]
    if data["wrong_line"]:
        lines.append(f"- **where:** {encode.markdown_with_code(data['wrong_line'])}")
    if data["root_cause"]:
        lines.append(f"- **root cause:** {encode.markdown_with_code(data['root_cause'])}")
    if data["failed_checks"]:
        lines.append(f"- failed: {md_escape('; '.join(data['failed_checks']))}")
    if data["probe"]:
        lines.append("- one failing probe:")
        lines += [f"    - {md_escape(label)}: {md_code(value)}" for label, value in data["probe"]]
    if data.get("unexplained"):
        lines.append(f"- {md_escape(data['unexplained'])}")
    lines += [f"- {md_escape(note)}" for note in data["forward_notes"]]
    lines += [f"- hint: {md_escape(hint)}" for hint in data["hints"]]
    if audience == "instructor":
        lines.append(f"- catalogue key: {md_code(data.get('mistake_key') or 'none')}")
        for facts in data["all_probes"][1:]:
            lines.append("- probe: " + "; ".join(f"{md_escape(k)} {md_code(v)}"
                                                 for k, v in facts))
        lines.append(f"- tolerance: {md_code(data['tolerance'])}")
    return "\n".join(lines)


def page_markdown(result: Any, audience: str = "student") -> str:
    """A whole submission's report in Markdown (a `graders.model.Result`)."""
    lines = [f"# gradkit feedback: {md_escape(result.submission)}", "",
             f"**score {result.score:g} / {result.max_score:g}**", ""]
    lines += [f"> {md_escape(line)}" for line in result.summary_lines(audience)]
    for op in result.ops:
        lines += ["", markdown_for_op(op, audience)]
    return "\n".join(lines) + "\n"
