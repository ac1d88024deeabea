"""Parsing anything that comes from a submission or from the child is total: every malformed
input becomes a scored result with a reason, never a traceback in the trusted parent.

Fuzzed with hypothesis over the shapes each parser meets: bytes on the result pipe, records of
every kind with values of every JSON type (huge ints, deep nesting, strings where numbers go),
notebooks of every nbformat shape. The scorer and every report format run on what comes out.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graders.api import unscored
from graders.judge import oracle, probes, scoring
from graders.model import Loaded, Outcome, Record, Result
from graders.report import ci, html, markdown, terminal, text
from graders.report.gradescope import gradescope
from graders.run.loader import SubmissionError, load
from graders.run.sandbox import parse_record
from graders.spec.assignments import BUILTIN

NUMBERS = st.one_of(st.integers(), st.integers(min_value=10**300, max_value=10**400),
                    st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none())
JSON = st.recursive(
    st.one_of(NUMBERS, st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)
RECORD_KEYS = ("id", "error", "cell", "line", "out", "grads", "ops", "fd", "graphs", "g",
               "a.grad", "b.grad", "values", "kind", "cells", "value", "stand_ins")


def deep(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


@given(st.binary(max_size=300))
def test_any_bytes_on_the_result_pipe_parse_or_are_refused(line):
    try:
        record = parse_record(line)
    except ValueError:
        return
    assert isinstance(record, dict)


@pytest.mark.parametrize("line", [
    deep(100_000).encode(), ('{"a":' * 50_000 + "1" + "}" * 50_000).encode(),
    b'{"out": ' + b"9" * 5000 + b"}", b'{"id": "\xff"}', b"{" + b" " * 1000 + b"}",
])
def test_hostile_lines_are_refused_as_values_errors(line):
    try:
        parse_record(line)
    except ValueError:
        pass


@given(st.dictionaries(st.sampled_from(RECORD_KEYS), JSON, max_size=8))
def test_any_record_parses(raw):
    Record.parse(raw)
    Loaded.parse(raw)


def _records(groups, draw_value):
    return {case.id: Record.parse({"id": case.id, **draw_value(case)})
            for group in groups for case in group.cases}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(BUILTIN)), st.data())
def test_any_answers_score_and_render_in_every_format(name, data):
    assignment = BUILTIN[name]
    groups = probes.plan(assignment, 7)
    outcome = Outcome(loaded=Loaded.parse({"value": {"found": True, "is_class": True,
                                                     "own": True, "methods": []}}))
    outcome.records = _records(groups, lambda case: data.draw(
        st.dictionaries(st.sampled_from(RECORD_KEYS[1:]), JSON, max_size=6)))
    ops = scoring.score(assignment, groups, outcome, oracle.load())
    for op in ops:
        assert 0 <= op.points <= op.max_points
    result = Result(submission="fuzz.py", ops=ops, seed=7, isolation="weak")
    _render(result)


def _render(result: Result) -> None:
    """Every report a result is written to: none may raise on what the scorer made."""
    for audience in ("student", "instructor"):
        text.text_table(result.ops, audience)
        markdown.page_markdown(result, audience)
        html.page(result, audience)
    json.dumps(gradescope(result))
    ci.junit_xml(result)
    ci.step_summary(result)
    terminal.render(result, file=io.StringIO(), verbose=True)
    result.summary_lines()


NOTEBOOKS = [
    '{"nbformat": 3, "worksheets": 5}', '{"nbformat": 3, "worksheets": [5]}',
    '{"nbformat": 3, "worksheets": [{"cells": 5}]}', '{"nbformat": 4, "cells": [5]}',
    '{"nbformat": 4, "cells": 7}', deep(100_000),
    '{"nbformat": 4, "cells": [' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "]}",
    '{"nbformat": 4, "cells": [{"cell_type": "code", "source": ' + "9" * 5000 + "}]}",
    '{"nbformat": 4.0, "cells": []}', '{"nbformat": true, "cells": []}',
]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=range(len(NOTEBOOKS)))
def test_a_malformed_notebook_is_a_problem_with_a_reason(tmp_path, notebook):
    path = tmp_path / "broken.ipynb"
    path.write_text(notebook)
    with pytest.raises(SubmissionError, match=r"broken\.ipynb"):
        load(path)


@settings(max_examples=60, deadline=None)
@given(JSON)
def test_any_json_as_a_notebook_loads_or_is_refused_with_the_file_name(tmp_path_factory, raw):
    path = Path(tmp_path_factory.mktemp("nb")) / "any.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "cells": raw}))
    try:
        load(path)
    except SubmissionError as error:
        assert "any.ipynb" in str(error)


def test_an_unusable_file_still_renders_everywhere():
    _render(unscored("x.py", BUILTIN["backprop"], "x.py: not a notebook"))
