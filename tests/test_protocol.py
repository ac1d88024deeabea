"""The wire protocol as written down (graders/run/protocol.py) is the one both sides speak."""

from __future__ import annotations

import json
import random

import pytest

from graders.judge import probes
from graders.model import Loaded, Record
from graders.run import harness, protocol
from graders.spec import optable
from kit.engine import Value


class Recording(dict):
    """A check as the harness receives it, remembering every key the harness reads."""

    def __init__(self, data: dict, read: set[str]) -> None:
        super().__init__(data)
        self.read = read

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


# A notebook's names: the reference Value, and a slope as assignment 1 asks for it.
NAMESPACE = {"Value": Value, "slope": lambda f, x, h: (f(x + h) - f(x)) / h}


@pytest.mark.parametrize("spec", [optable.op("sub"), optable.op("truediv"), optable.BACKWARD,
                                  optable.REFERENCE, optable.op("slope")], ids=lambda s: s.key)
def test_the_planner_sends_exactly_what_the_harness_reads(spec):
    group = probes.PLANNERS[spec.kind](spec, random.Random(3), 5)
    again = probes.with_stand_ins(group, probes.stand_ins(spec)) if spec.kind == "op" \
        else None  # its checks with the grader's versions of every other op
    sent, read = set(), set()
    for case in group.cases + (again.cases if again else []):
        message = json.loads(json.dumps(case.message()))  # as it crosses the pipe
        sent |= set(message)
        record = harness.evaluate(NAMESPACE, Recording(message, read))
        assert "error" not in record, record
    assert sent == read
    assert sent == protocol.keys(f"check:{group.cases[0].kind}")


@pytest.mark.parametrize("spec", [optable.op("mul"), optable.BACKWARD, optable.REFERENCE,
                                  optable.op("slope")], ids=lambda s: s.key)
def test_the_childs_answers_carry_only_documented_keys(spec):
    group = probes.PLANNERS[spec.kind](spec, random.Random(4), 5)
    for case in group.cases:
        record = json.loads(harness.encode(harness.evaluate(NAMESPACE, case.message())))
        assert set(record) <= protocol.keys(f"answer:{case.kind}"), record.keys()
        assert Record.parse(record).error is None


def test_a_group_message_and_the_loaded_record_are_as_documented():
    group = probes.PLANNERS["op"](optable.op("add"), random.Random(1), 3)
    assert set(group.message()) == {"kind"} | protocol.keys("group") - {"primitives", "patch"}
    shared = probes.with_stand_ins(group, probes.stand_ins(optable.op("sub")))
    shared.patch = {"method": "__sub__", "source": "def __sub__(self, other): pass"}
    sent = shared.message()
    assert set(sent) == {"kind"} | protocol.keys("group")
    assert not [case for case in sent["cases"] if "primitives" in case]
    assert sent["primitives"] == shared.cases[0].payload["primitives"]
    value = harness.describe_value({"Value": Value}, list(optable.METHODS))
    kinds = [harness.describe_value(ns, []) for ns in ({"Value": 3}, {})]  # not a class, none
    assert set(value).union(*kinds) == protocol.keys("loaded.value")
    assert Loaded.parse({"cells": [], "value": value, "stand_ins": []}).value.methods \
        == optable.METHODS


def test_the_parent_reads_every_documented_answer_key_and_no_other():
    answers = set().union(*(protocol.keys(f"answer:{kind}")
                            for kind in ("op", "backward", "reference", "program")))
    raw = {key: 1 for key in answers}
    read: set[str] = set()
    Record.parse(Recording(raw, read))
    assert read == answers
