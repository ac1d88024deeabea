"""The class dashboard's two charts as SVG text: the score histogram and each op's pass rate.

Why no plotting library: importing matplotlib and drawing two figures cost 0.6–1.5 s of CPU
per batch, for rectangles, lines and a few labels. Written here directly they take a millisecond,
need no optional dependency (so the dashboard always has its charts), and are made for the
page they sit in: a `viewBox` and `width="100%"`, so a chart scales to its column, down to a
390 px phone, with text sized to stay readable there; `role="img"` with a name and a
description for a screen reader; every text through one escaper (`encode.svg_text`: op names
come from assignment configs).

The histogram's bins are numpy.histogram's (and so matplotlib's `hist`'s) with range=(0, top):
equal widths, each bin closed on the left, the last one closed on both sides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from graders.report.encode import svg_text as esc

WIDTH = 400  # viewBox units: a chart column is ~490 px on a laptop, ~355 px on a phone
FONT = 13  # so labels read at ~16 px on a laptop (the page has 15 px) and ~11.5 px on a phone
TITLE_FONT = 15
FONTS = "system-ui, -apple-system, 'Segoe UI', sans-serif"  # the page's own
INK, MUTED, GRID = "#1d2430", "#5b6472", "#e3e6ec"
SCORE_BAR = "#3b6fd8"
GREEN, AMBER, RED = "#17803d", "#e0a800", "#b42318"
GLYPH = 0.6 * FONT  # a generous mean width of a sans-serif character: room for op names
LABEL_CHARS = 22  # a longer op name is cut (with "…"); its whole name is the label's tooltip
HISTOGRAM_HEIGHT = 250
ROW = 22  # one op's band in the pass-rate chart; its bar is BAR_HEIGHT of it
BAR_HEIGHT = 16


@dataclass(frozen=True)
class Box:
    """The plot area in viewBox units: where an axis's zero and its end fall."""

    left: float
    top: float
    right: float
    bottom: float

    def x(self, value: float, end: float) -> float:
        """Where `value` of an x axis running from 0 to `end` is drawn."""
        return self.left + (self.right - self.left) * value / end

    def y(self, value: float, end: float) -> float:
        """Where `value` of a y axis running from 0 (at the bottom) to `end` is drawn."""
        return self.bottom - (self.bottom - self.top) * value / end


# --- numbers ---------------------------------------------------------------------------------

def bins_for(top: float) -> int:
    """One bin per point of the maximum score, but 5 to 20 of them: the dashboard's rule since
    it was drawn by matplotlib, so a histogram reads as it did."""
    return min(20, max(5, int(top)))


def bin_edges(bins: int, top: float) -> list[float]:
    """numpy.linspace(0, top, bins + 1): i * step, the last edge exactly `top`."""
    step = top / bins
    return [index * step for index in range(bins)] + [top]


def bin_counts(scores: Sequence[float], bins: int, top: float) -> list[int]:
    """How many scores fall in each bin, as numpy.histogram(scores, bins, (0, top)) counts them:
    the index from the scaled value, then nudged by the edges themselves, so a score on an edge
    lands where numpy puts it; a score outside 0..top is not counted (none is: a score lies
    between 0 and its own maximum)."""
    edges = bin_edges(bins, top)
    counts = [0] * bins
    for score in scores:
        if not 0 <= score <= top:
            continue
        index = min(int(score / top * bins), bins - 1)
        if score < edges[index]:
            index -= 1
        elif index != bins - 1 and score >= edges[index + 1]:
            index += 1
        counts[index] += 1
    return counts


def nice_step(upper: float, *, whole: bool, most: int = 5) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that reaches `upper` in at most `most`
    steps: ticks a reader can add up. Counts of submissions take whole steps and no 2.5."""
    upper = upper if upper > 0 else 1.0
    mantissas = (1.0, 2.0, 5.0) if whole else (1.0, 2.0, 2.5, 5.0)
    exponent = math.floor(math.log10(upper / most))
    while True:
        for mantissa in mantissas:
            step = mantissa * 10.0 ** exponent
            if (step >= 1 or not whole) and math.ceil(upper / step - 1e-9) <= most:
                return step
        exponent += 1


def rate_colour(rate: float) -> str:
    """Green from 80 % passed, amber from 50 %, red below: the dashboard's traffic light."""
    return GREEN if rate >= 0.8 else AMBER if rate >= 0.5 else RED


# --- SVG pieces ------------------------------------------------------------------------------

def _num(value: float) -> str:
    """A coordinate with two decimals at most: exact enough, and short."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _tick(value: float) -> str:
    """A tick label: 0.6000000000000001 reads as 0.6."""
    return f"{round(value, 9):g}"


def _text(x: float, y: float, content: str, *, anchor: str = "middle", extra: str = "") -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{extra}>'
            f"{esc(content)}</text>")


_MID = ' dy="0.35em"'  # centres a label on its tick vertically, in every renderer


def _vertical_label(x: float, y: float, text: str) -> str:
    return _text(x, y, text, extra=f' transform="rotate(-90 {_num(x)} {_num(y)})"')


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return (f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
            f'stroke="{colour}"/>')


def _rect(x: float, y: float, width: float, height: float, fill: str, tip: str,
          extra: str = "") -> str:
    """A bar, with its numbers as a tooltip (a mouse over it shows them)."""
    return (f'<rect class="bar" x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" '
            f'height="{_num(height)}" fill="{fill}"{extra}><title>{esc(tip)}</title></rect>')


def _svg(height: float, name: str, description: str, body: list[str]) -> str:
    """The root: scales to its container's width, and is one image to a screen reader, named
    by `name` and described by `description` (the numbers the bars show)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_num(height)}" '
            f'width="100%" role="img" aria-label="{esc(name)}" font-family="{FONTS}" '
            f'font-size="{FONT}" fill="{INK}"><title>{esc(name)}</title>'
            f"<desc>{esc(description)}</desc>{''.join(body)}</svg>")


def _title(text: str) -> str:
    return _text(WIDTH / 2, 18, text, extra=f' font-size="{TITLE_FONT}" font-weight="600"')


def _x_axis(box: Box, ticks: list[float], end: float, label: str, *, grid: bool) -> list[str]:
    """The bottom axis: its line, a tick mark (or a grid line up the plot) and a label per
    tick, and the axis's name under them."""
    parts = [_line(box.left, box.bottom, box.right, box.bottom, MUTED)]
    for value in ticks:
        x = box.x(value, end)
        mark = (_line(x, box.top, x, box.bottom, GRID) if grid
                else _line(x, box.bottom, x, box.bottom + 4, MUTED))
        parts.append(f'<g class="tick x">{mark}{_text(x, box.bottom + 17, _tick(value))}</g>')
    parts.append(_text((box.left + box.right) / 2, box.bottom + 35, label))
    return parts


def _y_axis_line(box: Box) -> str:
    return _line(box.left, box.top, box.left, box.bottom, MUTED)


# --- the charts ------------------------------------------------------------------------------

def _count_axis(box: Box, step: float, end: float) -> list[str]:
    """The left axis of counts: a grid line across the plot and a label at each tick."""
    return [_count_tick(box, index * step, box.y(index * step, end))
            for index in range(round(end / step) + 1)]


def _count_tick(box: Box, value: float, y: float) -> str:
    return (f'<g class="tick y">{_line(box.left, y, box.right, y, GRID)}'
            f'{_text(box.left - 6, y, _tick(value), anchor="end", extra=_MID)}</g>')


def _bin_tip(low: float, high: float, count: int) -> str:
    return f"{_tick(low)}–{_tick(high)} points: {count} submission{'' if count == 1 else 's'}"


def score_histogram(scores: Sequence[float], top: float) -> str:
    """How many graded submissions scored what: bins_for(top) equal bins over 0..top points,
    blue bars with white edges (one per bin, an empty one flat), the count axis in nice whole
    steps."""
    bins = bins_for(top)
    edges, counts = bin_edges(bins, top), bin_counts(scores, bins, top)
    box = Box(48, 32, WIDTH - 16, HISTOGRAM_HEIGHT - 44)
    step = nice_step(max(counts), whole=True)
    end = step * max(1, math.ceil(max(counts) / step))
    tips = [_bin_tip(edges[i], edges[i + 1], count) for i, count in enumerate(counts)]
    bars = [_rect(box.x(edges[i], top), box.y(count, end),
                  box.x(edges[i + 1], top) - box.x(edges[i], top),
                  box.bottom - box.y(count, end), SCORE_BAR, tips[i],
                  ' stroke="#fff" stroke-width="1"') for i, count in enumerate(counts)]
    x_step = nice_step(top, whole=False)
    x_ticks = [i * x_step for i in range(math.floor(top / x_step + 1e-9) + 1)]
    body = [_title(f"scores ({len(scores)} graded)"), *_count_axis(box, step, end), *bars,
            _y_axis_line(box), *_x_axis(box, x_ticks, top, "points", grid=False),
            _vertical_label(14, (box.top + box.bottom) / 2, "submissions")]
    name = (f"Histogram of scores: {len(scores)} graded submissions, 0 to {_tick(top)} points "
            f"in {bins} bins")
    return _svg(HISTOGRAM_HEIGHT, name, "; ".join(tips), body)


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"


def _op_label(box: Box, row: int, name: str) -> str:
    """An op's name left of its bar; a cut one carries the whole name as its tooltip."""
    tip = f"<title>{esc(name)}</title>" if _short(name) != name else ""
    y = box.top + ROW * (row + 0.5)
    return (f'<g class="tick y"><text x="{_num(box.left - 6)}" y="{_num(y)}" '
            f'text-anchor="end"{_MID}>{esc(_short(name))}{tip}</text></g>')


def _no_rates() -> str:
    """A chart that says there is nothing to chart: no axis, so no bar is missed."""
    message = _text(WIDTH / 2, 46, "no op was graded", extra=f' fill="{MUTED}"')
    return _svg(64, "Pass rate per op: no op was graded", "No submission has a graded op.",
                [_title("pass rate per op"), message])


def pass_rate_bars(rates: Sequence[tuple[str, float]]) -> str:
    """Each op's pass rate as a horizontal bar, in the order given from the top down, on a
    0–100 % axis, coloured by rate_colour."""
    if not rates:
        return _no_rates()
    longest = max(len(_short(name)) for name, _ in rates)
    box = Box(min(WIDTH * 0.45, 12 + GLYPH * longest), 32, WIDTH - 16, 32 + ROW * len(rates))
    body = [_title("pass rate per op")]
    body += _x_axis(box, [20.0 * i for i in range(6)], 100, "% passed", grid=True)
    for row, (name, rate) in enumerate(rates):
        width = box.x(min(max(rate, 0.0), 1.0) * 100, 100) - box.left
        body.append(_rect(box.left, box.top + ROW * row + (ROW - BAR_HEIGHT) / 2, width,
                          BAR_HEIGHT, rate_colour(rate), f"{name}: {rate:.0%} passed"))
        body.append(_op_label(box, row, name))
    body.append(_y_axis_line(box))
    summary = ", ".join(f"{name} {rate:.0%}" for name, rate in rates)
    return _svg(box.bottom + 44, f"Pass rate per op: {summary}",
                "Green from 80 % passed, amber from 50 %, red below.", body)
