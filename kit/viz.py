"""Pictures of expression graphs: the lecture's `draw_dot`, with a text fallback.

Works on any Value-like object (a student's too): it reads only `data`, `grad`, `_prev` (the
inputs), `_op` (the op that made the node) and, if present, `label`. Graphs are walked with an
explicit stack, so a deep chain cannot hit Python's recursion limit.
"""

from __future__ import annotations

import functools
import html
import shutil
from typing import Any

import graphviz


def trace(root: Any) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """Every node reachable from `root`, and every (input, output) edge between them.

    Nodes come in first-seen order from the root, edges in `_prev` order, so the same graph
    always draws the same way. A node used twice (`x * x`) gives two edges.
    """
    nodes: list[Any] = []
    edges: list[tuple[Any, Any]] = []
    seen: set[int] = set()  # by id(): a Value-like class may define __eq__ / __hash__ oddly
    stack = [root]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        nodes.append(v)
        for child in v._prev:
            edges.append((child, v))
        stack.extend(reversed(tuple(v._prev)))
    return nodes, edges


def _label(v: Any) -> str:
    return str(getattr(v, "label", "") or "")


def _record_escape(text: str) -> str:
    """Backslash the characters that delimit fields in a Graphviz record label."""
    for ch in "\\{}|<>":
        text = text.replace(ch, "\\" + ch)
    return text


class TextGraph:
    """A readable text tree of the graph, for machines without Graphviz's `dot` program.

    Each line is one node; inputs are indented below the node they feed. A node already shown
    is printed again as a one-line back-reference instead of repeating its whole subtree.
    """

    def __init__(self, root: Any) -> None:
        self.root = root

    def __str__(self) -> str:
        names: dict[int, str] = {}
        lines: list[str] = []
        stack: list[tuple[Any, str, str]] = [(self.root, "", "")]  # node, prefix, branch
        while stack:
            v, prefix, branch = stack.pop()
            key = id(v)
            op = f"  [{v._op}]" if v._op else ""
            if key in names:
                lines.append(f"{prefix}{branch}{names[key]}  (shown above)")
                continue
            names[key] = _label(v) or f"#{len(names) + 1}"
            lines.append(f"{prefix}{branch}{names[key]}: data {v.data:.4f} | grad {v.grad:.4f}{op}")
            children = tuple(v._prev)
            # the root's inputs start at column 0; deeper ones continue their parent's rail
            child_prefix = prefix + {"": "", "└── ": "    ", "├── ": "│   "}[branch]
            for i in reversed(range(len(children))):
                last = i == len(children) - 1
                stack.append((children[i], child_prefix, "└── " if last else "├── "))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


@functools.lru_cache(maxsize=4)
def _dot_runs(path: str) -> bool:
    """Whether the `dot` found at `path` actually runs (cached: it costs a subprocess)."""
    try:
        graphviz.version()
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError, OSError):
        return False
    return True


def draw_dot(root: Any, format: str = "svg", rankdir: str = "LR") -> graphviz.Digraph | TextGraph:
    """Draw the graph below `root` as the lecture does: a record per value
    ("label | data 4.0000 | grad 1.0000") and a small node per op between them.

    Returns a `graphviz.Digraph`, which Jupyter displays inline. Where the `dot` program is
    missing it prints one line saying so and returns a `TextGraph` instead, so a notebook cell
    still shows the numbers rather than failing at display time.
    """
    if rankdir not in ("LR", "TB"):
        raise ValueError(
            f"rankdir must be 'LR' (left to right) or 'TB' (top to bottom), got {rankdir!r}"
        )
    path = shutil.which("dot")
    if path is None or not _dot_runs(path):
        print("draw_dot: Graphviz's `dot` program was not found; showing a text tree instead.")
        return TextGraph(root)

    nodes, edges = trace(root)
    dot = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    for n in nodes:
        uid = str(id(n))
        text = f"{{ {_record_escape(_label(n))} | data {n.data:.4f} | grad {n.grad:.4f} }}"
        dot.node(name=uid, label=text, shape="record")
        if n._op:
            # an op node sits between a value and the inputs it was computed from
            dot.node(name=uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot
