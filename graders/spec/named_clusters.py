"""Named clusters in an assignment config: a mistake the class shares, named once.

The class dashboard (OUTDIR/summary.html) lists, per op, the groups of submissions whose wrong
answers give the same numbers at the class-wide probe points, each with an id such as
`mul:1a2b3c4d`. The instructor names one once, and every member reads the message on the next
run (`gradkit grade` again, or `gradkit regrade`):

    [cluster."mul:1a2b3c4d"]
    message = "You multiplied out.grad by your own data; d(xy)/dx is y."
    title = "own data for the other's"        # optional: the mistake's name in reports
    key = "own_data"                          # optional: its key in the dashboard's tables
    x = "g + u*x"                             # optional: what x.grad ends as (g, u as in
                                              # [[op.KEY.mistakes]]); then any submission
                                              # whose numbers this reproduces is a member too

This module is pure data handling: it checks the table's shape; the oracle reads the formulas.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from graders.spec.optable import NamedCluster, OpSpec
from graders.spec.settings import unknown_setting

CLUSTER_ID = re.compile(r"([a-z][a-z0-9_]{0,30}):([0-9a-f]{8})")
KEYS = {"message", "title", "key", "x", "y"}
KEY = re.compile(r"[a-z][a-z0-9_]{0,40}")


class ClusterError(ValueError):
    """A named cluster the grader cannot use; the message names the file and the cluster."""


def from_data(data: Any, where: str, op: Callable[[str], OpSpec],
              graded: tuple[str, ...]) -> tuple[NamedCluster, ...]:
    """Every `[cluster."OP:ID"]` table; `op` finds an op's row, `graded` are the assignment's."""
    if not isinstance(data, dict):
        raise ClusterError(f'{where}: cluster must be a table of [cluster."OP:ID"] tables')
    return tuple(_one(name, table, f'{where}: cluster."{name}"', op, graded)
                 for name, table in data.items())


def _one(name: str, data: Any, where: str, op: Callable[[str], OpSpec],
         graded: tuple[str, ...]) -> NamedCluster:
    match = CLUSTER_ID.fullmatch(name)
    if not match:
        raise ClusterError(f"{where}: a cluster is named by the id the class dashboard gives "
                           "it, OP:8 hex digits (mul:1a2b3c4d)")
    key = match.group(1)
    if key not in graded:
        raise ClusterError(f"{where}: op {key!r} is not graded by this assignment")
    if not isinstance(data, dict):
        raise ClusterError(f"{where}: expected a table with message (and title, key, x, y)")
    refusal = unknown_setting(data, KEYS, where)
    if refusal:
        raise ClusterError(refusal)
    message = data.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ClusterError(f"{where}: message is missing (what every member is told)")
    for field in ("title", "key"):
        if field in data and not isinstance(data[field], str):
            raise ClusterError(f"{where}: {field} must be text")
    mistake_key = data.get("key") or f"cluster_{match.group(2)}"
    if not KEY.fullmatch(mistake_key):
        raise ClusterError(f"{where}: key = {mistake_key!r}: lower_case letters, digits and _")
    spec = op(key)
    grads = {symbol: data[symbol] for symbol in ("x", "y") if symbol in data}
    for symbol, text in grads.items():
        if spec.kind != "op":
            raise ClusterError(f"{where}: {key} has no gradient formula to give; name it by "
                               "its message only")
        if symbol not in spec.inputs:
            raise ClusterError(f"{where}: {symbol} = {text!r}: {key} has no Value input "
                               f"{symbol}")
        if not isinstance(text, str) or not text.strip():
            raise ClusterError(f"{where}: {symbol} must be a sympy expression as text")
    return NamedCluster(id=name, op=key, message=message.strip(),
                        title=str(data.get("title", "")).strip(), key=mistake_key,
                        grads=MappingProxyType(grads), origin=where)


def to_data(clusters: tuple[NamedCluster, ...]) -> dict[str, dict[str, str]]:
    """The clusters as the config tables they came from (an autograder zip carries them)."""
    return {c.id: {"message": c.message, **({"title": c.title} if c.title else {}),
                   "key": c.key, **c.grads} for c in clusters}
