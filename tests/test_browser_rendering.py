"""What students and instructors see, measured in headless Chromium (issue 14).

Each page gets a measuring script; Chromium runs it after layout and `--dump-dom` returns its
findings as JSON in a `data-measure` attribute. A screenshot of every page is saved beside it
(under pytest's tmp folder) for a look by eye.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from graders.api import grade
from graders.course import authoring
from graders.course.kernel_check import check
from graders.report import html as report_html
from tests import corpus
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                "(apt-get install -y chromium)")
RELEASED = ROOT / "assignments"

MEASURE = """
<script>
window.addEventListener('load', () => {
  const found = {overflow: document.documentElement.scrollWidth - window.innerWidth};
  found.markdownPre = [...document.querySelectorAll('.jp-MarkdownCell pre, .text_cell_render pre')]
    .map(p => p.textContent.slice(0, 60));
  found.cells = [...document.querySelectorAll('table.gradkit th, table.gradkit td')]
    .map(c => ({align: getComputedStyle(c).textAlign, text: c.textContent.slice(0, 20),
                clipped: c.scrollWidth > c.clientWidth + 1}));
  const heads = [...document.querySelectorAll('table.gradkit th')]
    .map(h => h.getBoundingClientRect());
  found.headerGaps = heads.slice(1).map((r, i) => r.left - heads[i].right);
  found.math = [...document.querySelectorAll('math')].map(m => m.textContent);
  found.wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                 && getComputedStyle(e).overflowX !== 'auto')
    .map(e => e.tagName + '.' + e.className).slice(0, 5);
  document.body.setAttribute('data-measure', JSON.stringify(found));
});
</script>
"""


def _measure(page: str, folder: Path, name: str, width: int = 1280) -> dict:
    path = folder / f"{name}-{width}.html"
    path.write_text(page.replace("</body>", MEASURE + "</body>", 1) if "</body>" in page
                    else page + MEASURE)
    with tempfile.TemporaryDirectory() as profile:
        flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 f"--user-data-dir={profile}", f"--window-size={width},1600",
                 "--virtual-time-budget=5000"]
        # One start of Chromium for both: headless Chromium runs every command it is given.
        dom = subprocess.run([*flags, f"--screenshot={path.with_suffix('.png')}", "--dump-dom",
                              path.as_uri()], capture_output=True, text=True, timeout=120,
                             check=True).stdout
    found = re.search(r'data-measure="([^"]*)"', dom)
    assert found, f"{name}: the measuring script did not run"
    assert path.with_suffix(".png").stat().st_size > 5_000
    return json.loads(html.unescape(found.group(1)))


def _notebook_page(nb: nbformat.NotebookNode) -> str:
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return body


@pytest.mark.slow
@pytest.mark.parametrize("assignment", authoring.BUILDERS)
def test_no_prose_renders_as_a_code_block_in_source_or_release(tmp_path, assignment) -> None:
    for root in (authoring.SOLUTIONS, RELEASED):
        nb = nbformat.read(authoring.path_for(assignment, root), as_version=4)
        found = _measure(_notebook_page(nb), tmp_path, f"{assignment}-{root.name}")
        assert found["markdownPre"] == [], (root.name, found["markdownPre"])
        assert found["overflow"] <= 0


def _broken_mul_class():
    namespace: dict = {}
    source = corpus.BASE.read_text().replace(corpus.MUL_SELF,
                                             "self.grad = other.data * out.grad")
    exec(compile(source, "student.py", "exec"), namespace)
    return namespace["Value"]


@pytest.mark.slow
def test_the_self_check_table_is_left_aligned_and_readable_in_jupyterlab_styles(tmp_path):
    """The table as Jupyter shows it (an HTML output in the lab template, whose CSS
    right-aligns table cells): every cell left-aligned, headers apart, nothing clipped."""
    report = check(_broken_mul_class(), seed=4)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "selfcheck(Value)", outputs=[nbformat.v4.new_output(
            "display_data", data={"text/html": report._repr_html_(), "text/plain": "table"})])])
    for width in (1280, 390):
        found = _measure(_notebook_page(nb), tmp_path, "selfcheck", width)
        assert found["cells"], "no table rendered"
        assert {cell["align"] for cell in found["cells"]} == {"left"}
        assert min(found["headerGaps"]) >= 0, found["headerGaps"]
        assert [c for c in found["cells"] if c["clipped"]] == []


@pytest.mark.slow
def test_the_feedback_page_fits_the_screen_and_spaces_its_formulas(tmp_path):
    source = corpus.BASE.read_text().replace(corpus.MUL_SELF,
                                             "self.grad = other.data * out.grad")
    path = tmp_path / "student.py"
    path.write_text(source)
    page = report_html.page(grade(path, seed=9), "student")
    for width in (1280, 390):
        found = _measure(page, tmp_path, "report", width)
        assert found["overflow"] <= 0, (width, found["wide"])
        assert found["math"], "no formula rendered as MathML"
        run_together = [m for m in found["math"] if re.search(r"grad[a-zA-Zα-ωᵃ-ᶻ]", m)]
        assert run_together == [], run_together
