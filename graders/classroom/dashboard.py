"""OUTDIR/summary.html: the class at a glance, for the instructor after a batch.

First, every student in one table (score, and a flag for each thing to look at: a time limit
hit, a cell interrupted, not gradable, weak isolation, a numerical derivative, a shared wrong
answer), in trouble first: a student cut off by a hang stands out in red at the top. The table
sorts by any column and filters by flag or name with a few lines of inline script (no server,
no network; without script it is still the table, in that order). Then a score histogram and
each op's pass rate (static SVG drawn by `charts.py`, embedded, so the page works offline and
as an email attachment), the most common diagnosed mistakes per op, named in words (the
catalogue's title), with counts and one example submission each, the wrong answers the class
shares (clusters of two or more, largest first, each with one wrong number and the right one,
and the id an instructor names one by; an untouched stub is not a shared answer), the
submissions that could not be graded and why, and what the run used (isolation, seeds, grader
version). It is computed from the gradebook rows, like summary.md, so its numbers are
grades.csv's.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from graders.atomic import write_text_atomic
from graders.classroom import charts as draw
from graders.classroom.records import Row
from graders.classroom.storing import feedback_files, results_file
from graders.classroom.summary import OpSummary
from graders.report import html
from graders.spec.optable import Assignment

TOP_MISTAKES = 3


def charts(rows: list[Row], summaries: list[OpSummary]) -> list[str]:
    """The two charts as inline SVG: the gradable submissions' scores over 0..the highest
    maximum score, and each op's pass rate in the ops table's order."""
    gradable = [row for row in rows if not row.problem]
    top = max((row.max_score for row in gradable), default=1.0) or 1.0
    return [draw.score_histogram([row.score for row in gradable], top),
            draw.pass_rate_bars([(s.op, s.pass_rate) for s in summaries])]


def mistake_title(op: str, key: str, assignment: Assignment | None = None) -> str:
    """A diagnosed mistake in words, as its report names it ("uses the input x where the
    output exp(x) belongs"), never its catalogue key: the catalogue's title, or a named
    cluster's; the key's words only for a mistake neither has (a row kept from a config
    since changed)."""
    from graders.judge.diagnosis import describe

    for cluster in assignment.clusters if assignment else ():
        if cluster.key == key and cluster.title:
            return cluster.title
    try:
        return describe(op, key)[0]
    except (KeyError, LookupError, StopIteration):
        return key.replace("_", " ")


def _mistakes(rows: list[Row]) -> list[tuple[str, str, int, str]]:
    """(op, mistake key, count, one example student), most common first within each op."""
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
        """The mistake its members were told (its key), or "" when the catalogue has no name
        for it."""
        return self.diagnoses.most_common(1)[0][0] if self.diagnoses else ""

    @property
    def answer(self) -> tuple[str, str]:
        """(what its members answered, the right answer), from the evidence "... right: N"."""
        wrong, said, right = self.evidence.rpartition(", right: ")
        if not said:
            return self.evidence, ""
        named = re.search(r"(\w+\.grad|the forward value) (=|is) [^=]*$", wrong)
        if named and "=" not in right:  # "x.grad = 1" beside "1.36": say whose number it is
            right = f"{named.group(1)} {named.group(2)} {right}"
        return wrong, right

    @property
    def stub(self) -> bool:
        """An untouched stub (it raises NotImplementedError, or the method is missing): every
        student who has not started the task shares it, which is no shared wrong answer."""
        return bool(STUB.search(self.evidence))


STUB = re.compile(r"raises (NotImplementedError|not implemented)\b")


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


def shared(found: list[Cluster]) -> list[Cluster]:
    """The wrong answers the class shares: two or more members, and not an untouched stub."""
    return [c for c in found if len(c.members) > 1 and not c.stub]


MEMBERS_SHOWN = 6


def _members(names: list[str]) -> str:
    shown = ", ".join(names[:MEMBERS_SHOWN])
    return shown + (f" and {len(names) - MEMBERS_SHOWN} more" if len(names) > MEMBERS_SHOWN
                    else "")


@dataclass
class Student:
    """One line of the students table: a row and what to look at, in words."""

    row: Row
    flags: list[tuple[str, str]]  # (kind, detail): kind is one of FLAGS
    clusters: list[str]  # the shared wrong answers the student is in (cluster ids)
    page: str = ""  # the feedback page, relative to OUTDIR ("" when there is none)

    @property
    def hung(self) -> bool:
        """Cut off by a hang: the grade may hide what the rest of the code does."""
        return any(kind in HANGS for kind, _ in self.flags)

    @property
    def rank(self) -> tuple:
        """The table's first order: hangs, then not gradable, then other flags, then the
        lowest scores."""
        share = self.row.score / self.row.max_score if self.row.max_score else 0.0
        return (not self.hung, not self.row.problem, not self.flags, share, self.row.student)


TIME_LIMIT, INTERRUPTED = "time limit hit", "cell interrupted"
NOT_GRADABLE, WEAK, NUMERICAL, CLUSTER = ("not gradable", "weak isolation",
                                          "numerical derivative", "cluster")
FLAGS = (TIME_LIMIT, INTERRUPTED, NOT_GRADABLE, WEAK, NUMERICAL, CLUSTER)
HANGS = (TIME_LIMIT, INTERRUPTED)


def _flag(text: str) -> tuple[str, str]:
    """A row's flag (`Result.flags`: "cell 7 interrupted", "time limit hit: relu",
    "numerical derivative: exp") as (kind, detail)."""
    if text.startswith(TIME_LIMIT):
        return TIME_LIMIT, text.partition(":")[2].strip()
    if text.endswith(" interrupted"):
        return INTERRUPTED, text.removesuffix(" interrupted")
    if text.startswith(NUMERICAL):
        return NUMERICAL, text.partition(":")[2].strip()
    return text, ""


def students(rows: list[Row], found: list[Cluster], isolation: str,
             outdir: Path | None = None) -> list[Student]:
    """Every row as the students table shows it, in trouble first (`Student.rank`)."""
    member: dict[tuple[str, str], list[str]] = {}
    for cluster in shared(found):
        for name in dict.fromkeys(cluster.members):
            member.setdefault((name, cluster.op), []).append(cluster.id)
    weak = isolation.startswith("weak")
    out = []
    for row in rows:
        flags = [_flag(text) for text in row.flags]
        if row.problem:
            flags.insert(0, (NOT_GRADABLE, row.problem))
        elif weak:
            flags.append((WEAK, isolation))
        ids = [cid for op in row.ops for cid in member.get((row.student, op.op), ())
               if cid == op.cluster]
        if ids:
            flags.append((CLUSTER, ", ".join(ids)))
        page = ""
        target = results_file(outdir, row) if outdir is not None else None
        if target is not None and feedback_files(target)["html"].exists():
            page = f"results/{quote(feedback_files(target)['html'].name)}"
        out.append(Student(row, flags, ids, page))
    return sorted(out, key=lambda s: s.rank)


def page(rows: list[Row], summaries: list[OpSummary], *, isolation: str,
         grader: str, assignment: Assignment | None = None, outdir: Path | None = None) -> str:
    """The page (graders/templates/html/dashboard.html.j2, autoescaped): the charts' SVG,
    which `charts.py` draws with every text in it escaped, is the one markup it embeds."""
    from markupsafe import Markup

    ungradable = [row for row in rows if row.problem]
    found = clusters(rows)
    figures = [Markup(svg) for svg in charts(rows, summaries)]  # charts.py escapes its text
    seeds = sorted({row.seed for row in rows if row.seed is not None})
    seed_text = ", ".join(map(str, seeds[:5])) + (f" … ({len(seeds)} in all)"
                                                   if len(seeds) > 5 else "")
    mistakes = [(op, mistake_title(op, key, assignment), count, student)
                for op, key, count, student in _mistakes(rows)]
    titles = {c.id: mistake_title(c.op, c.named, assignment) if c.named else ""
              for c in found}
    return html.render(
        "dashboard.html.j2", total=len(rows), ungradable=ungradable, charts=figures,
        summaries=summaries, mistakes=mistakes, shared=shared(found), titles=titles,
        members=_members, students=students(rows, found, isolation, outdir), flags=FLAGS,
        hangs=HANGS, flagged=[row for row in rows if row.flags], isolation=isolation,
        grader=grader, seeds=seed_text) + "\n"


def write(rows: list[Row], summaries: list[OpSummary], outdir: Path, *, isolation: str,
          grader: str, assignment: Assignment | None = None) -> None:
    write_text_atomic(outdir / "summary.html",
                      page(rows, summaries, isolation=isolation, grader=grader,
                           assignment=assignment, outdir=outdir))
