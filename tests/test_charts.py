"""The dashboard's charts read as the numbers they draw (issue: the dashboard without matplotlib).

Each chart is read the way a person reads it: a bar's size against the axis's own tick labels,
its colour, the op name beside it. The expected numbers are computed here independently (the
bins by numpy.histogram), so the drawing code cannot agree with itself by mistake.
"""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from xml.etree import ElementTree

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graders.classroom import dashboard
from graders.classroom.records import Row
from graders.classroom.summary import OpSummary
from tests.conftest import ROOT

NS = "{http://www.w3.org/2000/svg}"
GREEN, AMBER, RED = "#17803d", "#e0a800", "#b42318"


def _row(name: str, score: float, max_score: float, problem: str | None = None) -> Row:
    return Row(name, "", f"{name}.py", "hash", "grader", 1, score, max_score, problem)


def _summary(op: str, passed: int, graded: int) -> OpSummary:
    return OpSummary(op, graded, passed, 0.0, 1.0, None, 0)


def _parse(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def _ticks(root: ElementTree.Element, axis: str) -> dict[float, float]:
    """Tick label value -> where its tick line is (y for the y axis, x for the x axis)."""
    found = {}
    for tick in root.iter(f"{NS}g"):
        if tick.get("class") == f"tick {axis}" and tick.find(f"{NS}line") is not None:
            line, label = tick.find(f"{NS}line"), tick.find(f"{NS}text")
            found[float(label.text)] = float(line.get("y1" if axis == "y" else "x1"))
    return found


def _per_unit(ticks: dict[float, float]) -> tuple[float, float]:
    """Where 0 is and how far one unit of the axis is, from its first and last tick."""
    low, high = min(ticks), max(ticks)
    return ticks[low], (ticks[high] - ticks[low]) / (high - low)


def _bars(root: ElementTree.Element) -> list[ElementTree.Element]:
    return [rect for rect in root.iter(f"{NS}rect") if rect.get("class") == "bar"]


def _histogram_read(svg: str) -> tuple[list[float], list[float]]:
    """(the bin edges, in points, and the count of each bar) as the axes say."""
    root = _parse(svg)
    bars = sorted(_bars(root), key=lambda bar: float(bar.get("x")))
    x_zero, x_unit = _per_unit(_ticks(root, "x"))
    y_zero, y_unit = _per_unit(_ticks(root, "y"))
    counts = [float(bar.get("height")) / -y_unit for bar in bars]
    edges = [(float(bar.get("x")) - x_zero) / x_unit for bar in bars]
    if bars:
        last = bars[-1]
        edges.append((float(last.get("x")) + float(last.get("width")) - x_zero) / x_unit)
    for bar in bars:  # every bar stands on the axis's zero
        assert float(bar.get("y")) + float(bar.get("height")) == pytest.approx(y_zero, abs=0.02)
    return edges, counts


def _bins(top: float) -> int:
    """The dashboard's rule for how many bins (unchanged from its matplotlib days)."""
    return min(20, max(5, int(top)))


SCORES = [0.0, 1.25, 2.4, 7.5, 12.5, 12.5, 13.0, 18.75, 24.99, 25.0, 25.0, 3.0]


def test_the_histogram_bars_are_the_class_counts_per_bin_as_numpy_bins_them():
    rows = [_row(f"s{i}", score, 25.0) for i, score in enumerate(SCORES)]
    rows.append(_row("broken", 0.0, 25.0, problem="SyntaxError"))  # not graded: not drawn
    histogram, _ = dashboard.charts(rows, [])
    expected, expected_edges = np.histogram(SCORES, bins=_bins(25.0), range=(0, 25.0))
    edges, counts = _histogram_read(histogram)
    assert [round(c) for c in counts] == expected.tolist()
    assert counts == pytest.approx(expected.tolist(), abs=0.05)
    assert edges == pytest.approx(expected_edges.tolist(), abs=0.02)
    root = _parse(histogram)
    texts = [text.text for text in root.iter(f"{NS}text")]
    assert f"scores ({len(SCORES)} graded)" in texts
    assert "points" in texts and "submissions" in texts
    assert {bar.get("fill") for bar in _bars(root)} == {"#3b6fd8"}
    assert {bar.get("stroke") for bar in _bars(root)} == {"#fff"}  # white edges between bars


def test_the_count_axis_has_whole_nice_ticks_reaching_the_tallest_bar():
    rows = [_row(f"s{i}", 10.0, 25.0) for i in range(7)]
    ticks = sorted(_ticks(_parse(dashboard.charts(rows, [])[0]), "y"))
    assert ticks == [0, 2, 4, 6, 8]
    points = sorted(_ticks(_parse(dashboard.charts(rows, [])[0]), "x"))
    assert points == [0, 5, 10, 15, 20, 25]


RATES = [("add", 10, 10), ("mul", 8, 10), ("tanh", 79, 100), ("exp", 1, 2), ("relu", 49, 100),
         ("pow", 0, 3)]
COLOURS = {"add": GREEN, "mul": GREEN, "tanh": AMBER, "exp": AMBER, "relu": RED, "pow": RED}


def _rates_read(svg: str) -> list[tuple[str, float, str]]:
    """(op name, % the bar reaches on the axis, colour), top to bottom, each bar matched to
    the label beside it."""
    root = _parse(svg)
    if not _bars(root):  # no op: no axis either, a line that says so
        assert "no op was graded" in [text.text for text in root.iter(f"{NS}text")]
        return []
    x_zero, x_unit = _per_unit(_ticks(root, "x"))
    labels = [text for tick in root.iter(f"{NS}g") if tick.get("class") == "tick y"
              for text in tick.iter(f"{NS}text")]
    bars = sorted(_bars(root), key=lambda bar: float(bar.get("y")))
    labels.sort(key=lambda label: float(label.get("y")))
    read = []
    for bar, label in zip(bars, labels, strict=True):
        middle = float(bar.get("y")) + float(bar.get("height")) / 2
        assert middle == pytest.approx(float(label.get("y")), abs=0.5)
        assert float(bar.get("x")) == pytest.approx(x_zero)
        read.append((label.text, float(bar.get("width")) / x_unit, bar.get("fill")))
    return read


def test_pass_rate_bars_are_as_long_as_the_rate_and_coloured_by_it_in_table_order():
    summaries = [_summary(op, passed, graded) for op, passed, graded in RATES]
    _, rates = dashboard.charts([], summaries)
    read = _rates_read(rates)
    assert [name for name, _, _ in read] == [op for op, _, _ in RATES]
    assert [pct for _, pct, _ in read] == pytest.approx(
        [100 * passed / graded for _, passed, graded in RATES], abs=0.02)
    assert [colour for _, _, colour in read] == [COLOURS[op] for op, _, _ in RATES]
    root = _parse(rates)
    texts = [text.text for text in root.iter(f"{NS}text")]
    assert "pass rate per op" in texts and "% passed" in texts
    assert sorted(_ticks(root, "x")) == [0, 20, 40, 60, 80, 100]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


@pytest.mark.parametrize("name", ["<script>", 'a"b&c\'d', "x\x00y</svg>"])
def test_an_op_name_from_a_config_is_text_in_the_chart_and_the_page(name):
    summaries = [_summary(name, 1, 2)]
    _, rates = dashboard.charts([], summaries)
    assert "<script" not in rates and "</svg>" not in rates[:-len("</svg>")]
    root = _parse(rates)  # well-formed XML
    labels = [text.text for tick in root.iter(f"{NS}g") if tick.get("class") == "tick y"
              for text in tick.iter(f"{NS}text")]
    assert labels == [name.replace("\x00", "\ufffd")]
    assert name.replace("\x00", "\ufffd") in root.get("aria-label")
    page = dashboard.page([], summaries, isolation="none", grader="x")
    parser = _Tags()
    parser.feed(page)
    # the one script is the page's own (the students table's sorting), never the name
    assert parser.tags.count("script") == 1 and page.count("<svg") == 2


def test_a_long_op_name_is_cut_beside_its_bar_and_whole_in_its_tooltip():
    name = "<script>" + "x" * 40
    root = _parse(dashboard.charts([], [_summary(name, 1, 2)])[1])
    label = next(text for tick in root.iter(f"{NS}g") if tick.get("class") == "tick y"
                 for text in tick.iter(f"{NS}text"))
    assert label.text.endswith("…") and name.startswith(label.text[:-1])
    assert label.find(f"{NS}title").text == name


def test_each_chart_scales_to_its_column_and_is_one_named_image_to_a_screen_reader():
    rows = [_row("a", 3.0, 5.0), _row("b", 5.0, 5.0)]
    for svg in dashboard.charts(rows, [_summary("add", 1, 2)]):
        root = _parse(svg)
        assert root.get("width") == "100%" and root.get("height") is None
        assert len(root.get("viewBox").split()) == 4
        assert root.get("role") == "img" and root.get("aria-label")
        assert root[0].tag == f"{NS}title" and root[0].text == root.get("aria-label")
        assert root[1].tag == f"{NS}desc" and root[1].text
    histogram = _parse(dashboard.charts(rows, [])[0])
    assert "2 graded submissions" in histogram.get("aria-label")
    assert "add 50%" in _parse(dashboard.charts([], [_summary("add", 1, 2)])[1]).get(
        "aria-label")


def test_the_dashboard_loads_no_plotting_library():
    """Its import and drawing were the dashboard's whole cost (~1.3 s of CPU per batch)."""
    code = ("import sys; from graders.classroom import dashboard; "
            "from graders.classroom.records import Row; "
            "rows = [Row('a', '', 'a.py', 'h', 'g', 1, 3.0, 5.0)]; "
            "page = dashboard.page(rows, [], isolation='none', grader='x'); "
            "print(page.count('<svg'), sorted(m for m in sys.modules "
            "if m.split('.')[0] == 'matplotlib'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.split() == ["2", "[]"]


# --- any class --------------------------------------------------------------------------------

_student = st.tuples(st.floats(0, 1), st.sampled_from([0.0, 1.0, 2.5, 7.0, 25.0, 60.0, 133.0]),
                     st.booleans())
_rate = st.integers(1, 500).flatmap(lambda graded: st.tuples(st.integers(0, graded),
                                                             st.just(graded)))


@given(students=st.lists(_student, max_size=80), rates=st.lists(_rate, max_size=25))
def test_any_class_draws_one_bar_per_bin_counting_every_graded_submission(students, rates):
    rows = [_row(f"s{i}", fraction * top, top, "broken" if broken else None)
            for i, (fraction, top, broken) in enumerate(students)]
    summaries = [_summary(f"op{i}", passed, graded) for i, (passed, graded) in enumerate(rates)]
    histogram, rate_chart = dashboard.charts(rows, summaries)
    graded = [row for row in rows if not row.problem]
    top = max((row.max_score for row in graded), default=1.0) or 1.0
    edges, counts = _histogram_read(histogram)
    assert len(counts) == _bins(top)
    expected = np.histogram([row.score for row in graded], bins=_bins(top), range=(0, top))[0]
    assert [round(c) for c in counts] == expected.tolist()
    assert sum(round(c) for c in counts) == len(graded)
    assert edges[0] == pytest.approx(0, abs=1e-6) and edges[-1] == pytest.approx(top, rel=1e-3)
    y_ticks = sorted(_ticks(_parse(histogram), "y"))
    assert all(tick == int(tick) for tick in y_ticks) and len(y_ticks) <= 7
    assert y_ticks[-1] >= max(counts) - 0.05
    read = _rates_read(rate_chart)
    assert [name for name, _, _ in read] == [s.op for s in summaries]
    assert [pct for _, pct, _ in read] == pytest.approx([100 * s.pass_rate for s in summaries],
                                                        abs=0.02)


@given(top=st.sampled_from([1.0, 3.0, 7.5, 10.0, 25.0, 0.3, 133.0, 1e6]),
       picks=st.lists(st.one_of(st.floats(0, 1), st.integers(0, 20)), max_size=60))
def test_a_score_on_a_bin_edge_lands_in_numpys_bin(top, picks):
    """Scores exactly on edges (i * top / bins) are where float rounding could move a bar."""
    from graders.classroom.charts import bin_counts

    bins = _bins(top)
    scores = [min(pick * top, top) if isinstance(pick, float) else min(pick, bins) * top / bins
              for pick in picks]
    assert bin_counts(scores, bins, top) == np.histogram(scores, bins, (0, top))[0].tolist()
