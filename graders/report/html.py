"""Feedback as HTML: a notebook table and a standalone page, formulas rendered offline.

Formulas are MathML (presentation markup) that the oracle printed with sympy when it derived
them (`Formula.mathml`), which browsers and Jupyter render natively: no script, no CDN, nothing
fetched at grading time or when a student opens the page, and no second derivation that could
disagree with the grader. Every piece of text is escaped; text from the child (error messages)
is untrusted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from graders.model import OpResult
from graders.report import encode
from graders.report.sections import check_audience, sections, unicode_formula, verdict

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430;
       max-width: 62rem; margin: 2rem auto; padding: 0 1rem; background: #fbfbfd; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
.score { font-size: 1.1rem; font-weight: 600; }
.note { background: #fff7e0; border-left: 4px solid #e0a800; padding: .4rem .8rem;
        margin: .3rem 0; }
table.gradkit { border-collapse: collapse; width: 100%; background: #fff; }
table.gradkit th, table.gradkit td { border-bottom: 1px solid #e3e6ec; padding: .45rem .6rem;
       text-align: left; vertical-align: top; }
table.gradkit th { background: #f0f2f6; }
.passed { color: #17803d; font-weight: 600; }
.failed { color: #b42318; font-weight: 600; }
.hidden { color: #5b6472; font-style: italic; }
.mistake { background: #fdecea; border-radius: 4px; padding: .35rem .6rem; margin: .3rem 0; }
.root { background: #eef4ff; border-radius: 4px; padding: .35rem .6rem; margin: .3rem 0; }
table.probe td { border: none; padding: .05rem .6rem .05rem 0; font-size: .92rem; }
table.probe td:first-child { color: #5b6472; }
code { background: #f0f2f6; padding: 0 .25rem; border-radius: 3px; }
math { font-size: 1.08em; }
/* A phone: each op becomes a card, its feedback below it at full width (the cells' inline
   min-width is for Jupyter's wide output area). */
@media (max-width: 640px) {
  body { margin: 1rem auto; padding: 0 .6rem; }
  table.gradkit > thead { display: none; }
  table.gradkit, table.gradkit > tbody, table.gradkit > tbody > tr { display: block; }
  table.gradkit > tbody > tr { border-bottom: 1px solid #c9ced8; padding: .3rem 0; }
  table.gradkit > tbody > tr > td { display: inline-block; border: none !important;
                                    min-width: 0 !important; padding: .15rem .4rem !important; }
  table.gradkit > tbody > tr > td:last-child { display: block; }
}
"""


esc = encode.html_text  # the one HTML encoder (report/encode.py)


def _formula(markup: str, text: str) -> str:
    return markup or f"<code>{esc(text)}</code>"


def _probe(facts: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><td{PROBE}>{esc(label)}</td><td{PROBE}>{esc(value)}</td></tr>"
                   for label, value in facts)
    return f'<table class="probe">{rows}</table>'


def _details(op: OpResult, data: dict[str, Any], audience: str) -> str:
    parts = []
    for name, text, _latex in data["formulas"]:
        parts.append(f"<div>expected local derivative ∂out/∂{esc(name)} = "
                     f"{_formula(op.mathml.get(name, ''), text)}</div>")
    found = op.diagnosis
    if data["mistake"] and found:
        title = esc(found.title or found.key)
        if found.formula:
            said = []
            for name in found.inputs:  # each from that input's own formula
                statement = found.statements.get(name, {"text": found.formula,
                                                        "mathml": found.mathml})
                wrong = _formula(statement.get("mathml", ""),
                                 unicode_formula(statement["text"], name))
                said.append(f"your {esc(name)}.grad ends as {wrong}")
            parts.append(f'<div class="mistake"><b>Mistake:</b> your code {title}: '
                         f"{'; '.join(said)}. <b>Hint:</b> {esc(found.hint)}.</div>")
        else:
            parts.append(f'<div class="mistake"><b>Mistake:</b> your code {title}. '
                         f"<b>Hint:</b> {esc(found.hint)}.</div>")
    for more in data["more_mistakes"]:
        parts.append(f'<div class="mistake">also: {esc(more)}</div>')
    if data["root_cause"]:
        parts.append(f'<div class="root"><b>Root cause:</b> '
                     f'{encode.html_with_code(data["root_cause"])}</div>')
    if data["failed_checks"]:
        parts.append(f"<div>failed: {esc('; '.join(data['failed_checks']))}</div>")
    if data["probe"]:
        parts.append("<div>one failing probe:</div>" + _probe(data["probe"]))
    for line in [data.get("unexplained"), *data["forward_notes"], *data["hints"]]:
        if line:
            parts.append(f"<div>{esc(line)}</div>")
    if audience == "instructor":
        parts.append(f"<div>catalogue key: <code>{esc(data.get('mistake_key'))}</code>; "
                     f"tolerance <code>{esc(data['tolerance'])}</code></div>")
        for facts in data["all_probes"][1:]:
            parts.append(_probe(facts))
    return "".join(parts)


# Inline styles, because the table is shown where this page's <style> is not: a Jupyter
# output (which right-aligns cells) and nbgrader's feedback page (which runs headers together).
CELL = (' style="text-align:left;vertical-align:top;padding:.35rem .6rem;'
        'border-bottom:1px solid #e3e6ec;white-space:nowrap"')
FEEDBACK = (' style="text-align:left;vertical-align:top;padding:.35rem .6rem;'
            'border-bottom:1px solid #e3e6ec;overflow-wrap:anywhere;min-width:16rem"')
PROBE = ' style="text-align:left;border:none;padding:.05rem .6rem .05rem 0"'
HEAD = (' style="text-align:left;padding:.35rem .6rem;background:#f0f2f6;'
        'border-bottom:1px solid #c9ced8;white-space:nowrap"')


def table(results: Iterable[OpResult], audience: str = "student",
          status_of: Callable[[OpResult], str] = verdict) -> str:
    """One row per op: passing and hidden ops on one line, failing ones with their details,
    each with its verdict in the one vocabulary (`sections.verdict`)."""
    check_audience(audience)
    rows = []
    for op in results:
        data = sections(op, audience)
        word = status_of(op)
        status = f'<span class="{op.status}">{esc(word)}</span>'
        if data["passed"]:
            said = " ".join(line for line in (data["credited"], data["flag"]) if line)
            detail = encode.html_with_code(said) if said else ""
        elif data["hidden"]:
            detail = '<span class="hidden">hidden check: details are not shown</span>'
        else:
            detail = _details(op, data, audience)
        rows.append(f"<tr><td{CELL}>{esc(op.task)}</td><td{CELL}><b>{esc(op.key)}</b><br>"
                    f'<small style="white-space:normal">{esc(op.title)}</small></td>'
                    f"<td{CELL}>{op.points:g}&nbsp;/&nbsp;{op.max_points:g}</td>"
                    f"<td{CELL}>{status}</td><td{FEEDBACK}>{detail}</td></tr>")
    head = "".join(f"<th{HEAD}>{h}</th>"
                   for h in ("task", "op", "points", "status", "feedback"))
    return (f'<table class="gradkit" style="border-collapse:collapse;table-layout:auto;'
            f'max-width:100%"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def page(result: Any, audience: str = "student") -> str:
    """A standalone page: inline style, no script, no external resource."""
    notes = "".join(f'<div class="note">{esc(line)}</div>'
                    for line in result.summary_lines(audience))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>gradkit feedback: {esc(result.submission)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>gradkit feedback</h1><div>{esc(result.submission)}</div>"
        f'<p class="score">score {result.score:g} / {result.max_score:g}</p>'
        f"{notes}{table(result.ops, audience)}"
        f"<p><small>seed {esc(result.seed)}; each gradient is compared with sympy's exact "
        "derivative; the finite difference is measured on your own forward pass.</small></p>"
        "</body></html>\n"
    )
