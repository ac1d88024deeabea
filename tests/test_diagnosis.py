"""The report names the mistake a submission really has, and never names one in correct code."""

from __future__ import annotations

import random

import pytest

from graders.api import grade
from graders.judge import diagnosis, graphs, oracle, probes
from graders.model import OpResult, close
from graders.spec import optable
from tests import corpus
from tests.conftest import op_of


@pytest.mark.parametrize("mutant", corpus.MUTANTS, ids=lambda m: m.name)
def test_each_mutant_is_named_by_its_catalogued_mistake(mutant, tmp_path):
    path = tmp_path / f"{mutant.name}.py"
    path.write_text(mutant.source())
    result = grade(path, seed=11)
    broken = op_of(result, mutant.breaks)
    assert not broken.passed
    assert broken.diagnosis is not None, f"{mutant.name}: nothing named"
    assert broken.diagnosis.key == mutant.mistake


@pytest.mark.parametrize("path", corpus.CORRECT, ids=lambda p: p.stem)
def test_correct_code_gets_no_diagnosis(path):
    for seed in (1, 2):
        result = grade(path, seed=seed)
        assert [op.key for op in result.ops if op.diagnosis or not op.passed] == []


def test_two_different_mistakes_in_one_op_are_both_named(tmp_path):
    source = corpus.BASE.read_text()
    source = source.replace(corpus.MUL_SELF, "self.grad = other.data * out.grad")
    source = source.replace(corpus.MUL_OTHER, "pass")
    path = tmp_path / "two.py"
    path.write_text(source)
    found = op_of(grade(path, seed=5), "mul").diagnosis
    named = {found.key, *(m.key for m in found.more)}
    assert named == {"assign_not_accumulate", "not_updated"}


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_no_two_catalogued_mistakes_of_an_op_look_alike_at_every_probe(seed):
    """If two entries predicted the same numbers at all probes, a diagnosis would be a guess."""
    derived = oracle.load()
    for group in probes.plan(optable.BACKPROP, seed):
        if group.key not in derived.ops:
            continue
        op = derived.ops[group.key]
        cases = [c for c in group.cases if c.role not in ("reuse", "class")]
        for name in op.derivative:
            rows = {}
            for mistake in op.mistakes:
                formula = mistake.grads.get(name)
                if formula is None:
                    continue
                try:
                    rows[mistake.key] = [formula(**c.values, g=c.payload["pre"][name])
                                         for c in cases]
                except (ValueError, ZeroDivisionError, OverflowError):
                    continue
            keys = sorted(rows)
            for i, first in enumerate(keys):
                for second in keys[i + 1:]:
                    same = all(close(a, b, scale=1.0)
                               for a, b in zip(rows[first], rows[second], strict=True))
                    assert not same, (group.key, name, first, second, seed)


def test_the_replayed_correct_backward_equals_exact_reverse_mode():
    rng = random.Random(8)
    for _ in range(5):
        spec = probes.diamond(rng)
        made, root, _ = graphs.build(spec)
        diagnosis._correct(root, lambda node: node.kids, {})
        exact = graphs.exact(spec)
        for name in exact:
            assert close(made[name].grad, float(exact[name]), scale=1.0)


def test_every_backward_behaviour_changes_some_reported_gradient():
    """Each catalogued behaviour must be distinguishable from a correct backward()."""
    group = probes.backward_group(optable.BACKWARD, random.Random(2), 0)
    correct = list(diagnosis._replay(group.cases, diagnosis._correct, 0))
    for mistake in optable.BACKWARD.mistakes:
        for behaviour in diagnosis.BEHAVIOURS[mistake.key]:
            replayed = list(diagnosis._replay(group.cases, behaviour, 0))
            assert replayed != correct, mistake.key


def test_every_backward_mistake_in_the_catalogue_has_a_behaviour():
    assert {m.key for m in optable.BACKWARD.mistakes} <= set(diagnosis.BEHAVIOURS)
    assert all(m.hint and m.title for m in optable.BACKWARD.mistakes)


@pytest.mark.parametrize("mutant", corpus.MUTANTS, ids=lambda m: m.name)
def test_a_mutant_loses_points_only_on_the_op_it_breaks(tmp_path, mutant):
    """Under own-code credit each op is checked with the grader's versions of the ops it
    calls: what a student wrote right keeps its points beside a broken primitive. The
    lecture's example is end to end: it is lost exactly when it uses the broken op."""
    path = tmp_path / f"{mutant.name}.py"
    path.write_text(mutant.source())
    result = grade(path, seed=11)
    lost = {op.key for op in result.ops if op.points < op.max_points}
    example = {"reference_example"} if mutant.breaks in corpus.REFERENCE_USES else set()
    assert mutant.breaks in lost and lost <= {mutant.breaks} | example, (mutant.name, lost)


def _catalogue():
    from graders.judge import oracle as oracle_module

    derived = oracle_module.load()
    for key, own in derived.ops.items():
        for mistake in own.mistakes:
            yield pytest.param(own, mistake, id=f"{key}-{mistake.key}")


@pytest.mark.parametrize(("own", "mistake"), list(_catalogue()))
def test_every_catalogued_statement_names_the_formula_of_its_own_input(own, mistake):
    """Numbers made by a catalogued mistake, for every input it has a formula for, diagnosed:
    each input's sentence carries that input's wrong formula, never another input's."""
    import random

    from graders.judge import diagnosis as diagnosis_module
    from graders.judge import probes as probes_module
    from graders.report.sections import mistake_sentence, unicode_formula
    from graders.spec import optable as optable_module

    spec = optable_module.op(own.key)
    group = probes_module.op_group(spec, random.Random(5), 8)
    observed = {}
    for name, formula in mistake.grads.items():
        cases = [case for case in group.cases if case.role not in ("reuse", "class")]
        values = [formula(**{**case.values, "g": case.payload["pre"][name]}) for case in cases]
        observed[name] = list(zip(cases, values, strict=True))
    found = diagnosis_module.diagnose_op(own, observed)
    if found is None:  # indistinguishable from the right answer at these points: nothing said
        return
    op = OpResult(own.key, spec.task, spec.title, 2.0, diagnosis=found,
                  formula={n: d.text for n, d in own.derivative.items()})
    sentence = mistake_sentence(op)
    for name in found.inputs:
        wrong = found.statements[name]["text"]
        catalogued = next(m for m in own.mistakes if m.key == found.key).grads[name].text
        assert wrong == catalogued
        assert f"your {name}.grad ends as {unicode_formula(wrong, name)}" in sentence
