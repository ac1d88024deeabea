"""The README's op table and points rule, generated from `graders/spec/optable.py`.

`python -m graders.docgen` writes it between the `optable` markers in README.md; a test fails
when the committed README differs from what the table says.
"""

from __future__ import annotations

from graders.spec import optable
from graders.spec.optable import Domain


def describe(symbol: str, domain: Domain) -> str:
    if domain.choices:
        return f"{symbol} ∈ {{{', '.join(f'{c:g}' for c in domain.choices)}}}"
    sign = {"positive": "", "negative": "−"}.get(domain.sign, "±")
    text = f"{symbol} = {sign}[{domain.low:g}, {domain.high:g}]"
    if domain.gap:
        text += f" minus ({domain.gap[0]:g}, {domain.gap[1]:g})"
    return text


def row(spec: optable.OpSpec, derived: str = "", points: float | None = None) -> str:
    """One op's line of the table; `derived` describes a declared op's domain (what the config
    gives and what sympy derived), `points` the assignment's points where they differ."""
    domains = derived or "; ".join(", ".join(describe(s, d) for s, d in variant.items())
                                   for variant in spec.domains)
    points = f"{points:g}" if points is not None else \
        "0 unless an assignment sets points" if spec.optional else f"{spec.points:g}"
    built = ", ".join(f"`{key}`" for key in spec.built_from)
    return (f"| `{spec.key}` | {spec.task} | `{spec.build}` | {points} | {domains} | "
            f"{built} | {len(spec.mistakes)} |")


HEADER = ["| op | task | built as | points | probe domains (cycled over probes) | "
          "usually built from | own mistakes |",
          "| --- | --- | --- | --- | --- | --- | --- |"]


def markdown() -> str:
    lines = list(HEADER)
    lines += [row(spec) for spec in optable.OPS]
    graphs = ", ".join(check.key for check in optable.BACKWARD_GRAPHS)
    lines.append(f"| `backward` | {optable.BACKWARD.task} | graphs: {graphs} | "
                 f"{optable.BACKWARD.points:g} | leaves ±[0.3, 2] | | "
                 f"{len(optable.BACKWARD.mistakes)} |")
    lines.append(f"| `reference_example` | {optable.REFERENCE.task} | the lecture's program | "
                 f"{optable.REFERENCE.points:g} | (−4, 2) and 3 random points away from the "
                 "relu kinks | | |")
    lines.append(f"\nEvery op also has the {len(optable.GENERIC_MISTAKES)} generic mistakes "
                 "(forgotten `out.grad`, `=` for `+=`, sign, input never updated, bare local "
                 "derivative).")
    observed = "; ".join(f"`{m.key}`: {m.title}" for m in optable.OBSERVED_MISTAKES)
    lines.append(f"\nNamed from what the sandboxed child saw the code do, not from the numbers: "
                 f"{observed}. A numerical `_backward` (it evaluates the forward again at x ± h "
                 "or x + ih) is named and keeps its points, earns none, or passes unnamed, by "
                 f"the assignment's `numerical` setting "
                 f"({', '.join(repr(v) for v in optable.NUMERICAL_SETTINGS)}).")
    parts = ", ".join(f"{s.label} ({s.weight:g})" for s in optable.OP_SUBCHECKS)
    graph_parts = ", ".join(f"{g.label} ({g.weight:g})" for g in optable.BACKWARD_GRAPHS)
    reference_parts = ", ".join(f"{s.label} ({s.weight:g})" for s in optable.REFERENCE_SUBCHECKS)
    lines.append(f"\nAn op's points are split over its sub-checks by weight: {parts}; the last "
                 "only for ops with a reuse build (`x + x`, `x * x`, `x - x`, `x / x`). "
                 f"`backward`: {graph_parts}. `reference_example`: {reference_parts}.")
    lines += ["", "Assignments 1 (`derivatives`) and 3 (`mlp`) are graded by the same sandboxed "
              "grader, task by task (their checks: `graders/judge/programs.py`):", "",
              "| task key | task | what is checked | points | needs |",
              "| --- | --- | --- | --- | --- |"]
    lines += [f"| `{spec.key}` | {spec.task} | {spec.title} | {spec.points:g} | `{spec.method}` |"
              for spec in optable.TASKS]
    return "\n".join(lines)
