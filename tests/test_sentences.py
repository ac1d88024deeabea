"""Every word a student reads about a mistake is true and reads as English (issue 28).

Each catalogued mistake (the op table's own, the generic ones, the observed ones, the shared
one) and each sub-check failure is rendered for a student, in plain text, Markdown and HTML,
and every line is read: no catalogue key, no doubled word, no internal id, no look-alike
character, a sentence that starts as one and ends as one. Pure functions, no sandbox.
"""

from __future__ import annotations

import html
import random
import re
import sys
from html.parser import HTMLParser

import pytest

from graders import api
from graders.api import grade_namespace
from graders.judge import oracle as oracle_module
from graders.judge import programs
from graders.judge.oracle import SHARED_MISTAKE
from graders.model import Diagnosis, Loaded, OpResult, Outcome, Probe, SubCheck
from graders.report import encode, sentences
from graders.report.html import table
from graders.report.markdown import markdown_for_op
from graders.report.sections import sections
from graders.report.text import brief, explain
from graders.run import harness
from graders.spec import assignments, optable
from tests import corpus
from tests.conftest import ROOT

ORACLE = oracle_module.load()
CODE_WORDS = {"_backward", "requires_grad", "zero_grad", "build_topo"}
# Non-ASCII a report may hold: mathematics and typography, never a look-alike of ASCII.
ALLOWED = set("\xa0·−∂×—…²³⁰¹⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ᵏˣʸⁿ≤≥√π∑")
KEYS = {m.key for spec in (*optable.OPS, optable.BACKWARD, *optable.TASKS)
        for m in spec.mistakes} | {m.key for m in optable.GENERIC_MISTAKES} | \
    {m.key for m in optable.OBSERVED_MISTAKES} | {optable.REUSE_MISTAKE.key} | \
    set(optable.SUBCHECK_TITLES)
KEYS = {key for key in KEYS if "_" in key}


def catalogue() -> list[tuple[str, Diagnosis]]:
    """(op key, a diagnosis) for every catalogued mistake as the judge makes it."""
    found = []
    for key, own in ORACLE.ops.items():
        for mistake in own.mistakes:
            inputs = list(mistake.grads)
            diagnosis = Diagnosis(mistake.key, mistake.title, mistake.hint, inputs=inputs,
                                  formula=mistake.grads[inputs[0]].text)
            diagnosis.statements = {name: {"text": mistake.grads[name].text}
                                    for name in inputs}
            found.append((key, diagnosis))
    for spec in (optable.BACKWARD, *optable.TASKS):
        found += [(spec.key, Diagnosis(m.key, m.title, m.hint)) for m in spec.mistakes]
    for mistake in (*optable.OBSERVED_MISTAKES, optable.REUSE_MISTAKE):
        found.append(("tanh", Diagnosis(mistake.key, mistake.title, mistake.hint)))
    found.append(("mul", Diagnosis("mul:1a2b3c4d", SHARED_MISTAKE, "ask in office hours")))
    return found


def failing(key: str, diagnosis: Diagnosis | None = None,
            checks: tuple[str, ...] = ("gradient", "accumulate")) -> OpResult:
    spec = optable.op(key)
    own = ORACLE.ops.get(key)
    probe = Probe("c1", "x", {"x": 0.5}, 1.5, 0.25, 1.0, 2.0)
    return OpResult(key, spec.task, spec.title, 2.0,
                    subchecks=[SubCheck(name, 1.0, name not in checks)
                               for name in ("forward", *checks)],
                    failures=[probe], diagnosis=diagnosis,
                    formula={n: d.text for n, d in own.derivative.items()} if own else {})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("div", "tr", "td", "br", "table"):
            self.parts.append("\n")


def rendered(op: OpResult) -> list[str]:
    """What a student reads about `op`, line by line, from each renderer, as plain text."""
    lines = list(explain(op)) + list(brief(op))
    lines += [re.sub(r"\\(.)", r"\1", line).replace("`", "")
              for line in markdown_for_op(op).splitlines()]
    parser = _Text()
    parser.feed(table([op]))
    lines += html.unescape("".join(parser.parts)).splitlines()
    return [line.strip(" -*") for line in lines if line.strip(" -*")]


def problems(line: str) -> list[str]:
    """What is wrong with `line` as English a student reads."""
    found = []
    words = re.findall(r"[A-Za-z_][\w]*", line)
    found += [f"key {word}" for word in words if word in KEYS]
    found += [f"snake_case {word}" for word in words
              if re.fullmatch(r"[a-z]+(_[a-z]+)+", word) and word not in CODE_WORDS
              and word not in optable.ALL]
    found += [f"doubled {m[0]!r}" for m in re.finditer(r"\b(\w+)\s+\1\b", line, re.I)
              if m[1].isalpha() and len(m[1]) > 1]
    found += [f"internal id {m[0]}" for m in re.finditer(r"\b[a-z_]+/\d+\b", line)]
    found += [f"look-alike {ch!r}" for ch in line if ord(ch) > 127 and ch not in ALLOWED]
    for said in re.finditer(r"[Yy]our code (\w+)", line):
        verb = said[1]
        if not (verb in sentences._ADVERBS or verb.endswith(("s", "ed"))):
            found.append(f"'your code {verb}' is not a verb phrase")
    return found


@pytest.mark.parametrize(("key", "diagnosis"), catalogue(),
                         ids=lambda x: x if isinstance(x, str) else x.key)
def test_every_catalogued_mistake_reads_as_english(key, diagnosis):
    op = failing(key, diagnosis)
    lines = rendered(op)
    mistake = sections(op)["mistake"]
    assert mistake and mistake.startswith(f"{key}: your ")
    assert mistake.endswith((".", "?", ")")), mistake
    assert {line: problems(line) for line in lines if problems(line)} == {}


@pytest.mark.parametrize("check", sorted(optable.SUBCHECK_TITLES))
def test_every_check_failure_reads_as_english(check):
    key = ("backward" if check in {g.key for g in optable.BACKWARD_GRAPHS} else
           "reference_example" if check in {s.key for s in optable.REFERENCE_SUBCHECKS}
           else "tanh")
    lines = rendered(failing(key, checks=(check,)))
    assert any(optable.SUBCHECK_TITLES[check] in line for line in lines)
    assert {line: problems(line) for line in lines if problems(line)} == {}


def test_every_catalogue_title_completes_your_code():
    """Titles are what the code does ("forgets to square the output"): "Your code sign
    error" was a title written as a noun."""
    titles = [d.title for _, d in catalogue()]
    assert [t for t in titles if "has this mistake" in sentences.does(t)] == []


def test_a_title_written_as_a_noun_still_makes_a_sentence():
    said = sentences.MistakeSentence("relu", "no mask", "multiply by (out.data > 0)").text()
    assert said == ("relu: your code has this mistake: no mask. "
                    "Multiply by (out.data > 0).")


def test_a_right_formula_with_plus_equals_is_not_told_it_does_not_accumulate():
    """A student who used += with a wrong formula read "failed: … accumulates into an existing
    grad (+=)": the check fails because the formula is wrong, not the +=."""
    found = next(d for k, d in catalogue() if k == "tanh" and d.key == "missing_square")
    said = "\n".join(explain(failing("tanh", found)))
    assert "+=" not in said and "accumulates" not in said


def test_a_formula_keeps_its_less_than_sign_in_markdown():
    """`0 if x <= 0 else 1` became `0 if x ‹= 0 else 1` in results.json and Gradescope."""
    assert encode.markdown_code("0 if x <= 0 else 1") == "`0 if x <= 0 else 1`"
    assert "‹" in encode.markdown_code("<img src=x onerror=alert(1)>")
    assert "‹" not in markdown_for_op(failing("relu"))


def test_a_stub_is_said_once_with_no_unrelated_hints():
    """"not implemented: not implemented\\: task 2.1", and four `backward` hints for an
    untouched stub."""
    stub = "NotImplementedError: not implemented: task 2.11, backward()"
    op = OpResult("backward", "2.11", "backward()", 4.0,
                  subchecks=[SubCheck(g.key, g.weight, False, g.hint)
                             for g in optable.BACKWARD_GRAPHS],
                  failures=[Probe("c1", None, {}, None, None, None, None, error=stub)],
                  error=stub)
    for text in (explain(op), brief(op), [markdown_for_op(op)]):
        said = "\n".join(text)
        assert said.lower().count("not implemented") == 1, said
        assert "hint" not in said and "topological" not in said
    assert "Not implemented yet: task 2.11, backward()." in table([op])
    assert "\\:" not in markdown_for_op(op)  # a colon is escaped only where a link starts


def test_an_untouched_stub_does_not_fail_its_forward():
    """A whole-method stub (`__neg__` raising NotImplementedError) computed no forward to be
    wrong: "failed: forward value" was not true of it."""
    source = corpus.BASE.read_text().replace(
        "return self * -1", "raise NotImplementedError('not implemented: task 2.7, neg')")
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<cell 1>", "exec"), namespace)
    ops, _, _ = grade_namespace(namespace, seed=3)
    neg = next(op for op in ops if op.key == "neg")
    assert not neg.passed and neg.points == 0
    assert "forward" not in {check.name for check in neg.subchecks}
    assert "forward value" not in "\n".join(explain(neg))


def test_a_task_check_that_raised_is_named_by_its_place_not_its_id():
    """"check neuron/0": the grader's case id in a student's feedback."""
    spec = optable.op("neuron")
    group = programs.plan(spec, random.Random(1), 5)
    result = programs.score(spec, group, Outcome(group_errors={"neuron": "ValueError: x"}),
                            ORACLE, 1.0)
    said = "\n".join(explain(result))
    assert "neuron/" not in said and "check 1 of" in said
    assert {line: problems(line) for line in rendered(result) if problems(line)} == {}


def test_a_value_imported_from_a_module_that_cannot_load_says_so():
    """"`Value` is a Missing, not a class" for `from kit.engine import Value`."""
    value = harness.describe_value({"Value": harness.Missing("kit.engine")}, [])
    said = api._value_problem(Loaded.parse({"value": value}))
    assert "Missing" not in said and "`kit.engine`" in said
    other = api._value_problem(Loaded.parse({"value": harness.describe_value({"Value": 3},
                                                                            [])}))
    assert other == "`Value` is an object of type `int`, not a class"


@pytest.mark.e2e
def test_a_py_files_error_names_its_line_and_a_312_f_string_says_so(tmp_path):
    """Errors in a `.py` file were placed at "cell 1"; a 3.12-only f-string on 3.11 said
    nothing of the version."""
    path = tmp_path / "value.py"
    path.write_text(corpus.BASE.read_text() + '\nnames = ["a"]\nmsg = f"{", ".join(names)}"\n')
    result = api.grade(path, seed=1)
    said = "\n".join(result.summary_lines())
    assert "cell 1" not in said and "on line " in said
    if sys.version_info < (3, 12):
        assert "valid from Python 3.12 on" in said


def test_the_notebooks_say_points_and_name_no_file_students_lack():
    """Grade cells said "2 point(s)"; the self-check's install hint said "see docs/course.md",
    a file of this repository that students do not have."""
    for notebook in sorted((ROOT / "assignments").glob("*/*.ipynb")):
        text = notebook.read_text()
        assert "point(s)" not in text and "docs/course.md" not in text, notebook
        assert re.search(r"1 point,|\d points,", text), notebook


def test_a_custom_courses_tasks_follow_the_base_without_a_gap():
    """The custom course's task list jumped from 2.12 to 2.15 (past the optional `log`,
    `sigmoid`, which no notebook lists)."""
    plus = assignments.from_file(ROOT / "examples" / "custom-ops" / "course.toml")
    required = sorted((tuple(map(int, plus.op(key).task.split("."))) for key in plus.ops
                       if not plus.op(key).optional), key=lambda task: task)
    minors = [minor for major, minor in required if major == 2]
    assert sorted(set(minors)) == list(range(1, max(minors) + 1))


@pytest.mark.parametrize("cell", [5, None], ids=["notebook", "py file"])
@pytest.mark.parametrize("show_fix", [False, True], ids=["line", "fix"])
@pytest.mark.parametrize("lines", [(34,), (20, 21)], ids=["one line", "two lines"])
def test_the_wrong_line_reads_as_english(cell, show_fix, lines):
    """The line that is wrong (judge/edits.py) is said by sentences.wrong_line, in every
    shape: one line or two, in a cell or a .py file, with the fix or without."""
    from graders.model import WrongLine

    was = tuple("other.grad = self.data * out.grad" for _ in lines)
    fix = tuple("other.grad += self.data * out.grad" for _ in lines)
    said = sentences.wrong_line(WrongLine(cell, lines, "mul_assign", "assigns", was, fix,
                                          show_fix))
    assert said.startswith("The mistake is on line") and said.endswith(".")
    assert ("of cell 5" in said) == (cell is not None)
    assert (fix[0] in said) == show_fix
    assert problems(said) == []
