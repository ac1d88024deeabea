"""kit.viz: the lecture's graph picture where Graphviz exists, a text tree where it does not."""

from __future__ import annotations

import html
import shutil

import pytest

import kit.viz
from kit.engine import Value
from kit.viz import TextGraph, draw_dot, trace


def neuron_graph() -> Value:
    x = Value(2.0)
    x.label = "x"
    w = Value(-3.0)
    w.label = "w"
    n = x * w + x  # x used twice
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def test_trace_finds_every_node_and_edge_once_per_use() -> None:
    o = neuron_graph()
    nodes, edges = trace(o)
    assert sorted(v.label or v._op for v in nodes) == ["*", "n", "o", "w", "x"]
    labels = sorted((a.label or a._op, b.label or b._op) for a, b in edges)
    assert labels == [("*", "n"), ("n", "o"), ("w", "*"), ("x", "*"), ("x", "n")]


def test_trace_handles_a_deep_chain() -> None:
    y = Value(1.0)
    for _ in range(5000):
        y = y + 1.0
    nodes, edges = trace(y)
    assert len(nodes) == 10_001 and len(edges) == 10_000


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_draw_dot_renders_svg_with_the_numbers() -> None:
    dot = draw_dot(neuron_graph())
    svg = html.unescape(dot.pipe(format="svg").decode())
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for text in ["data 2.0000", "data -3.0000", "data -4.0000", "grad 1.0000", "tanh"]:
        assert text in svg, text
    assert "rankdir=TB" in draw_dot(neuron_graph(), rankdir="TB").source


def test_missing_dot_on_path_gives_a_text_tree(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` anywhere
    out = draw_dot(neuron_graph())
    printed = capsys.readouterr().out
    assert isinstance(out, TextGraph)
    assert printed.count("\n") == 1 and "dot" in printed
    text = str(out)
    assert text.splitlines()[0] == "o: data -0.9993 | grad 1.0000  [tanh]"
    assert "w: data -3.0000" in text and "x  (shown above)" in text
    assert out._repr_html_().startswith("<pre>") and "&lt;" not in text


def test_missing_dot_via_which_gives_a_text_tree(monkeypatch, capsys) -> None:
    monkeypatch.setattr(kit.viz.shutil, "which", lambda name: None)
    out = draw_dot(neuron_graph())
    assert isinstance(out, TextGraph) and "dot" in capsys.readouterr().out

    class Printer:
        def __init__(self):
            self.parts = []

        def text(self, s):
            self.parts.append(s)

    p = Printer()
    out._repr_pretty_(p, False)
    assert "".join(p.parts) == str(out)


def test_works_with_a_value_like_class_without_labels() -> None:
    class Node:
        def __init__(self, data, prev=(), op=""):
            self.data, self.grad, self._prev, self._op = data, 0.0, set(prev), op

    a = Node(1.5)
    b = Node(4.0, (a,), "exp")
    text = str(TextGraph(b))
    assert text.splitlines() == [
        "#1: data 4.0000 | grad 0.0000  [exp]",
        "└── #2: data 1.5000 | grad 0.0000",
    ]


def test_bad_rankdir_is_refused() -> None:
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(Value(1.0), rankdir="sideways")
