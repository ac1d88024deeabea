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
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from graders.api import unscored
from graders.judge import oracle, probes, scoring
from graders.model import MAX_TEXT, Loaded, Outcome, Record, Result, is_number
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


def _strings(data):
    """Every string in parsed JSON, keys too."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            yield from node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


@given(st.binary(max_size=300))
def test_any_bytes_on_the_result_pipe_parse_or_are_refused(line):
    try:
        record = parse_record(line)
    except ValueError:
        return
    # What the parent keeps is an object whose every string a report can write as UTF-8.
    assert isinstance(record, dict)
    json.dumps(record, ensure_ascii=False).encode("utf-8")


@given(JSON)
def test_any_json_object_on_the_pipe_comes_back_as_sent(value):
    line = json.dumps({"value": value}).encode()
    assert parse_record(line) == {"value": value}


# What each hostile line becomes: refused as a ValueError (the session turns it into a
# "garbled" record, never a traceback), with the reason the parser gives.
HOSTILE = {
    "nested-lists": (deep(100_000).encode(), "nested too deeply"),
    "nested-objects": (('{"a":' * 50_000 + "1" + "}" * 50_000).encode(), "nested too deeply"),
    "huge-int": (b'{"out": ' + b"9" * 5000 + b"}", "digits"),
    "not-utf8": (b'{"id": "\xff"}', "utf-8"),
    "oversized": (b'{"out": "' + b"x" * (1 << 20) + b'"}', "size limit"),
    "nan": (b'{"out": NaN}', "non-finite"),
    "infinity": (b'{"out": -Infinity}', "non-finite"),
    "not-an-object": (b"[1, 2]", "not an object"),
    "bare-number": (b"7", "not an object"),
}


@pytest.mark.parametrize("line,reason", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_lines_are_refused_as_values_errors(line, reason):
    with pytest.raises(ValueError, match=reason):
        parse_record(line)


@pytest.mark.parametrize("line,parsed", [
    (b"{" + b" " * 1000 + b"}", {}),  # padding is not hostile: an empty record
    (b'{"id": "\\ud800", "\\udfff": ["\\ud83d"]}',  # lone surrogates -> U+FFFD
     {"id": "\ufffd", "\ufffd": ["\ufffd"]}),
    (b'{"id": "\\ud83d\\ude00"}', {"id": "\U0001f600"}),  # a proper pair is kept
])
def test_odd_but_valid_lines_parse_to_what_a_report_can_write(line, parsed):
    record = parse_record(line)
    assert record == parsed
    json.dumps(record, ensure_ascii=False).encode("utf-8")


@given(st.dictionaries(st.sampled_from(RECORD_KEYS), JSON, max_size=8))
@example({"id": "i" * 1000, "error": "e" * 1000, "ops": ["o" * 100] * 30, "cell": 2, "line": 3})
@example({"error": 5, "cells": [{"index": 1, "status": "ok"}, 5, {}], "stand_ins": ["s"] * 30})
@example({"fd": {"a": [1.0, 2.0], "b": [1.0, "x"], "c": [1.0]}, "grads": [1], "graphs": [{}]})
def test_any_record_parses(raw):
    """Every field the scorer and reports read has the type and bound they rely on, and what
    the child sent in the right shape is kept (not dropped along with the malformed)."""
    record = Record.parse(raw)
    assert record.id == (raw["id"][:MAX_TEXT] if isinstance(raw.get("id"), str) else "")
    if "error" in raw:
        # an error that is not a text is still an error, described as one
        assert record.error == (raw["error"][:MAX_TEXT] if isinstance(raw["error"], str)
                                else "an error the child could not describe")
    else:
        assert record.error is None
    assert record.where is None or all(isinstance(n, int) for n in record.where)
    assert (record.where is not None) == (type(raw.get("cell")) in (int, bool)
                                          and type(raw.get("line")) in (int, bool))
    assert len(record.ops) <= 20 and all(isinstance(o, str) and len(o) <= 40
                                         for o in record.ops)
    if isinstance(raw.get("ops"), list):
        assert record.ops == tuple(o[:40] for o in raw["ops"][:20] if isinstance(o, str))
    assert all(isinstance(name, str) and len(pair) == 2 and all(map(is_number, pair))
               for name, pair in record.fd.items())
    assert dict(record.grads) == (raw["grads"] if isinstance(raw.get("grads"), dict) else {})
    assert record.graphs == (tuple(raw["graphs"]) if isinstance(raw.get("graphs"), list)
                             else None)
    assert dict(record.values) == {k: raw[k] for k in ("g", "a.grad", "b.grad") if k in raw}
    assert all(isinstance(k, str) and len(k) <= 40 for k in record.stood_in)
    assert record.numeric is None or record.numeric.near or record.numeric.complex

    loaded = Loaded.parse(raw)
    assert all(isinstance(c.index, int) and isinstance(c.status, str)
               and len(c.error) <= MAX_TEXT for c in loaded.cells)
    cells = raw.get("cells") if isinstance(raw.get("cells"), list) else []
    assert len(loaded.cells) == sum(isinstance(c, dict) for c in cells)
    assert len(loaded.stand_ins) <= 20 and all(isinstance(s, str) and len(s) <= 40
                                               for s in loaded.stand_ins)
    value = raw.get("value")
    assert loaded.value.found is (isinstance(value, dict) and value.get("found") is True)
    assert all(isinstance(m, str) for m in loaded.value.methods)


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
    assert ops  # the loop below checks something
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
        program = load(path)
    except SubmissionError as error:
        assert "any.ipynb" in str(error)
    else:  # loaded: there is code to run, and it came from the cells given
        assert any(cell.source.strip() for cell in program.cells)
        assert isinstance(raw, list) and program.kind == "notebook"


def test_an_unusable_file_still_renders_everywhere():
    _render(unscored("x.py", BUILTIN["backprop"], "x.py: not a notebook"))
