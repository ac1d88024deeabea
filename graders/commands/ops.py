"""`gradkit ops [--config FILE]`: what an assignment grades, op by op, and where it probes.

The README's table for the built-in ops, and for an instructor's config the same table with
every declared op in it: its build, points, its own mistakes, the derivative sympy derived and
the probe domain, derived from the expression where the config gives none. An instructor reads
it before a term starts to see that the grader understood the config as meant.
"""

from __future__ import annotations

import argparse

from graders.commands import VERBS, options


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "ops", help=VERBS["ops"],
        description="Print the ops an assignment grades (the built-in backprop table, or "
                    "a config's, with its declared ops) as a Markdown table.")
    options.add_config(parser, "the built-in backprop")
    parser.set_defaults(run=run)


def derived_domain(spec) -> str:
    """A declared op's derived domain in words: the default range minus what sympy ruled out."""
    from graders.judge import domains
    from graders.spec.tabledoc import describe

    found = domains.derived(spec)
    given = spec.domains[0] if spec.domains else {}
    base = ", ".join(describe(name, domain) + ("" if name in given else " (derived)")
                     for name, domain in found.base.items())
    rules = found.describe()
    return (base + (f"; {'; '.join(rules)}" if rules else "")
            + "; redrawn where a mistake's gradient meets the right one")


def table(assignment) -> str:
    from graders.judge import oracle
    from graders.spec.tabledoc import HEADER, row

    key = oracle.for_assignment(assignment)
    lines = list(HEADER)
    derivatives = []
    for op_key in assignment.ops:
        spec = assignment.op(op_key)
        if spec.kind != "op":
            lines.append(f"| `{spec.key}` | {spec.task} | {spec.title} | "
                         f"{assignment.points_for(op_key):g} | | | {len(spec.mistakes)} |")
            continue
        shown = derived_domain(spec) if spec.origin else ""
        points = assignment.points_for(op_key)
        if spec.optional and op_key not in assignment.points:
            points = None
        lines.append(row(spec, shown, points))
        if spec.origin:
            formulas = ", ".join(f"∂/∂{name} = {formula.text}"
                                 for name, formula in key.ops[op_key].derivative.items())
            derivatives.append(f"- `{spec.key}` ({spec.title}): {formulas}")
    if derivatives:
        lines += ["", "Declared in the config, derived by sympy:", *derivatives]
    return "\n".join(lines)


def heading(assignment) -> str:
    """The line above the table, counting its rows: the graded ones and their points, and the
    optional ones listed but worth nothing unless a config gives them points."""
    graded = [key for key in assignment.ops
              if not assignment.op(key).optional or key in assignment.points]
    optional = [key for key in assignment.ops if key not in graded]
    total = sum(assignment.points_for(key) for key in graded)
    line = (f"{assignment.name}: {len(assignment.ops)} rows below: {len(graded)} graded "
            f"({total:g} points)")
    if optional:
        line += (f", {len(optional)} optional, not graded unless a config sets their points "
                 f"({', '.join(optional)})")
    return line


def run(args: argparse.Namespace) -> int:
    from graders.spec import optable

    assignment = options.assignment(args) or optable.BACKPROP
    print(heading(assignment))
    print()
    print(table(assignment))
    return 0
