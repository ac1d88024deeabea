"""Which assignment to grade: a built-in one by name, or an instructor's config file.

A config file (TOML or JSON) changes the table's defaults for one course without editing code:

    base = "backprop"                 # start from a built-in assignment
    ops = ["add", "mul", "tanh", "backward", "reference_example"]   # optional: a subset
    hidden = ["backward"]             # details shown only after grades publish
    probes_per_op = 6
    credit = "own-code"               # or "end-to-end" (graders/spec/optable.py: CREDIT_RULES)
    packages = ["numpy"]              # what student code may import beside the standard
                                      # library (default numpy; [] for none)
    numerical = "flag"                # a numerical `_backward`: "flag" (default), "zero", "allow"
    wrong_line = "line"               # name a failing op's wrong line: "line" (default), "fix"
                                      # (and show the edit that fixes it), "off"
    [points]
    mul = 3
    log = 1                           # optional ops count only when given points
    [op.sin]                          # a new op, declared in sympy (graders/spec/declared.py)
    build = "x.sin()"
    value = "sin(x)"
    points = 1
    [cluster."mul:1a2b3c4d"]          # a shared mistake, named (graders/spec/named_clusters.py)
    message = "You multiplied by your own data; d(xy)/dx is y."
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from graders.spec import declared, named_clusters, optable
from graders.spec.declared import DeclarationError
from graders.spec.optable import Assignment
from graders.spec.settings import unknown_setting

BUILTIN = MappingProxyType({a.name: a for a in optable.COURSE})
# What a batch grades when nothing the instructor gave names an assignment (docs/batch.md).
DEFAULT = optable.BACKPROP
KEYS = {"base", "ops", "points", "hidden", "probes_per_op", "name", "credit", "credit_composites",
        "op", "cluster", "packages", "numerical",
        "wrong_line"}


class ConfigError(ValueError):
    """An assignment config that cannot be used; the message names the file and the key."""


def _next_task(base: Assignment) -> tuple[int, int]:
    """The task number after the base assignment's last required one (2.12 -> 2.13): an
    optional op (`log`, 2.13) is in no notebook's task list, so numbering after it made a
    course's list jump from 2.12 to 2.15. An optional op keeps its own number, graded only
    when a class has the method."""
    numbers = [tuple(map(int, base.op(key).task.split("."))) for key in base.ops
               if base.op(key).task.count(".") == 1 and not base.op(key).optional]
    major, minor = max(numbers, default=(1, 0))
    return major, minor + 1


def _toml() -> Any:
    """The TOML reader: the standard library's tomllib on Python 3.11+, on 3.10 tomli (the
    same parser, published before it joined the standard library; a core dependency there)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    return tomllib


def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    try:
        return json.loads(text) if path.suffix == ".json" else _toml().loads(text)
    except ValueError as error:
        raise ConfigError(f"{path}: not valid {path.suffix[1:].upper() or 'TOML'}: "
                          f"{error}") from None


def from_file(path: str | Path) -> Assignment:
    path = Path(path)
    return from_data(_read(path), path)


def to_data(assignment: Assignment) -> dict:
    """The assignment as a config table (what an autograder zip carries): from_data reads it."""
    data = {"name": assignment.name, "ops": list(assignment.ops),
            "points": dict(assignment.points), "hidden": list(assignment.hidden),
            "probes_per_op": assignment.probes_per_op,
            "credit": assignment.credit,
            "packages": list(assignment.packages),
            "numerical": assignment.numerical,
            "wrong_line": assignment.wrong_line}
    if assignment.declared:
        data["op"] = {spec.key: declared.op_to_data(spec) for spec in assignment.declared}
    if assignment.clusters:
        data["cluster"] = named_clusters.to_data(assignment.clusters)
    return data


def _credit(data: dict, base: Assignment, path: str | Path) -> str:
    """`credit = "own-code" | "end-to-end"`; the older `credit_composites = true | false`
    still reads as one of them."""
    if "credit_composites" in data:
        legacy = data["credit_composites"]
        if not isinstance(legacy, bool):
            raise ConfigError(f"{path}: credit_composites = {legacy!r}: give true or false "
                              '(or, newer, credit = "own-code" or "end-to-end")')
        if "credit" in data and data["credit"] != ("own-code" if legacy else "end-to-end"):
            raise ConfigError(f"{path}: credit and credit_composites disagree: keep credit")
        return "own-code" if legacy else "end-to-end"
    credit = data.get("credit", base.credit)
    if credit not in optable.CREDIT_RULES:
        raise ConfigError(f"{path}: credit = {credit!r}: give "
                          + " or ".join(f'"{rule}"' for rule in optable.CREDIT_RULES))
    return credit


def from_data(data: object, path: str | Path) -> Assignment:
    """An assignment from a config table; `path` names where it came from in errors."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a table of settings")
    refusal = unknown_setting(data, KEYS, path)
    if refusal:
        raise ConfigError(refusal)
    base_name = data.get("base", optable.BACKPROP.name)
    if base_name not in BUILTIN:
        raise ConfigError(f"{path}: base {base_name!r} is not a built-in assignment "
                          f"({', '.join(BUILTIN)})")
    base = BUILTIN[base_name]
    try:
        new = declared.ops_from_data(data.get("op", {}), str(path), _next_task(base))
    except DeclarationError as error:
        raise ConfigError(str(error)) from None
    new_keys = tuple(spec.key for spec in new)
    ops = tuple(data.get("ops", (*(k for k in base.ops if k not in new_keys), *new_keys)))
    points = dict(data.get("points", {}))
    hidden = tuple(data.get("hidden", ()))
    known = {*optable.ALL, *new_keys}
    for label, keys in (("ops", ops), ("points", points), ("hidden", hidden)):
        for key in keys:
            if key not in known:
                raise ConfigError(f"{path}: {label}: unknown op {key!r}; the table has "
                                  f"{', '.join(optable.ALL)}, and [op.KEY] declares more")
    for key, value in points.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{path}: points.{key} = {value!r}: give a number >= 0")
    probes = data.get("probes_per_op", base.probes_per_op)
    if isinstance(probes, bool) or not isinstance(probes, int) or not 3 <= probes <= 50:
        raise ConfigError(f"{path}: probes_per_op = {probes!r}: give a whole number 3 to 50")
    credit = _credit(data, base, path)
    numerical = _numerical(data.get("numerical", base.numerical), path)
    wrong_line = data.get("wrong_line", base.wrong_line)
    if wrong_line not in optable.WRONG_LINE_SETTINGS:
        raise ConfigError(f"{path}: wrong_line = {wrong_line!r}: give one of "
                          f"{', '.join(repr(v) for v in optable.WRONG_LINE_SETTINGS)} (line: "
                          "name the line a verified edit fixes; fix: and show the edit; off: "
                          "try no edit)")
    assignment = replace(base, numerical=numerical, wrong_line=str(wrong_line),
                         name=str(data.get("name", base.name)), ops=ops,
                         points=MappingProxyType({**base.points, **points}), hidden=hidden,
                         probes_per_op=probes, credit=credit, declared=new,
                         packages=(_packages(data["packages"], path) if "packages" in data
                                   else base.packages))
    try:
        named = named_clusters.from_data(data.get("cluster", {}), str(path), assignment.op, ops)
    except named_clusters.ClusterError as error:
        raise ConfigError(str(error)) from None
    return replace(assignment, clusters=named)


def _packages(names: object, path: str | Path) -> tuple[str, ...]:
    """`packages`: installed top-level packages the child may import; each must be one the
    grader's own environment has (found, never imported), or the config is refused."""
    import importlib.util
    import sys

    if not isinstance(names, (list, tuple)):
        raise ConfigError(f"{path}: packages = {names!r}: give a list of package names")
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"{path}: packages: {name!r} is not a top-level package name")
        if name in ("graders", "kit") or name in sys.stdlib_module_names:
            raise ConfigError(f"{path}: packages: {name!r} cannot be allowed (the grader's "
                              "own code, kit, or the standard library)")
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise ConfigError(f"{path}: packages: {name!r} is not installed in the grader's "
                              f"environment ({sys.executable})")
    return tuple(dict.fromkeys(names))


def _numerical(value: object, path: str | Path) -> str:
    """The `numerical` setting: what a `_backward` that differentiates numerically earns."""
    if value not in optable.NUMERICAL_SETTINGS:
        raise ConfigError(f"{path}: numerical = {value!r}: give one of "
                          f"{', '.join(repr(v) for v in optable.NUMERICAL_SETTINGS)} (flag: "
                          "named, points kept; zero: no points for that op; allow: not named)")
    return str(value)


def for_tasks(keys: tuple[str, ...] | list[str]) -> Assignment | None:
    """The built-in assignment whose tasks a notebook's grade cells name, if any does: a guess
    for one file graded alone, never for a batch, nbgrader, Gradescope or `--config`."""
    for assignment in BUILTIN.values():
        if any(key in assignment.ops for key in keys):
            return assignment
    return None


def looks_like(keys: tuple[str, ...] | list[str], graded: Assignment) -> Assignment | None:
    """The built-in assignment a file's grade cells name when none of them is a task of the
    assignment it is graded as (a derivatives notebook in backprop week); None otherwise."""
    if any(key in graded.ops for key in keys):
        return None
    other = for_tasks(keys)
    return other if other is not None and other.name != graded.name else None


def resolve(spec: str | None) -> Assignment:
    """A built-in assignment by name, or one read from a .toml/.json file."""
    if spec is None:
        return optable.BACKPROP
    if spec in BUILTIN:
        return BUILTIN[spec]
    if Path(spec).suffix in (".toml", ".json"):
        return from_file(spec)
    raise ConfigError(f"{spec}: not a built-in assignment (known: {', '.join(BUILTIN)}) "
                      "nor a .toml/.json config file")
