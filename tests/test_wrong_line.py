"""The line that is wrong (issue 28): named only where one catalogued edit, run, fixes the op.

The edits are found in the parent by parsing the student's own source (pure, cheap, tested on
the whole mutant corpus); whether one of them fixes the op is only known by running it in the
sandbox, so two real grades check that a line is named where it is, and never guessed.
"""

from __future__ import annotations

import pytest

from benchmarks.wrong_line import changed_lines
from graders.api import grade
from graders.judge import edits, oracle
from graders.model import OpResult, Result, SubCheck, WrongLine
from graders.report import ci, gradescope, markdown, sections, text
from graders.spec import assignments, optable
from tests import corpus
from tests.conftest import op_of

KEY = oracle.for_assignment(optable.BACKPROP)
# No single edit undoes these: a recursive backward() and state kept between calls.
NOT_ONE_EDIT = {"backward_recursive", "backward_shared_state"}


def _candidates(mutant: corpus.Mutant) -> list[edits.Candidate]:
    spec = optable.BACKPROP.op(mutant.breaks)
    own = KEY.ops.get(spec.key)
    derivative = {name: d.text for name, d in own.derivative.items()} if own else {}
    return edits.candidates(spec, [(1, mutant.source())], derivative)


def test_every_fix_the_catalogue_names_is_an_edit_the_grader_can_make():
    mistakes = [*optable.GENERIC_MISTAKES, *optable.OBSERVED_MISTAKES,
                *(m for spec in optable.ALL.values() for m in spec.mistakes)]
    named = {m.fix for m in mistakes if m.fix}
    assert named == set(edits.FIXES) | set(edits.REPLACING)


@pytest.mark.parametrize("mutant", [m for m in corpus.MUTANTS if m.name not in NOT_ONE_EDIT],
                         ids=lambda m: m.name)
def test_an_edit_of_the_mutated_lines_undoes_the_catalogued_mistake(mutant):
    mutated = changed_lines(mutant.source())
    found = [c for c in _candidates(mutant) if c.mistake == mutant.mistake]
    assert found, f"{mutant.name}: no catalogued edit applies"
    assert any(set(c.lines) <= mutated for c in found)
    assert len(_candidates(mutant)) <= edits.MAX_EDITS


def test_correct_code_is_never_edited_where_no_op_fails():
    # edits are asked only for failing ops; the catalogue still applies to correct code, so
    # that nothing is named rests on running them, which the sandboxed test below checks
    assert all(isinstance(c, edits.Candidate) for c in edits.candidates(
        optable.op("mul"), [(1, corpus.BASE.read_text())]))
    assert edits.candidates(optable.op("mul"), [(1, "x = 1\n")]) == []
    assert edits.candidates(optable.op("mul"), [(1, "class Value(:\n")]) == []


SOURCES = sorted((corpus.SUBMISSIONS.parent / "hostile").glob("*.py")) + sorted(
    corpus.SUBMISSIONS.rglob("*.py"))


@pytest.mark.parametrize("spec", [spec for spec in optable.ALL.values()
                                  if spec.kind in ("op", "backward")], ids=lambda s: s.key)
def test_the_edits_of_any_submission_are_made_without_failing(spec):
    """The parent parses every submission it grades: the hostile ones and real students'
    shapes included, no edit search raises, and every edited method is Python."""
    own = KEY.ops.get(spec.key)
    derivative = {name: d.text for name, d in own.derivative.items()} if own else {}
    for path in SOURCES:
        for made in edits.candidates(spec, [(1, path.read_text())], derivative):
            compile(made.source, "<edit>", "exec")


def _failing(line: WrongLine) -> OpResult:
    return OpResult("add", "2.1", "addition", 2, subchecks=[SubCheck("gradient", 2, False)],
                    wrong_line=line)


LINE = WrongLine(5, (34,), "no_upstream", "forgets the upstream factor out.grad",
                 ("self.grad += 1.0",), ("self.grad += 1.0 * out.grad",))


def test_every_report_says_where_and_the_fix_only_when_the_assignment_shows_it():
    said = sections.sections(_failing(LINE))["wrong_line"]
    assert said.startswith("The mistake is on line 34 of cell 5 (`self.grad += 1.0`)")
    assert "out.grad`" not in said
    shown = WrongLine(**{**LINE.__dict__, "show_fix": True})
    with_fix = sections.sections(_failing(shown))["wrong_line"]
    assert "written as `self.grad += 1.0 * out.grad`" in with_fix
    assert WrongLine(None, (3, 4), "x", "x", ("a",), ("b",)).where() == "lines 3 and 4"
    op = _failing(shown)
    assert any("line 34 of cell 5" in line for line in text.explain(op))
    assert "line 34 of cell 5" in markdown.markdown_for_op(op)
    data = gradescope.gradescope(Result("s.ipynb", ops=[op]))
    assert data["tests"][0]["extra_data"]["wrong_line"] == {
        "cell": 5, "lines": [34], "mistake": "no_upstream", "where": "line 34 of cell 5",
        "was": ["self.grad += 1.0"], "fix": ["self.grad += 1.0 * out.grad"]}
    hidden = _failing(LINE)
    hidden.hidden = True
    assert "extra_data" not in gradescope.gradescope(Result("s", ops=[hidden]))["tests"][0]
    assert sections.sections(hidden).get("wrong_line") is None


def test_a_py_files_ci_annotation_points_at_the_wrong_line(tmp_path):
    path = tmp_path / "value.py"
    path.write_text(corpus.BASE.read_text())
    op = _failing(WrongLine(None, (24,), "no_upstream", "t", ("other.grad += 1.0",), ("x",)))
    assert ci.annotations(Result(str(path), ops=[op]), path)[0].startswith(
        f"::error file={path},line=24,")
    op.wrong_line = None  # else: the op's `def`
    define = corpus.BASE.read_text().splitlines().index("    def __add__(self, other):") + 1
    assert f"line={define}," in ci.annotations(Result(str(path), ops=[op]), path)[0]


def test_the_setting_is_checked_when_the_config_is_read():
    assert assignments.from_data({"wrong_line": "fix"}, "a.toml").wrong_line == "fix"
    with pytest.raises(assignments.ConfigError, match=r"a\.toml: wrong_line = 'yes'"):
        assignments.from_data({"wrong_line": "yes"}, "a.toml")


@pytest.mark.e2e
def test_a_mutants_line_is_named_in_its_notebook_cell(tmp_path):
    """One grade: `add` has one mistake (named, at the line the mutant changed, as a notebook
    cell's line), `mul` has two (no single edit fixes it: nothing is named)."""
    source = corpus.mutant("add_no_upstream").source()
    source = source.replace(corpus.MUL_SELF, "self.grad = other.data * out.grad")
    source = source.replace(corpus.MUL_OTHER, "other.grad += other.data * out.grad")
    path = tmp_path / "two_ops.ipynb"
    path.write_text(corpus.as_notebook(source))
    result = grade(path, seed=3)
    cells = [c for c in source.split("\n\n\n") if c.strip()]
    cell = next(i for i, c in enumerate(cells) if "class Value" in c)
    first_line = source[:source.index(cells[cell])].count("\n")
    wanted = sorted(n - first_line for n in changed_lines(
        corpus.mutant("add_no_upstream").source()))
    add, mul = op_of(result, "add"), op_of(result, "mul")
    assert not add.passed and not mul.passed
    assert add.wrong_line is not None
    assert add.wrong_line.where() == f"lines {wanted[0]} and {wanted[1]} of cell {cell + 2}"
    assert mul.wrong_line is None
    assert [op.key for op in result.ops if op.wrong_line] == ["add"]


@pytest.mark.e2e
def test_a_correct_submission_gets_no_line_named(tmp_path):
    result = grade(corpus.BASE, seed=3)
    assert all(op.passed and op.wrong_line is None for op in result.ops)
