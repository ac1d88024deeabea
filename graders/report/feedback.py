"""Words for a student: what an op's verdict means, in plain text and in Markdown.

A failing op shows the expected local derivative, the catalogued mistake its numbers match (or,
when none does, which input was wrong by how much), one concrete failing probe (inputs, upstream
gradient, expected, got, and the finite difference of the student's own forward), and the root
cause when a primitive it is built from is broken. A passing op is one line. Nothing here shows
the grader's code or a solution line: formulas are mathematics, hints name rules.

`audience` is "student" or "instructor". A hidden check tells a student only its name and
verdict; an instructor sees everything, including every failing probe and the catalogue keys.
Text that came from the child (error messages) is untrusted and is escaped by every renderer.
HTML lives in `graders/report/html.py`; `html_table` and `page_html` here are its entry points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from graders.judge.scoring import ATOL, RTOL, OpResult, Probe

AUDIENCES = ("student", "instructor")

_SUPERSCRIPT = str.maketrans("0123456789+-()kxyn.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ᵏˣʸⁿ·")


def check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    return audience


def shows_details(op: OpResult, audience: str) -> bool:
    """Whether the details of `op` may be shown: hidden checks show students a verdict only."""
    return check_audience(audience) == "instructor" or not getattr(op, "hidden", False)


def _superscript(match: re.Match) -> str:
    exponent = match.group(1) or match.group(2)
    compact = exponent.replace(" ", "")
    if all(ch in "0123456789+-()kxyn" for ch in compact):
        return compact.translate(_SUPERSCRIPT)
    return f"^({exponent})"


def unicode_formula(text: str, name: str = "x") -> str:
    """The oracle's formula text, readable in a terminal: x^2 → x², * → ·, u → out.grad and
    g → x.grad (the input's grad before this op's _backward ran)."""
    text = re.sub(r"\^\(([^()]*)\)|\^(-?[\w.]+)", _superscript, text)
    text = re.sub(r"\bu\b", "out.grad", text)
    text = re.sub(r"\bg\b", f"{name}.grad", text)
    text = text.replace("*", "·").replace(" - ", " − ")
    return re.sub(r"(^|[(\s])-", r"\1−", text)


def number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "nothing"
    return repr(value)[:60]


def grad_name(probe: Probe) -> str:
    return probe.input if "." in str(probe.input) else f"{probe.input}.grad"


def probe_facts(probe: Probe) -> list[tuple[str, str]]:
    """One probe as (label, value) pairs; error text stays raw here, renderers escape it."""
    if probe.error:
        where = f" (cell {probe.where[0]}, line {probe.where[1]})" if probe.where else ""
        return [("your code raised", f"{probe.error}{where}")]
    facts = []
    if probe.inputs:
        facts.append(("inputs", ", ".join(f"{k} = {number(v)}" for k, v in probe.inputs.items())))
    if probe.input == "out":
        return [*facts, ("checked", "the forward value"), ("expected", number(probe.expected)),
                ("got", number(probe.got))]
    facts.append(("checked", grad_name(probe)))
    if probe.upstream is not None:
        facts.append(("upstream out.grad", number(probe.upstream)))
    if probe.pre:
        facts.append((f"{grad_name(probe)} before", number(probe.pre)))
    facts += [("expected", number(probe.expected)), ("got", number(probe.got))]
    if probe.finite_difference is not None:
        facts.append(("finite difference of your forward", number(probe.finite_difference)))
    return facts


def mistake_sentence(op: OpResult) -> str | None:
    """'tanh: your x.grad ends as …; the derivative is …' for a matched catalogued mistake."""
    found = op.diagnosis
    if not found:
        return None
    title = found.get("title") or found["key"].replace("_", " ")
    if not found.get("formula"):
        return f"{op.key}: your code {title}. {found['hint']}"
    names = found.get("inputs") or [found["input"]]
    wrong = unicode_formula(found["formula"], found["input"])
    right = unicode_formula(op.formula.get(found["input"], ""), found["input"])
    return (f"{op.key}: your {' and '.join(f'{n}.grad' for n in names)} ends as {wrong}; "
            f"the local derivative is {right}, so it should end as "
            f"{found['input']}.grad + out.grad · ({right}). Your code {title}: {found['hint']}")


def sections(op: OpResult, audience: str = "student") -> dict[str, Any]:
    """Everything a renderer shows for one op, as plain data (raw, unescaped text)."""
    shown = shows_details(op, audience)
    data: dict[str, Any] = {
        "key": op.key, "task": op.task, "title": op.title, "points": op.points,
        "max_points": op.max_points, "passed": op.passed, "hidden": not shown,
    }
    if op.passed or not shown:
        return data
    data["formulas"] = [(name, unicode_formula(text, name), op.latex.get(name, ""))
                        for name, text in op.formula.items()]
    data["failed_checks"] = [s.title for s in op.subchecks if not s.passed]
    data["mistake"] = mistake_sentence(op)
    data["more_mistakes"] = [f"{m['title']} ({', '.join(m['inputs'])}): {m['hint']}"
                             for m in (op.diagnosis or {}).get("more", [])]
    data["root_cause"] = (f"this op is built from `{op.root_cause}`, which fails its own "
                          f"checks: fix that first" if op.root_cause else None)
    gradient = [p for p in op.failures if p.error is None and p.input != "out"]
    data["probe"] = probe_facts((gradient or op.failures)[0]) if op.failures else []
    if not op.diagnosis and gradient:
        data["unexplained"] = ("no catalogued mistake reproduces these numbers; compare the "
                               "expected value with yours and with the finite difference")
    data["forward_notes"] = op.fd_findings[:1]
    data["hints"] = [s.detail for s in op.subchecks if not s.passed and s.detail
                     and not op.diagnosis]
    if audience == "instructor":
        data["mistake_key"] = (op.diagnosis or {}).get("key")
        data["all_probes"] = [probe_facts(p) for p in op.failures[:8]]
        data["tolerance"] = f"|got − exact| ≤ {ATOL:g} + {RTOL:g}·scale"
    return data


def explain(op: OpResult, audience: str = "instructor") -> list[str]:
    """Plain lines explaining a failing op (empty for a passing one or a hidden one)."""
    data = sections(op, audience)
    if data["passed"] or data["hidden"]:
        return []
    lines = [f"expected ∂out/∂{name} = {text}" for name, text, _ in data["formulas"]]
    if data["mistake"]:
        lines.append(data["mistake"])
    lines += data["more_mistakes"]
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
    return lines


def verdict_line(op: OpResult) -> str:
    return f"{op.key} (task {op.task}): {op.points:g} / {op.max_points:g} — {op.status}"


def text_table(results: Iterable[OpResult], audience: str = "student") -> str:
    """The whole verdict as plain text: one line per passing or hidden op, details otherwise."""
    out = []
    for op in results:
        out.append(verdict_line(op))
        out += [f"    {line}" for line in explain(op, audience)]
    return "\n".join(out)


# --- Markdown (results.json, .md reports) ---------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>~&])")


def md_escape(text: str) -> str:
    """Untrusted or free text made inert in Markdown: no emphasis, links, HTML or tables."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def md_code(text: str) -> str:
    """A formula or an error as an inline code span: backticks cannot close it early, and angle
    brackets become look-alikes so no renderer that treats spans loosely sees a tag."""
    text = " ".join(str(text).split()).replace("`", "ʼ")
    return "`" + text.replace("<", "‹").replace(">", "›") + "`"


def markdown_for_op(op: OpResult, audience: str = "student") -> str:
    """One op's feedback in Markdown, for Gradescope's test output and the .md report."""
    data = sections(op, audience)
    head = f"**{op.key}** (task {op.task}): {op.points:g} / {op.max_points:g}"
    if data["passed"] or data["hidden"]:
        return f"{head} — {op.status}"
    lines = [f"{head} — failed", ""]
    for name, text, _ in data["formulas"]:
        lines.append(f"- expected local derivative ∂out/∂{name} = {md_code(text)}")
    if data["mistake"]:
        lines.append(f"- **mistake:** {md_escape(data['mistake'])}")
    lines += [f"- also: {md_escape(more)}" for more in data["more_mistakes"]]
    if data["root_cause"]:
        lines.append(f"- **root cause:** {md_escape(data['root_cause'])}")
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
    """A whole submission's report in Markdown (a `graders.results.Result`)."""
    lines = [f"# gradkit feedback: {md_escape(result.submission)}", "",
             f"**score {result.score:g} / {result.max_score:g}**", ""]
    lines += [f"> {md_escape(line)}" for line in result.summary_lines()]
    for op in result.ops:
        lines += ["", markdown_for_op(op, audience)]
    return "\n".join(lines) + "\n"


def html_table(results: Iterable[OpResult], audience: str = "student",
               status_of: Callable[[OpResult], str] | None = None) -> str:
    """An HTML table of verdicts with rendered formulas (for the notebook self-check)."""
    from graders.report import html as render_html
    return render_html.table(list(results), audience, status_of)


def page_html(result: Any, audience: str = "student") -> str:
    """A standalone, styled HTML page for one graded submission."""
    from graders.report import html as render_html
    return render_html.page(result, audience)
