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

from graders.atomic import write_text_atomic
from graders.classroom import charts as draw
from graders.classroom.records import Row
from graders.classroom.summary import OpSummary
from graders.report import html

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


def page(rows: list[Row], summaries: list[OpSummary], *, isolation: str,
         grader: str) -> str:
    """The page (graders/templates/html/dashboard.html.j2, autoescaped): the charts' SVG,
    which `charts.py` draws with every text in it escaped, is the one markup it embeds."""
    from markupsafe import Markup

    ungradable = [row for row in rows if row.problem]
    shared = clusters(rows)
    figures = [Markup(svg) for svg in charts(rows, summaries)]  # charts.py escapes its text
    seeds = sorted({row.seed for row in rows if row.seed is not None})
    seed_text = ", ".join(map(str, seeds[:5])) + (f" … ({len(seeds)} in all)"
                                                   if len(seeds) > 5 else "")
    return html.render(
        "dashboard.html.j2", total=len(rows), ungradable=ungradable, charts=figures,
        summaries=summaries, mistakes=_mistakes(rows), shared=shared, members=_members,
        flagged=[row for row in rows if row.flags], isolation=isolation, grader=grader,
        seeds=seed_text) + "\n"


def write(rows: list[Row], summaries: list[OpSummary], outdir: Path, *, isolation: str,
          grader: str) -> None:
    write_text_atomic(outdir / "summary.html",
                      page(rows, summaries, isolation=isolation, grader=grader))
