"""What a student reads: the mistake named with its math, one probe, nothing hidden leaked."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from graders.api import grade
from graders.judge import oracle
from graders.model import CellStatus, OpResult, Probe, Result, SubCheck
from graders.report import html as report_html
from graders.report import markdown as report_markdown
from graders.report import text as report_text
from graders.report.gradescope import gradescope
from graders.report.sections import verdict
from tests import corpus
from tests.conftest import op_of

HOSTILE = "<script>alert(1)</script> `tick` **bold** [link](http://x) | pipe"


@pytest.fixture(scope="module")
def tanh_result(tmp_path_factory):
    path = tmp_path_factory.mktemp("tanh") / "tanh.py"
    path.write_text(corpus.mutant("tanh_input_for_output").source())
    return grade(path, seed=21)


def test_a_named_mistake_shows_the_students_formula_and_the_right_one(tanh_result):
    tanh = op_of(tanh_result, "tanh")
    text = "\n".join(report_text.explain(tanh, "student"))
    assert "1 − tanh(x)²" in text  # the derivative, in readable Unicode
    assert "(1 − x²)" in text  # what the student's numbers equal
    assert "uses the input x where the output tanh(x) belongs" in text


def test_the_failing_probe_reports_the_numbers_the_grader_saw(tanh_result):
    tanh = op_of(tanh_result, "tanh")
    probe = next(p for p in tanh.failures if p.finite_difference is not None)
    tanh = replace(tanh, failures=[probe])
    markdown = report_markdown.markdown_for_op(tanh)
    for value in (probe.expected, probe.got, probe.finite_difference, probe.upstream):
        assert f"{value:.6g}" in markdown


def test_passing_ops_take_one_line(tanh_result):
    add = op_of(tanh_result, "add")
    assert add.passed
    assert report_markdown.markdown_for_op(add).count("\n") == 0
    assert report_text.explain(add) == []


def test_unexplained_numbers_say_so_and_give_the_finite_difference(tmp_path):
    path = tmp_path / "half.py"
    path.write_text(corpus.BASE.read_text().replace(corpus.RELU,
                                                    "self.grad += 0.5 * out.grad"))
    relu = op_of(grade(path, seed=3), "relu")
    assert relu.diagnosis is None
    text = "\n".join(report_text.explain(relu))
    assert "no catalogued mistake" in text
    assert "finite difference of your forward" in text


def _hidden_failure(hidden: bool) -> OpResult:
    op = OpResult("tanh", "2.3", "tanh(a)", 2.0, points=0.0, hidden=hidden,
                  formula={"x": "1 - tanh(x)^2"}, latex={"x": "1 - \\tanh^{2}{\\left(x \\right)}"})
    op.subchecks = [SubCheck("gradient", 2.0, False)]
    op.failures = [Probe("tanh/0", "x", {"x": 0.5}, 1.5, 0.0, 0.9876543, 0.1234567)]
    return op


def test_hidden_checks_show_students_only_name_and_verdict():
    op = _hidden_failure(hidden=True)
    for student in (report_markdown.markdown_for_op(op, "student"),
                    report_html.table([op], "student"),
                    report_text.text_table([op], "student")):
        assert "tanh" in student and verdict(op) in student  # the one vocabulary
        assert "0.987654" not in student and "tanh(x)²" not in student
    instructor = report_markdown.markdown_for_op(op, "instructor")
    assert "0.987654" in instructor and "tanh(x)²" in instructor


def test_untrusted_error_text_is_escaped_everywhere():
    op = _hidden_failure(hidden=False)
    op.failures = [Probe("tanh/0", None, {"x": 0.5}, 1.5, None, None, None, error=HOSTILE)]
    html_text = report_html.table([op], "student")
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    markdown = report_markdown.markdown_for_op(op, "student")
    assert "<script>" not in markdown
    spans = re.findall(r"`[^`]*`", markdown)
    assert any("script" in span for span in spans)  # the error sits inside one code span
    assert "`tick`" not in markdown


def test_results_json_top_level_output_is_escaped_like_every_report():
    result = Result(submission="s.py", cells=[CellStatus(3, "error", 2, f"ValueError: "
                                                         f"![x](http://evil/p.png) {HOSTILE}")])
    output = gradescope(result)["output"]
    assert "![x](" not in output and "<script>" not in output and "**bold**" not in output
    assert "cell 3, line 2" in output


def test_results_json_carries_markdown_feedback(tanh_result):
    tests = {t["name"].split(":")[0]: t for t in gradescope(tanh_result)["tests"]}
    assert tests["tanh"]["output_format"] == "md"
    assert "**mistake:**" in tests["tanh"]["output"]
    assert tests["add"]["output"].count("\n") == 0


def test_relu_formula_renders_as_mathml_cases():
    markup = oracle.load().ops["relu"].derivative["x"].mathml
    assert markup.startswith("<math") and "<mtable" in markup and "piecewise" not in markup


def test_grade_writes_feedback_pages(tmp_path):
    path = tmp_path / "tanh.py"
    path.write_text(corpus.mutant("tanh_input_for_output").source())
    html_out, md_out = tmp_path / "report.html", tmp_path / "report.md"
    run = subprocess.run([sys.executable, "-m", "graders", "grade", str(path), "--seed", "4",
                          "--feedback", str(html_out), "--feedback", str(md_out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "<math" in html_out.read_text() and "http" not in html_out.read_text().replace(
        'xmlns="http://www.w3.org/1998/Math/MathML"', "")
    assert "**mistake:**" in md_out.read_text()
    bad = subprocess.run([sys.executable, "-m", "graders", "grade", str(path),
                          "--feedback", str(tmp_path / "report.txt")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and ".html or .md" in bad.stderr


# --- a real browser -------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(page: Path, screenshot: Path) -> str:
    """Load a page headless; return Chromium's log, where console messages appear."""
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr",
             "--v=0", "--window-size=1200,1600", f"--screenshot={screenshot}",
             page.as_uri()],
            capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stderr


def _console(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                    "(apt-get install -y chromium)")
def test_the_report_page_opens_cleanly_in_headless_chromium(tmp_path):
    source = corpus.BASE.read_text()
    for old, new in ((corpus.TANH, "self.grad += (1 - x**2) * out.grad"),
                     (corpus.MUL_SELF, "self.grad = other.data * out.grad"),
                     ("for node in reversed(topo):", "for node in topo:")):
        source = source.replace(old, new)
    path = tmp_path / "several.py"
    path.write_text(source)
    page = tmp_path / "report.html"
    page.write_text(report_html.page(grade(path, seed=9), "student"))
    shot = tmp_path / "report.png"
    log = _chromium(page, shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert _console(log) == []
    # The probe can fail: a page that logs a console error is caught by the same check.
    noisy = tmp_path / "noisy.html"
    noisy.write_text("<!DOCTYPE html><script>console.error('boom')</script>")
    assert _console(_chromium(noisy, tmp_path / "noisy.png"))


def test_html_table_for_the_notebook_is_a_fragment(tanh_result):
    fragment = report_html.table(tanh_result.ops, "student")
    assert fragment.startswith('<table class="gradkit"') and "<html" not in fragment
    assert json.dumps(fragment)  # plain text, ready for IPython.display.HTML


def test_the_table_carries_its_own_alignment_for_jupyter_and_nbgrader():
    """Jupyter right-aligns table cells and nbgrader's feedback page sets no padding: every
    cell of the fragment says how it is laid out itself."""
    import re

    fragment = report_html.table([_hidden_failure(hidden=False)], "student")
    cells = re.findall(r"<t[dh]\b[^>]*>", fragment)
    assert cells and all("text-align:left" in cell for cell in cells)
