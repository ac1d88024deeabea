"""How the class did, op by op: pass rate, mean points, the most common diagnosed mistake.

This is the item analysis incumbents cannot give (otter #885: siloed containers): it is computed
from the gradebook, so it covers every submission ever graded into OUTDIR, across reruns and
shards. Ungradable submissions are counted apart, so a few broken notebooks do not read as
"nobody understood tanh".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from graders.atomic import write_json_atomic, write_text_atomic
from graders.classroom.records import Row
from graders.spec.optable import Assignment


@dataclass
class OpSummary:
    op: str
    graded: int  # gradable submissions that have this op
    passed: int
    mean_points: float
    max_points: float
    top_mistake: str | None
    top_mistake_count: int

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


def summarize(rows: list[Row], assignment: Assignment) -> tuple[list[OpSummary], int]:
    """Per-op summaries over gradable rows, and the number of ungradable rows."""
    gradable = [row for row in rows if not row.problem]
    order = list(assignment.ops) + sorted(
        {op.op for row in gradable for op in row.ops} - set(assignment.ops))
    summaries = []
    for key in order:
        ops = [op for row in gradable for op in row.ops if op.op == key]
        if not ops:
            continue
        mistakes = Counter(op.diagnosis for op in ops
                           if op.status != "passed" and op.diagnosis)
        top = mistakes.most_common(1)
        summaries.append(OpSummary(
            key, len(ops), sum(op.status == "passed" for op in ops),
            round(sum(op.points for op in ops) / len(ops), 3),
            max(op.max_points for op in ops),
            top[0][0] if top else None, top[0][1] if top else 0))
    return summaries, len(rows) - len(gradable)


def markdown(summaries: list[OpSummary], ungradable: int, total: int) -> str:
    lines = [f"# Class summary: {total} submissions, {ungradable} not gradable", "",
             "| op | pass rate | mean points | most common mistake |",
             "| --- | ---: | ---: | --- |"]
    for s in summaries:
        mistake = f"`{s.top_mistake}` ({s.top_mistake_count})" if s.top_mistake else ""
        lines.append(f"| {s.op} | {s.pass_rate:.0%} ({s.passed}/{s.graded}) | "
                     f"{s.mean_points:g} / {s.max_points:g} | {mistake} |")
    return "\n".join(lines) + "\n"


def write(rows: list[Row], assignment: Assignment, outdir: Path) -> str:
    """Write summary.md and summary.json into `outdir`; return the Markdown."""
    summaries, ungradable = summarize(rows, assignment)
    text = markdown(summaries, ungradable, len(rows))
    write_text_atomic(outdir / "summary.md", text)
    write_json_atomic(outdir / "summary.json", {
        "submissions": len(rows), "ungradable": ungradable,
        "ops": [{**asdict(s), "pass_rate": round(s.pass_rate, 4)} for s in summaries]})
    return text
