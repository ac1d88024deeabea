"""OUTDIR/summary.html: the class at a glance, for the instructor after a batch.

A score histogram and each op's pass rate (static SVG drawn by `charts.py`, embedded, so the
page works offline and as an email attachment), the most common diagnosed mistakes per op with
counts and one example submission each, the wrong answers the class shares (clusters, largest
first, with the id an instructor names one by), the submissions that could not be graded and
why, the ones flagged for a look (a cell the grader interrupted, an op that hit its time limit:
graded, but a hang may hide what else the code does), and what the run used (isolation, seeds,
grader version). It is computed from the
gradebook rows, like summary.md, so its numbers are grades.csv's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from graders.classroom import charts as draw
from graders.classroom.records import Row
from graders.classroom.summary import OpSummary
from graders.report.encode import html_text as esc

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430;
       max-width: 64rem; margin: 1.5rem auto; padding: 0 1rem; background: #fbfbfd; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.chart { flex: 1 1 24rem; min-width: 0; background: #fff; border: 1px solid #e3e6ec; }
.chart svg { width: 100%; height: auto; display: block; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; vertical-align: top; padding: .35rem .6rem;
         border-bottom: 1px solid #e3e6ec; overflow-wrap: break-word; }
td code { white-space: nowrap; }
th { background: #f0f2f6; }
.muted { color: #5b6472; }
.flag { display: inline-block; padding: 0 .4rem; margin: 0 .2rem .2rem 0; border-radius: .6rem;
        background: #fff4d6; border: 1px solid #e0a800; font-size: .85rem; }
"""
TOP_MISTAKES = 3


def charts(rows: list[Row], summaries: list[OpSummary]) -> list[str]:
    """The two charts as inline SVG: the gradable submissions' scores over 0..the highest
    maximum score, and each op's pass rate in the ops table's order."""
    gradable = [row for row in rows if not row.problem]
    top = max((row.max_score for row in gradable), default=1.0) or 1.0
    return [draw.score_histogram([row.score for row in gradable], top),
            draw.pass_rate_bars([(s.op, s.pass_rate) for s in summaries])]


def _mistakes(rows: list[Row]) -> list[tuple[str, str, int, str]]:
    """(op, mistake, count, one example student), most common first within each op."""
    found: dict[str, Counter] = {}
    example: dict[tuple[str, str], str] = {}
    for row in rows:
        for op in row.ops:
            if op.status != "passed" and op.diagnosis:
                found.setdefault(op.op, Counter())[op.diagnosis] += 1
                example.setdefault((op.op, op.diagnosis), row.student)
    return [(key, mistake, count, example[key, mistake])
            for key, counter in found.items()
            for mistake, count in counter.most_common(TOP_MISTAKES)]


@dataclass
class Cluster:
    """Submissions whose op gave the same wrong numbers at the class-wide probe points."""

    id: str
    op: str
    members: list[str] = field(default_factory=list)
    diagnoses: Counter = field(default_factory=Counter)
    evidence: str = ""

    @property
    def named(self) -> str:
        """The mistake its members were told, or "" when the catalogue has no name for it."""
        return self.diagnoses.most_common(1)[0][0] if self.diagnoses else ""


def clusters(rows: list[Row]) -> list[Cluster]:
    """Every cluster of the class, largest first (graders/judge/clusters.py gives the ids)."""
    found: dict[str, Cluster] = {}
    for row in rows:
        for op in row.ops:
            if op.status == "passed" or not op.cluster:
                continue
            cluster = found.setdefault(op.cluster, Cluster(op.cluster, op.op))
            cluster.members.append(row.student)
            cluster.evidence = cluster.evidence or op.evidence or ""
            if op.diagnosis:
                cluster.diagnoses[op.diagnosis] += 1
    return sorted(found.values(), key=lambda c: (-len(c.members), c.op, c.id))


MEMBERS_SHOWN = 6


def _members(names: list[str]) -> str:
    shown = ", ".join(names[:MEMBERS_SHOWN])
    return shown + (f" and {len(names) - MEMBERS_SHOWN} more" if len(names) > MEMBERS_SHOWN
                    else "")


def _cluster_rows(found: list[Cluster]) -> str:
    return "".join(
        f"<tr><td>{esc(c.op)}</td><td><code>{esc(c.id)}</code></td><td>{len(c.members)}</td>"
        f"<td>{f'<code>{esc(c.named)}</code>' if c.named else 'not in the catalogue'}</td>"
        f"<td>{esc(c.evidence)}</td><td>{esc(_members(c.members))}</td></tr>" for c in found)


def _table(headers: tuple[str, ...], body: str) -> str:
    """A table that scrolls sideways on its own on a narrow screen, not the page with it."""
    head = "".join(f"<th>{esc(name)}</th>" for name in headers)
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}'
            "</tbody></table></div>")


NAMING = ('<p class="muted">Name a cluster once in the assignment config and every member '
          'reads your message when you grade again with <code>--config</code>: '
          '<code>[cluster."ID"]</code> with <code>message = "..."</code>, and optionally '
          '<code>x = "g + u*(y + 1)"</code>: what the wrong x.grad ends as, in sympy, where g '
          "is x.grad before and u is the output's grad (docs/batch.md).</p>")


def page(rows: list[Row], summaries: list[OpSummary], *, isolation: str,
         grader: str) -> str:
    ungradable = [row for row in rows if row.problem]
    shared = clusters(rows)
    figure_html = "".join(f'<div class="chart">{svg}</div>' for svg in charts(rows, summaries))
    op_rows = "".join(
        f"<tr><td>{esc(s.op)}</td><td>{s.pass_rate:.0%} ({s.passed}/{s.graded})</td>"
        f"<td>{s.mean_points:g} / {s.max_points:g}</td></tr>" for s in summaries)
    mistake_rows = "".join(
        f"<tr><td>{esc(op)}</td><td><code>{esc(mistake)}</code></td><td>{count}</td>"
        f"<td>{esc(student)}</td></tr>" for op, mistake, count, student in _mistakes(rows))
    problem_rows = "".join(f"<tr><td>{esc(row.student)}</td><td>{esc(row.problem)}</td></tr>"
                           for row in ungradable)
    flag_rows = "".join(
        f"<tr><td>{esc(row.student)}</td><td>{row.score:g} / {row.max_score:g}</td><td>"
        + " ".join(f'<span class="flag">{esc(flag)}</span>' for flag in row.flags)
        + "</td></tr>" for row in rows if row.flags)
    seeds = sorted({row.seed for row in rows if row.seed is not None})
    seed_text = ", ".join(map(str, seeds[:5])) + (f" … ({len(seeds)} in all)"
                                                   if len(seeds) > 5 else "")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>gradkit class summary</title><style>{STYLE}</style></head><body>"
        f"<h1>Class summary: {len(rows)} submissions, {len(ungradable)} not gradable</h1>"
        f'<div class="charts">{figure_html}</div>'
        "<h2>Ops</h2>" + _table(("op", "pass rate", "mean points"), op_rows)
        + "<h2>Most common mistakes</h2>"
        + (_table(("op", "mistake", "submissions", "for example"), mistake_rows)
           if mistake_rows else '<p class="muted">no diagnosed mistakes</p>')
        + "<h2>Wrong answers the class shares</h2>"
        + ((NAMING + _table(("op", "cluster", "submissions", "mistake", "one wrong number",
                             "students"), _cluster_rows(shared))) if shared
           else '<p class="muted">no wrong answers to group</p>')
        + "<h2>Not gradable</h2>"
        + (_table(("student", "why"), problem_rows) if problem_rows
           else '<p class="muted">every submission was graded</p>')
        + "<h2>Flagged</h2>"
        + (_table(("student", "score", "flags"), flag_rows) if flag_rows
           else '<p class="muted">no cell interrupted, no time limit hit</p>')
        + f'<h2>Run</h2><p class="muted">isolation {esc(isolation)}; grader {esc(grader)}; '
        f"seeds {esc(seed_text or 'none')}</p></body></html>\n")


def write(rows: list[Row], summaries: list[OpSummary], outdir: Path, *, isolation: str,
          grader: str) -> None:
    temporary = outdir / ".summary.html.tmp"
    temporary.write_text(page(rows, summaries, isolation=isolation, grader=grader),
                         encoding="utf-8")
    temporary.replace(outdir / "summary.html")
