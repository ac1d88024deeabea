"""Feedback as HTML: a notebook table and a standalone page, formulas rendered offline.

Formulas are MathML (presentation markup) that the oracle printed with sympy when it derived
them (`Formula.mathml`), which browsers and Jupyter render natively: no script, no CDN, nothing
fetched at grading time or when a student opens the page, and no second derivation that could
disagree with the grader.

The pages are Jinja2 templates (graders/templates/html/), autoescaped: every value is text
unless this module marks it safe, and the only markup marked safe is the oracle's MathML, after
`model.check_mathml` has accepted it (and the dashboard's SVG charts, in
graders/classroom/dashboard.py). Text from the child (error messages) is untrusted; every value
is also made `encode.printable` before it is escaped (no control character, no bidi override,
no lone surrogate reaches a page), as `encode.html_text` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from graders.model import OpResult
from graders.report import encode
from graders.report.sections import check_audience, sections, unicode_formula, verdict


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` of a template: markup marked safe as is, anything else as printable
    text (which autoescape then escapes), so the templates have `encode.html_text`'s
    protections without calling it."""
    from markupsafe import Markup

    return value if isinstance(value, Markup) else encode.printable(value)


def _mathml(markup: str) -> Any:
    """The oracle's MathML as markup, the one text these pages embed unescaped: only after
    `model.check_mathml` accepts it (presentation elements only); "" otherwise, and the
    formula is shown as text."""
    from markupsafe import Markup

    from graders.model import check_mathml

    try:
        check_mathml(markup)
    except ValueError:
        return ""
    return Markup(markup)


@cache
def environment() -> Any:
    """The templates of every gradkit HTML page (the feedback page and table here, the class
    dashboard), autoescaped. jinja2 is imported on first use, not when a grade loads this."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("graders", "templates/html"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        finalize=_finalize)
    env.filters["g"] = lambda number: format(number, "g")
    env.filters["mathml"] = _mathml
    env.globals["unicode_formula"] = unicode_formula
    return env


def render(template: str, **context: Any) -> str:
    """One of graders/templates/html/*.html.j2, rendered with `context`."""
    return environment().get_template(template).render(**context)


def _rows(results: Iterable[OpResult], audience: str,
          status_of: Callable[[OpResult], str]) -> list[tuple[OpResult, dict[str, Any], str]]:
    check_audience(audience)
    return [(op, sections(op, audience), status_of(op)) for op in results]


def table(results: Iterable[OpResult], audience: str = "student",
          status_of: Callable[[OpResult], str] = verdict) -> str:
    """One row per op: passing and hidden ops on one line, failing ones with their details,
    each with its verdict in the one vocabulary (`sections.verdict`)."""
    return render("feedback_table.html.j2", rows=_rows(results, audience, status_of),
                  audience=audience)


def page(result: Any, audience: str = "student") -> str:
    """A standalone page: inline style, no script, no external resource."""
    rows = _rows(result.ops, audience, verdict)
    return render("feedback.html.j2", result=result, rows=rows, audience=audience,
                  notes=list(result.summary_lines(audience))) + "\n"
