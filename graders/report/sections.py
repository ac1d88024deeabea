"""What a report says about one op, as plain data every renderer reads (the view model).

A failing op shows the expected local derivative, the catalogued mistake its numbers match (or,
when none does, which input was wrong by how much), one concrete failing probe (inputs, upstream
gradient, expected, got, and the finite difference of the student's own forward), and the root
cause when a primitive it is built from is broken. A passing op is one line. Nothing here shows
the grader's code or a solution line: formulas are mathematics, hints name rules.

`audience` is "student" or "instructor". A hidden check tells a student only its name and
verdict, and nothing a student reads about another op names it (a root cause, a credit "correct
given a correct `exp`"): that would tell its verdict where the check itself is out of sight
(Gradescope's `after_published`). An instructor sees everything, including every failing probe
and the catalogue keys.
Text that came from the child (error messages) is untrusted: it stays raw here and every
renderer escapes it (`text`, `markdown`, `html`, `terminal`, `gradescope`, `ci`).
"""

from __future__ import annotations

import re
from typing import Any

from graders.model import ATOL, RTOL, OpResult, Probe, place
from graders.report import sentences
from graders.spec.optable import REFERENCE

AUDIENCES = ("student", "instructor")
MAX_NAMED_CHECKS = 4  # failed sub-checks listed by name; more are counted

_SUPERSCRIPT = str.maketrans("0123456789+-()kxyn.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ᵏˣʸⁿ·")


# One vocabulary for an op's verdict, in every report, the self-check and the grade cells: what a
# student should do next (nothing, fix a formula, write the stub, fix a crash).
PASSED, WRONG, NOT_IMPLEMENTED, ERROR = "passed", "wrong", "not implemented", "raised an error"
NO_ANSWER = "no answer"  # every failing check was cut off (time limit, crash): nothing raised


def verdict(op: OpResult) -> str:
    """"Not implemented" means every failing check stopped at a `NotImplementedError` (a
    stub); "raised an error", that every one stopped at some other exception."""
    if op.passed:
        return PASSED
    if not op.failures and (op.error or "").startswith("not implemented:"):
        return NOT_IMPLEMENTED  # the class has no such method (scoring._not_defined)
    errors = [probe.error for probe in op.failures if probe.error]
    if errors and all(error.startswith("NotImplementedError") for error in errors):
        return NOT_IMPLEMENTED
    if op.failures and not any(probe.answered for probe in op.failures):
        return NO_ANSWER
    if errors and len(errors) == len(op.failures):
        return ERROR
    return WRONG


def stub_message(op: OpResult) -> str:
    """What a stub's `NotImplementedError` says (it names its task), as a sentence."""
    error = next((probe.error for probe in op.failures if probe.error), "") or op.error or ""
    return sentences.stub(error.removeprefix("NotImplementedError: "))


def check_audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    return audience


def shows_details(op: OpResult, audience: str) -> bool:
    """Whether the details of `op` may be shown: hidden checks show students a verdict only."""
    return check_audience(audience) == "instructor" or not getattr(op, "hidden", False)


def _names_hidden(op: OpResult, key: str, audience: str) -> bool:
    return check_audience(audience) == "student" and key in op.hidden_ops


def root_causes(op: OpResult, audience: str) -> list[str]:
    """The broken ops `op` fails beside, in `audience`'s view (a student's names no hidden
    op)."""
    names = [name.strip() for name in (op.root_cause or "").split(",") if name.strip()]
    return [name for name in names if not _names_hidden(op, name, audience)]


def credited(op: OpResult, audience: str) -> str | None:
    """"correct given a correct `mul`: fix `mul` ...", unless `audience` may not read it (a
    hidden op's details, or a hidden primitive's name, for a student)."""
    if not op.credited or not shows_details(op, audience) or \
            _names_hidden(op, op.credited_by or "", audience):
        return None
    return op.credited


def _superscript(match: re.Match) -> str:
    exponent = match.group(1) or match.group(2)
    compact = exponent.replace(" ", "")
    if all(ch in "0123456789+-()kxyn" for ch in compact):
        return compact.translate(_SUPERSCRIPT)
    return f"^({exponent})"


def unicode_formula(text: str, name: str = "x") -> str:
    """The oracle's formula text, readable in a terminal: x^2 → x², * → ·, u → out.grad and
    g → x.grad (the input's grad before this op's _backward ran)."""
    text = re.sub(r"\^\(([^()]*)\)|\^(-?[\w.]+)", _superscript, text)
    text = re.sub(r"\bu\b", "out.grad", text)
    text = re.sub(r"\bg\b", f"{name}.grad", text)
    text = text.replace("*", "·").replace(" - ", " − ")
    return re.sub(r"(^|[(\s])-", r"\1−", text)


# A sub-check's detail when it was never run (time ran out on the one before it).
NOT_CHECKED = "not checked"


def number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "nothing"
    return repr(value)[:60]


def grad_name(probe: Probe) -> str:
    """What a probe checked: `x.grad`, or a value as the scorer named it (`g.data`)."""
    return probe.input if "." in str(probe.input) else f"{probe.input}.grad"


def probe_facts(probe: Probe) -> list[tuple[str, str]]:
    """One probe as (label, value) pairs; error text stays raw here, renderers escape it."""
    if probe.error:
        where = f" ({place(*probe.where)})" if probe.where else ""
        return [("your code raised" if probe.answered else "stopped", f"{probe.error}{where}")]
    facts = []
    if probe.inputs:
        facts.append(("inputs", ", ".join(f"{k} = {number(v)}" for k, v in probe.inputs.items())))
    if probe.input == "out":
        return [*facts, ("checked", "the forward value"), ("expected", number(probe.expected)),
                ("got", number(probe.got))]
    facts.append(("checked", grad_name(probe)))
    if probe.upstream is not None:
        facts.append(("upstream out.grad", number(probe.upstream)))
    if probe.pre:
        facts.append((f"{grad_name(probe)} before", number(probe.pre)))
    facts += [("expected", number(probe.expected)), ("got", number(probe.got))]
    if probe.finite_difference is not None:
        facts.append(("finite difference of your forward", number(probe.finite_difference)))
    return facts


def mistake_parts(op: OpResult) -> sentences.MistakeSentence | None:
    """The matched catalogued mistake as typed parts (`report/sentences.py`)."""
    found = op.diagnosis
    if not found:
        return None
    title = found.title or found.key.replace("_", " ")
    if not found.formula:
        return sentences.MistakeSentence(op.key, title, found.hint)
    said = []
    for name in found.inputs:  # each input's statement from that input's own formulas
        statement = found.statements.get(name, {"text": found.formula})
        said.append(sentences.GradStatement(name, unicode_formula(statement["text"], name),
                                            unicode_formula(op.formula.get(name, ""), name)))
    return sentences.MistakeSentence(op.key, title, found.hint, tuple(said))


def mistake_sentence(op: OpResult) -> str | None:
    """'tanh: your x.grad ends as …; the derivative is …' for a matched catalogued mistake."""
    parts = mistake_parts(op)
    return parts.text() if parts else None


def flag_sentence(op: OpResult, audience: str) -> str | None:
    """What is said about an op that keeps its points but breaks a course rule (a numerical
    derivative where the assignment flags one), unless `audience` may not see its details."""
    if op.flag is None or not shows_details(op, audience):
        return None
    return sentences.MistakeSentence(op.key, op.flag.title, op.flag.hint).text()


def sections(op: OpResult, audience: str = "student") -> dict[str, Any]:
    """Everything a renderer shows for one op, as plain data (raw, unescaped text)."""
    shown = shows_details(op, audience)
    data: dict[str, Any] = {
        "key": op.key, "task": op.task, "title": op.title, "points": op.points,
        "max_points": op.max_points, "passed": op.passed, "hidden": not shown,
        "credited": credited(op, audience),
        "flag": flag_sentence(op, audience), "stub": None,
    }
    if op.passed or not shown:
        return data
    if verdict(op) == NOT_IMPLEMENTED:  # the stub names its task: nothing else is true of it
        data["stub"] = stub_message(op)
        return data
    data["formulas"] = [(name, unicode_formula(text, name), op.latex.get(name, ""))
                        for name, text in op.formula.items()]
    failed = [s.title + (" (not checked)" if s.detail.startswith(NOT_CHECKED) else "")
              for s in op.subchecks if not s.passed]
    # A course task has a check per input; past a few, the count says it and the hints explain.
    data["failed_checks"] = failed if len(failed) <= MAX_NAMED_CHECKS else [
        f"{len(failed)} of {len(op.subchecks)} checks (the first: {failed[0]})"]
    data["mistake"] = mistake_sentence(op)
    data["wrong_line"] = sentences.wrong_line(op.wrong_line)
    data["more_mistakes"] = [sentences.also(m.title, m.inputs, m.hint)
                             for m in (op.diagnosis.more if op.diagnosis else [])]
    parts = mistake_parts(op)
    data["mistake_clause"] = sentences.capitalised(parts.clause()) if parts else None
    causes = ", ".join(root_causes(op, audience))
    if op.key == REFERENCE.key:  # end to end: the failing ops it calls, first used first
        named = ", ".join(f"`{key}`" for key in root_causes(op, audience))
        data["root_cause"] = (f"the example calls {named}, which "
                              f"{'fail their' if ',' in named else 'fails its'} own checks: "
                              "fix that first" if named else None)
    else:
        data["root_cause"] = (f"this op is built from `{causes}`, which fails its own "
                              f"checks: fix that first" if causes else None)
    gradient = [p for p in op.failures if p.error is None and p.input != "out"]
    if op.diagnosis and op.diagnosis.key == "wrong_forward":  # the forward's probe, first
        gradient = [p for p in op.failures if p.error is None and p.input == "out"]
    data["probe"] = probe_facts((gradient or op.failures)[0]) if op.failures else []
    if not op.diagnosis and gradient:
        shown = (gradient or op.failures)[0]
        data["unexplained"] = (
            "no catalogued mistake reproduces these numbers; compare the expected value with "
            "yours" + (" and with the finite difference of your forward"
                       if shown.finite_difference is not None else ""))
    data["forward_notes"] = op.fd_findings[:1]
    if op.key == REFERENCE.key:  # what the student's class printed, next to the lecture's
        data["mistake"] = next((s.detail for s in op.subchecks if not s.passed and s.detail),
                               None)
        data["unexplained"] = None
    data["hints"] = [s.detail for s in op.subchecks if not s.passed and s.detail
                     and not s.detail.startswith(NOT_CHECKED) and not op.diagnosis
                     and s.detail != data["mistake"]]
    if audience == "instructor":
        data["mistake_key"] = op.diagnosis.key if op.diagnosis else None
        data["all_probes"] = [probe_facts(p) for p in op.failures[:8]]
        data["tolerance"] = f"|got − exact| ≤ {ATOL:g} + {RTOL:g}·scale"
    return data


