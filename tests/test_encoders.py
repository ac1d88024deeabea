"""Every output format, fed the same hostile strings, keeps them text.

The strings stand for what a student controls: exception messages, printed output, cell errors,
file names. Each is put everywhere a report carries student text (the submission's name, the
problem, an op's error, a cell's error, the printed output), and every writer's output is then
read the way its consumer reads it: Markdown rendered (CommonMark + GFM tables and
strikethrough), HTML parsed, JUnit parsed as XML, the terminal and the CI log scanned for escape
sequences and workflow commands, grades.csv read as a spreadsheet would, the dashboard's SVG
chart parsed as XML and as HTML.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from markdown_it import MarkdownIt

from graders.api import unscored
from graders.classroom.publishing import export_csv
from graders.classroom.records import OpRow, Row
from graders.model import CellStatus, OpResult, SubCheck
from graders.report import ci, encode, html, markdown, terminal
from graders.report.gradescope import gradescope
from graders.spec.assignments import BUILTIN

HOSTILE = [
    "# gradkit: 25 / 25",
    "gradkit: 25 / 25\n===",
    "[click here](https://evil.example/x) and ![t](https://evil.example/t.png)",
    "<h2>score 25 / 25</h2><img src=x onerror=alert(1)><a href=//evil.example>x</a>",
    "\x1b]52;c;ZXZpbA==\x07 clipboard",
    "\x1b[2K\x1b[1Ascore 25 / 25 \x1b[32mpassed\x1b[0m",
    "nul\x00 bell\x07 vt\x0b ff\x0c del\x7f c1\x85\x9b",
    "\u202eevil\u2066bidi\u2069",
    "::set-output name=score::25\n::error::forged\n::add-mask::x",
    '=HYPERLINK("https://evil.example","open")',
    "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1",
    "a | b | c",
    "`code` ~~strike~~ **bold** _em_ www.evil.example mail@evil.example &amp; $x^2$",
    "- list item\n1. ordered\n> quote",
    # GitHub links an address in text after escapes and entities are resolved.
    "write to a\\@b.example or a&#64;b.example, mailto:c@d.example, xmpp:e@f.example/x",
    "`x`a@b.example`x` -g_h+i.j@k-l.m_n.example.",
    "x" * 40_000,
]
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# GFM's extended email autolink (the autolink extension of the GFM spec): one or more
# alphanumerics or `.-_+`, an `@`, then alphanumerics or `-_` separated by periods, at least one
# period, the last character not `-` or `_`. It is applied to text only (not code spans), after
# the parser has resolved escapes and entities and joined adjacent text, as cmark-gfm does.
GFM_EMAIL = re.compile(r"[A-Za-z0-9.+\-_]+@(?:[A-Za-z0-9\-_]+\.)+[A-Za-z0-9\-_]*[A-Za-z0-9]")
LOCAL_PART = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.+-_")


def gfm_email_findall(text: str) -> list[str]:
    """`GFM_EMAIL.findall(text)`, in linear time. findall tries the pattern at every position,
    and from each one in a long run of local-part characters with no `@` after it (40,000 `x`)
    it scans to the run's end: quadratic. A match can only start where such a run reaches an
    `@`, and every start in one run reaches the same `@` and the same domain, so trying the
    run's first position (no earlier than where the scan stands) finds what findall finds."""
    found, pos = [], 0
    while (at := text.find("@", pos)) != -1:
        start = at
        while start > pos and text[start - 1] in LOCAL_PART:
            start -= 1
        match = GFM_EMAIL.match(text, start) if start < at else None
        if match:
            found.append(match[0])
            pos = match.end()
        else:
            pos = at + 1
    return found


def gfm_emails(source: str) -> list[str]:
    """Every e-mail address GitHub's Markdown would make a `mailto:` link of."""
    found = []
    for block in MD.parse(source):
        text = ""
        for child in [*(block.children or []), None]:
            if child is not None and child.type in ("text", "text_special"):
                text += child.content
                continue
            found += gfm_email_findall(text)
            text = ""
    return found


MARKUP_TAGS = re.compile(r"<(h[1-6]|a|img|strong|em|s|del|table|blockquote|ul|ol|li|hr)\b")


def hostile_result(text: str):
    """An unusable submission whose name, problem, op error, cell error and output are `text`."""
    name = "student_" + re.sub(r"[/\x00]", "_", text[:60]) + ".py"
    result = unscored(name, BUILTIN["backprop"], f"{name}: {text}")
    result.output = text
    result.cells = [CellStatus(1, "error", 3, text)]
    failing = OpResult("mul", "2.3", "multiplication", 2.0, error=text,
                       subchecks=[SubCheck("gradient", 2.0, False, text)])
    result.ops = [failing, *result.ops[1:]]
    return result


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def tags_of(markup: str) -> list[str]:
    parser = Tags()
    parser.feed(markup)
    return parser.tags


@pytest.fixture(params=HOSTILE, ids=range(len(HOSTILE)))
def text(request) -> str:
    return request.param


def test_inline_markdown_renders_as_one_paragraph_of_text(text):
    rendered = MD.render(encode.markdown(text))
    assert MARKUP_TAGS.search(rendered) is None, rendered[:300]
    assert [tag for tag in tags_of(rendered) if tag != "code"] == ["p"]
    assert not CONTROL.search(rendered)
    assert gfm_emails(encode.markdown(text)) == []


def test_gradescope_output_is_markdown_that_stays_text(text):
    data = gradescope(hostile_result(text))
    for body in [data["output"], *(test["output"] for test in data["tests"])]:
        rendered = MD.render(body)
        assert MARKUP_TAGS.search(rendered.replace("<strong>", "").replace("</strong>", "")
                                  .replace("<li>", "").replace("<ul>", "")) is None
        assert "<h" not in rendered and "<img" not in rendered and "<a " not in rendered
        assert not CONTROL.search(body)
        assert gfm_emails(body) == []
    json.dumps(data)


def test_the_job_summary_shows_no_student_html(text):
    summary = ci.step_summary(hostile_result(text))
    rendered = MD.render(summary)
    assert "<img" not in rendered and "<a " not in rendered
    assert [t for t in tags_of(rendered) if t.startswith("h")] == ["h2"]  # the grader's own
    assert len(re.findall(r"<h2>", rendered)) == 1
    assert gfm_emails(summary) == []


def test_the_markdown_and_html_pages_carry_no_student_markup(text):
    result = hostile_result(text)
    page = html.page(result)
    assert "<img" not in page and "<a " not in page and "<h2" not in page
    assert not CONTROL.search(page)
    rendered = MD.render(markdown.page_markdown(result))
    assert "<img" not in rendered and "<a " not in rendered
    assert len(re.findall(r"<h1>", rendered)) == 1
    assert gfm_emails(markdown.page_markdown(result)) == []


def test_junit_stays_well_formed_xml(text):
    xml = ci.junit_xml(hostile_result(text))
    root = ElementTree.fromstring(xml.encode())
    assert root.tag == "testsuites"
    assert not CONTROL.search(xml.replace("\n", "").replace("\t", ""))


SVG_TAGS = {"svg", "title", "desc", "g", "line", "text", "rect"}


def test_the_dashboards_chart_stays_well_formed_svg_with_no_markup_of_the_op_name(text):
    from graders.classroom.charts import pass_rate_bars

    svg = pass_rate_bars([(text, 0.5)])  # an op name comes from an assignment config
    root = ElementTree.fromstring(svg)
    assert {element.tag.rpartition("}")[2] for element in root.iter()} <= SVG_TAGS
    assert set(tags_of(svg)) <= SVG_TAGS  # read as the HTML page it is inlined in
    assert not CONTROL.search(svg)


def test_the_terminal_and_the_ci_log_get_no_escape_sequence_or_command(text, tmp_path):
    result = hostile_result(text)
    shown = io.StringIO()
    terminal.render(result, file=shown, verbose=True)
    assert "\x1b" not in shown.getvalue() and "\x07" not in shown.getvalue()
    log = io.StringIO()
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "GITHUB_OUTPUT": str(tmp_path / "o")}
    ci.github(result, tmp_path / "sub.py", environ=env, stream=log)
    lines = log.getvalue().splitlines()
    assert "\x1b" not in log.getvalue()
    token = lines[0].removeprefix("::stop-commands::")
    end = lines.index(f"::{token}::")
    commands = lines[end + 1:]  # outside the fence, every line is a command the grader made
    assert all(line.startswith(("::error file=", "::error title=", "::notice title=gradkit::"))
               for line in commands), commands
    outputs = (tmp_path / "o").read_text().splitlines()
    assert [line.split("=", 1)[0] for line in outputs] == ["result", "score", "max-score"]


def test_grades_csv_cells_are_text_and_bounded(text, tmp_path):
    row = Row(text, text, "x.py", "hash", "grader", 1, 0.0, 25.0, text, None, 0.0,
              (OpRow("mul", 0.0, 2.0, "failed"),))
    target = tmp_path / "grades.csv"
    export_csv([row], BUILTIN["backprop"], target)
    with open(target, newline="", encoding="utf-8") as handle:
        cells = [cell for line in csv.reader(handle) for cell in line]
    for cell in cells:
        assert not cell.startswith(encode.FORMULA_PREFIXES)
        assert len(cell) <= 32_767
        assert not CONTROL.search(cell)


def test_the_encoders_keep_honest_text_readable():
    assert MD.render(encode.markdown("Not graded: report.pdf (not a notebook)")) == \
        "<p>Not graded: report.pdf (not a notebook)</p>\n"
    assert encode.csv_cell("alice") == "alice"
    assert encode.xml_text("ok ∂out/∂x") == "ok ∂out/∂x"
    assert encode.svg_text("ok ∂out/∂x") == "ok ∂out/∂x"
    assert encode.terminal("line one\r\nline two") == "line one\nline two"


def test_an_address_in_student_text_is_no_link_on_github():
    """The check is GFM's own rule: an escaped `a\\@b.example` is a link there."""
    assert gfm_emails("a\\@b.example") == ["a@b.example"]
    assert gfm_emails("a&#64;b.example") == ["a@b.example"]
    assert gfm_emails("`a@b.example`") == [] and gfm_emails("a@b") == []
    shown = encode.markdown("ask a@b.example")
    assert gfm_emails(shown) == [] and MD.render(shown) == "<p>ask <code>a@b.example</code></p>\n"


def test_every_writer_uses_the_encoders():
    """No report module escapes by hand: each format's writer imports report/encode.py."""
    here = Path(__file__).resolve().parent.parent / "graders" / "report"
    for name in ("ci.py", "html.py", "markdown.py", "terminal.py"):
        source = (here / name).read_text()
        assert "encode" in source, name
        assert ".replace(\"<\"" not in source and "html.escape" not in source, name


def test_the_graders_own_names_render_as_code_not_backticks():
    sentence = "correct given a correct `mul`: fix `mul` (task 2.2)"
    assert "`" not in MD.render(encode.markdown_with_code(sentence)).replace("<code>", "")
    assert "<code>mul</code>" in MD.render(encode.markdown_with_code(sentence))
    rendered = MD.render(encode.markdown_with_code(sentence))
    assert "a correct <code>mul</code>: fix <code>mul</code> (task 2.2)" in rendered, rendered
    assert encode.html_with_code(sentence).count("<code>mul</code>") == 2
    assert "`" not in encode.html_with_code(sentence)
