"""Words for a student: what an op's verdict means, in Markdown and in plain text.

Every failing op shows the expected local derivative, one concrete failing probe (inputs,
upstream gradient, expected, got, finite difference), the catalogued mistake if one matched and
the root cause if a primitive it is built from is broken. It never shows the grader's code.
"""

from __future__ import annotations

from graders.scoring import ATOL, RTOL, OpResult, Probe


def _num(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "nothing"
    return repr(value)[:60]


def probe_lines(probe: Probe) -> list[str]:
    if probe.error:
        where = f" (cell {probe.where[0]}, line {probe.where[1]})" if probe.where else ""
        return [f"your code raised {probe.error}{where}"]
    inputs = ", ".join(f"{k}={_num(v)}" for k, v in probe.inputs.items())
    if probe.input == "out":
        return [f"forward value at {inputs}: expected {_num(probe.expected)}, "
                f"got {_num(probe.got)}"]
    name = probe.input if "." in str(probe.input) else f"{probe.input}.grad"
    lines = [f"{name} at {inputs}" if inputs else name]
    if probe.upstream is not None:
        lines[0] += f", out.grad = {_num(probe.upstream)}"
    if probe.pre:
        lines[0] += f", {probe.input}.grad before = {_num(probe.pre)}"
    lines.append(f"expected {_num(probe.expected)}, got {_num(probe.got)}")
    if probe.finite_difference is not None:
        lines.append(f"finite difference of your own forward: {_num(probe.finite_difference)}")
    return lines


def explain(op: OpResult) -> list[str]:
    """Plain lines explaining a failing op (empty for a passing one)."""
    if op.passed:
        return []
    lines = []
    for name, text in op.formula.items():
        lines.append(f"expected d(out)/d{name} = {text}")
    failed = [s.title for s in op.subchecks if not s.passed]
    if failed:
        lines.append("failed: " + "; ".join(failed))
    if op.diagnosis:
        lines.append(f"likely mistake ({op.diagnosis['key']}): {op.diagnosis['hint']}")
    if op.root_cause:
        lines.append(f"root cause: this uses `{op.root_cause}`, which fails "
                     "its own checks; fix that first")
    if op.failures:
        lines += probe_lines(op.failures[0])
    lines += op.fd_findings[:1]
    for sub in op.subchecks:
        if not sub.passed and sub.detail:
            lines.append(f"hint: {sub.detail}")
    return lines


def markdown_for_op(op: OpResult) -> str:
    head = f"**{op.key}** (task {op.task}): {op.points:g} / {op.max_points:g}"
    if op.passed:
        return head + " — passed"
    body = "\n".join(f"- {line.replace('`', chr(39))}" for line in explain(op))
    tolerance = f"\n\n_tolerance: |got − exact| ≤ {ATOL:g} + {RTOL:g}·scale_"
    return f"{head}\n\n{body}{tolerance}"
