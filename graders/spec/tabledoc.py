"""The README's op table, generated from `graders/spec/optable.py` so the two cannot disagree.

`python -m graders.spec.tabledoc` rewrites the block between the markers in README.md; a test fails
when the committed README differs from what the table says.
"""

from __future__ import annotations

import sys
from pathlib import Path

from graders.spec import optable
from graders.spec.optable import Domain

BEGIN, END = "<!-- optable:begin -->", "<!-- optable:end -->"


def describe(symbol: str, domain: Domain) -> str:
    if domain.choices:
        return f"{symbol} ∈ {{{', '.join(f'{c:g}' for c in domain.choices)}}}"
    sign = {"positive": "", "negative": "−"}.get(domain.sign, "±")
    text = f"{symbol} = {sign}[{domain.low:g}, {domain.high:g}]"
    if domain.gap:
        text += f" minus ({domain.gap[0]:g}, {domain.gap[1]:g})"
    return text


def row(spec: optable.OpSpec) -> str:
    domains = "; ".join(", ".join(describe(s, d) for s, d in variant.items())
                        for variant in spec.domains)
    points = "0 unless an assignment sets points" if spec.optional else f"{spec.points:g}"
    built = ", ".join(f"`{key}`" for key in spec.built_from)
    return (f"| `{spec.key}` | {spec.task} | `{spec.build}` | {points} | {domains} | "
            f"{built} | {len(spec.mistakes)} |")


def markdown() -> str:
    lines = [BEGIN,
             "| op | task | built as | points | probe domains (cycled over probes) | "
             "usually built from | own mistakes |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
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
    lines.append(END)
    return "\n".join(lines)


def rewrite(readme: Path) -> bool:
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + markdown() + text[end:]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    changed = rewrite(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
    print("README.md updated" if changed else "README.md already matches the op table")
