"""The data that crosses a seam between layers: one file, so every such type is seen together.

Flow (docs/architecture.md): `spec` says what is graded; `judge.probes` plans `Case`s; `run`
sends them to the child and parses what comes back, once, into an `Outcome` of `Loaded` and
`Record`s; `judge.scoring` turns that into `OpResult`s; `api` wraps them in a `Result`; `report`
renders it. Nothing here runs student code or decides a verdict. The parsers below are where
the child's records become typed fields (texts capped, numbers checked for what they are);
the numbers its code produced stay as they came, since a wrong one is shown to the student as
what they got, and every comparison (`close`) refuses anything but a finite int or float.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from graders.spec.optable import REFERENCE_PRINTED, SUBCHECK_TITLES

# --- tolerances: the one comparison rule of the judge, printed in reports -------------------

RTOL = 1e-9
ATOL = 1e-12
FD_RTOL = 1e-5  # finite differences carry O(h^2) truncation error
FD_ATOL = 1e-6
MAX_TEXT = 400  # the longest text taken from the child (errors, kinds)


def is_number(value: Any) -> bool:
    """A plain, finite int or float (an int too large for a float is not a number here)."""
    if type(value) is int:
        return abs(value) < 2**1023
    return type(value) is float and math.isfinite(value)


def close(got: Any, expected: float, scale: float = 0.0, rtol: float = RTOL,
          atol: float = ATOL) -> bool:
    """Positive form, so NaN and non-numbers fail: |got - expected| <= atol + rtol*scale."""
    if not is_number(got):
        return False
    return abs(got - expected) <= atol + rtol * max(abs(expected), scale)


# --- how the child is run -------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission; defaults fit a teaching course."""

    memory_bytes: int = 1 << 30
    processes: int = 64
    group_seconds: float = 10.0
    cell_seconds: float = 30.0  # one top-level cell; a cell over it is skipped, not fatal
    submission_seconds: float = 60.0
    output_bytes: int = 1 << 20
    cpu_seconds: int = 120
    file_bytes: int = 16 << 20
    open_files: int = 64
    tmp_bytes: int = 64 << 20  # the child's writable /tmp under bubblewrap


# --- what the parent asks: the probe plan (drawn by judge.probes, sent by run.session) -------


@dataclass
class Case:
    """One check: what the child is sent, and what the parent needs to judge the answer."""

    id: str
    kind: str
    role: str
    payload: dict[str, Any]
    values: dict[str, float] = field(default_factory=dict)  # symbols for the oracle

    def message(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, **self.payload}

    def shown_inputs(self) -> dict[str, float]:
        """What a report names as an op check's inputs: the Values and the plain-number
        operands (pow's k, a declared op's c); without them it cannot be reproduced by hand."""
        numbers = {name: self.values[name] for name in ("c", "k") if name in self.values}
        return {**self.payload["leaves"], **numbers}


# The key of a group that asks an op's checks again with the grader's rules for the ops it uses
# (judge/probes.py plans it, judge/scoring.py reads it): "<op key>@reference".
REFERENCE_SUFFIX = "@reference"
# The role of a class-wide probe point: asked of every submission, never counted for points.
CLASS_ROLE = "class"
# The key of the group that asks an op's class-wide points: "<op key>@class". These groups come
# after every group that counts, so a hang or a crash at a class point costs no counted check
# its time.
CLASS_SUFFIX = "@class"


def not_asked(group: Group, group_errors: dict[str, str]) -> str | None:
    """Why an op's class-wide group is not asked at all: its own group already hung or
    crashed (asking again would only cost the time and a restart a second time)."""
    if not group.key.endswith(CLASS_SUFFIX):
        return None
    own = group_errors.get(group.key.removesuffix(CLASS_SUFFIX))
    return f"not asked: the op's own checks ended with: {own}" if own else None


@dataclass
class Group:
    """The checks of one op, sent to the child together; a crash or hang costs this group."""

    key: str
    cases: list[Case]
    method: str = ""  # the method of `Value` the op calls (the child is asked whether it exists)
    library: tuple[str, ...] = ()  # kit's modules the task's notebook imports in the sandbox
    # {method, source}: an edited method to stand in for the student's own while this group
    # runs (graders/judge/edits.py), so the op's own probes say whether the edit fixes it
    patch: dict[str, str] | None = None

    def message(self) -> dict[str, Any]:
        """The group as the child reads it. The stand-in rules every case carries (the same
        object: probes.with_stand_ins) go once, beside the cases, not once per case: they
        were most of what crossed the pipe."""
        cases = [c.message() for c in self.cases]
        patch = {"patch": dict(self.patch)} if self.patch else {}
        shared = {id(case.get("primitives")) for case in cases}
        if len(shared) != 1 or "primitives" not in cases[0]:
            return {"kind": "group", "group": self.key, "cases": cases, **patch}
        rules = cases[0]["primitives"]
        for case in cases:
            del case["primitives"]
        return {"kind": "group", "group": self.key, "primitives": rules, "cases": cases,
                **patch}


# --- what the child said, parsed once at the boundary ----------------------------------------

# A lone surrogate: what a JSON `\ud800` escape, a student's `"\ud800"` or a file name that is
# not UTF-8 becomes in a str. UTF-8 cannot carry one, so every writer would raise on it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """`text` as UTF-8 can carry it: each lone surrogate becomes U+FFFD. Applied where text
    from a submission enters the parent, so no report, file or database write can fail on it."""
    return _SURROGATE.sub("\ufffd", text)


def valid_data(data: Any) -> Any:
    """What `json.loads` made, with `valid_text` applied to every string, keys too (in place;
    iterative, so any depth the parser accepted is fine)."""
    if isinstance(data, str):
        return valid_text(data)
    stack = [data] if isinstance(data, (list, dict)) else []
    while stack:
        node = stack.pop()
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        if isinstance(node, dict) and any(_SURROGATE.search(key) for key, _ in items):
            node.clear()
            items = [(valid_text(key), value) for key, value in items]
        for key, value in items:
            if isinstance(value, str):
                value = valid_text(value)
            elif isinstance(value, (list, dict)):
                stack.append(value)
            node[key] = value
    return data



def _text(value: Any, default: str = "") -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else default


def _int(value: Any, default: int = 0) -> int:
    return value if type(value) is int else default


@dataclass(frozen=True)
class CellStatus:
    """How one top-level cell of the submission ran: "ok", "error", "syntax" or "interrupted"
    (past its time limit: `line` is the top-level line it was stopped at, `function` the
    submission's innermost function then running, as Python names it)."""

    index: int
    status: str
    line: int = 0
    error: str = ""
    function: str = ""

    @classmethod
    def parse(cls, raw: Any) -> CellStatus | None:
        if not isinstance(raw, dict):
            return None
        return cls(_int(raw.get("index")), _text(raw.get("status"), "error"),
                   _int(raw.get("line")), _text(raw.get("error")),
                   _text(raw.get("function"))[:120])

    def hung_in(self) -> str:
        """What an interrupted cell was stuck in, in a student's words: "it calls `relu`,
        whose `_backward` never returned" for `Value.relu.<locals>._backward`; "" when the
        interrupt stopped the cell's own top-level code."""
        parts = [part for part in self.function.split(".") if part not in ("", "<locals>")]
        if not parts:
            return ""
        if parts[0] == "Value" and len(parts) > 1:
            if len(parts) > 2:
                return f"it calls `{parts[1]}`, whose `{parts[-1]}` never returned"
            return f"it calls `{parts[1]}`, which never returned"
        return f"it was stopped in `{'.'.join(parts)}`"


@dataclass(frozen=True)
class ValueInfo:
    """What the child found under the name `Value` after running every cell."""

    found: bool = False
    is_class: bool = False
    kind: str = ""  # the type's name when `Value` is not a class
    module: str = ""
    own: bool = False  # defined by the submission's own cells, not imported
    methods: tuple[str, ...] = ()  # which of the methods the parent asked about it has
    similar: tuple[str, ...] = ()  # when not found: classes named like it (`value`, `VALUE`)

    @classmethod
    def parse(cls, raw: Any) -> ValueInfo:
        if not isinstance(raw, dict):
            return cls()
        methods = raw.get("methods")
        similar = raw.get("similar")
        return cls(
            found=raw.get("found") is True,
            is_class=raw.get("is_class") is True,
            kind=_text(raw.get("kind")),
            module=_text(raw.get("module")),
            own=raw.get("own") is True,
            methods=tuple(m for m in methods if isinstance(m, str))[:64]
            if isinstance(methods, list) else (),
            similar=tuple(_text(n)[:40] for n in similar if isinstance(n, str))[:3]
            if isinstance(similar, list) else (),
        )


@dataclass(frozen=True)
class Loaded:
    """The child's "loaded" record: per-cell statuses, the Value found, stand-ins used."""

    cells: tuple[CellStatus, ...] = ()
    value: ValueInfo = field(default_factory=ValueInfo)
    stand_ins: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: dict) -> Loaded:
        cells = raw.get("cells") if isinstance(raw.get("cells"), list) else []
        stand_ins = raw.get("stand_ins") if isinstance(raw.get("stand_ins"), list) else []
        return cls(
            cells=tuple(c for c in map(CellStatus.parse, cells) if c is not None),
            value=ValueInfo.parse(raw.get("value")),
            stand_ins=tuple(s[:40] for s in stand_ins if isinstance(s, str))[:20],
        )


@dataclass(frozen=True)
class Numeric:
    """What the child saw an op's closures call (run/protocol.py, answer:op `numeric`): how
    many calls were at a point near an input's value (not at it), how many at a complex point,
    the smallest step |point - x|, and which function first. Facts: the judge decides."""

    near: int = 0
    complex: int = 0
    calls: int = 0
    step: float | None = None
    via: str = ""

    @classmethod
    def parse(cls, raw: Any) -> Numeric | None:
        if not isinstance(raw, dict):
            return None
        found = cls(near=max(0, _int(raw.get("near"))), complex=max(0, _int(raw.get("complex"))),
                    calls=max(0, _int(raw.get("calls"))),
                    step=raw["step"] if is_number(raw.get("step")) else None,
                    via=_text(raw.get("via"))[:60])
        return found if found.near or found.complex else None


@dataclass(frozen=True)
class Record:
    """The child's answer to one check (run/protocol.py lists the keys per kind).

    Numbers the student's code produced stay as they came (`Any`): a string or NaN where a
    gradient belongs is shown to the student as what they got, and fails every comparison.
    """

    id: str
    error: str | None = None
    where: tuple[int, int] | None = None  # (cell, line) of the student's code that raised
    out: Any = None  # op: the output's data
    grads: Mapping[str, Any] = field(default_factory=dict)  # op: each input's grad
    ops: tuple[str, ...] = ()  # op: labels of the nodes the build made
    fd: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # op: f(x + h), f(x - h)
    graphs: tuple[Any, ...] | None = None  # backward: per graph, {name: grad}; None if absent
    values: Mapping[str, Any] = field(default_factory=dict)  # reference: g, a.grad, b.grad
    reported: Mapping[str, Any] = field(default_factory=dict)  # program: {name: numbers}
    stood_in: frozenset[str] = frozenset()  # op: the grader's ops the check called
    own_backward: str | None = None  # op: what the student's backward() raised on its node
    # op: inputs whose `_backward` the forward replaced (the closure stored on the input)
    moved: tuple[str, ...] = ()
    # op: calls at points near an input while its closures ran (run/protocol.py `numeric`)
    numeric: Numeric | None = None
    # op, backward: flag attributes (`requires_grad`) that are False on a plain `Value(x)`
    flags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: dict) -> Record:
        where = None
        if isinstance(raw.get("cell"), int) and isinstance(raw.get("line"), int):
            where = (raw["cell"], raw["line"])
        error = _text(raw["error"], "an error the child could not describe") \
            if "error" in raw else None
        grads = raw.get("grads") if isinstance(raw.get("grads"), dict) else {}
        ops = raw.get("ops") if isinstance(raw.get("ops"), list) else []
        fd = {name: (pair[0], pair[1]) for name, pair in (raw.get("fd") or {}).items()
              if isinstance(pair, list) and len(pair) == 2 and all(map(is_number, pair))} \
            if isinstance(raw.get("fd"), dict) else {}
        graphs = tuple(raw["graphs"]) if isinstance(raw.get("graphs"), list) else None
        values = {name: raw[name] for name in REFERENCE_PRINTED if name in raw}
        reported = raw.get("values") if isinstance(raw.get("values"), dict) else {}
        stood_in = raw.get("stood_in") if isinstance(raw.get("stood_in"), list) else []
        moved = raw.get("moved") if isinstance(raw.get("moved"), list) else []
        return cls(id=_text(raw.get("id")), error=error, where=where,
                   moved=tuple(name[:40] for name in moved[:8] if isinstance(name, str)),
                   numeric=Numeric.parse(raw.get("numeric")),
                   flags=tuple(name[:40] for name in (raw.get("flags") or [])[:4]
                               if isinstance(name, str))
                   if isinstance(raw.get("flags"), list) else (),
                   out=raw.get("out"), grads=MappingProxyType(dict(grads)),
                   ops=tuple(label[:40] for label in ops[:20] if isinstance(label, str)),
                   fd=MappingProxyType(fd), graphs=graphs, values=MappingProxyType(values),
                   reported=MappingProxyType(dict(reported)),
                   stood_in=frozenset(k[:40] for k in stood_in[:40] if isinstance(k, str)),
                   own_backward=_text(raw["own_backward"], "an error")
                   if "own_backward" in raw else None)


def answer_error(record: Record | None, group_error: str | None) -> str | None:
    """Why a check has no usable answer (fail closed): none came back, or the student's code
    raised; None when the record can be judged."""
    if record is None:
        return group_error or "no answer came back for this check"
    return record.error


@dataclass
class Outcome:
    """Everything the child side produced, as data for the scorer. Nothing here is a verdict."""

    loaded: Loaded | None = None
    load_error: str | None = None
    records: dict[str, Record] = field(default_factory=dict)
    group_errors: dict[str, str] = field(default_factory=dict)
    output: str = ""
    output_truncated: bool = False
    output_taken: bool = False
    isolation: str = "weak"
    restarts: int = 0
    # groups that hit their own time limit (not the submission's), in the order asked
    hung: list[str] = field(default_factory=list)
    python: str | None = None  # sys.version as the child reported it
    notes: list[str] = field(default_factory=list)  # containment caveats for the report
    # CPU seconds the children said they used (a claim): where no cgroup counts a killed
    # bubblewrap child, benchmarks add this to what the grading process's own rusage shows
    child_cpu: float = 0.0

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


# --- verdicts -------------------------------------------------------------------------------


@dataclass
class Probe:
    """One failing (or diagnostic) evaluation, in the terms a student can act on."""

    case: str
    input: str | None
    inputs: dict[str, float]
    upstream: float | None
    pre: float | None
    expected: float | None
    got: Any
    finite_difference: float | None = None
    error: str | None = None
    where: tuple[int, int] | None = None
    answered: bool = True  # False: no answer came back (a time limit, a crash), nothing raised


@dataclass
class SubCheck:
    """One weighted part of an op's verdict (forward value, gradient, accumulation, ...)."""

    name: str
    weight: float
    passed: bool
    detail: str = ""

    @property
    def title(self) -> str:
        return SUBCHECK_TITLES.get(self.name, self.name)


@dataclass
class Diagnosis:
    """A catalogued mistake that reproduces every observed number of the inputs it names."""

    key: str
    title: str
    hint: str
    inputs: list[str] = field(default_factory=list)
    formula: str = ""  # what the wrong gradient equals (the oracle's text); "" for behaviours
    latex: str = ""
    mathml: str = ""
    expected_formula: str = ""
    more: list[Diagnosis] = field(default_factory=list)  # other inputs, other mistakes
    # per input it names: what that input's grad equals ("text", "mathml") and its own local
    # derivative ("expected"): each statement is computed from the formula of *that* input
    statements: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def input(self) -> str:
        return self.inputs[0] if self.inputs else ""


@dataclass(frozen=True)
class WrongLine:
    """Where a failing op's mistake is, verified: one catalogued edit of the student's own code
    at these lines, run in the sandbox with the op's own probes, made every check pass, and no
    other edit tried did (graders/judge/edits.py). Never a guess: nothing is named otherwise."""

    cell: int | None  # the notebook cell (1-based, as a student counts); None for a .py file
    lines: tuple[int, ...]  # lines within the cell (within the file for a .py)
    mistake: str  # the catalogue key of the mistake the edit undoes
    title: str  # that mistake in words (optable: Mistake.title)
    was: tuple[str, ...]  # the student's lines as written
    fix: tuple[str, ...]  # the same statements after the edit
    show_fix: bool = False  # the assignment's `wrong_line = "fix"`: reports show `fix`

    def where(self) -> str:
        """"line 34 of cell 5", "lines 23 and 24 of cell 5", or "line 12" in a .py file."""
        numbers = [str(line) for line in self.lines]
        said = (f"line {numbers[0]}" if len(numbers) == 1 else
                f"lines {', '.join(numbers[:-1])} and {numbers[-1]}")
        return said if self.cell is None else f"{said} of cell {self.cell}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"cell": self.cell, "lines": list(self.lines),
                                "mistake": self.mistake, "where": self.where()}
        if self.show_fix:
            data["was"], data["fix"] = list(self.was), list(self.fix)
        return data


@dataclass
class OpResult:
    """The verdict on one op: points, sub-checks, and what to tell the student."""

    key: str
    task: str
    title: str
    max_points: float
    points: float = 0.0
    subchecks: list[SubCheck] = field(default_factory=list)
    failures: list[Probe] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    root_cause: str | None = None
    error: str | None = None
    formula: dict[str, str] = field(default_factory=dict)  # input -> text of d/d(input)
    latex: dict[str, str] = field(default_factory=dict)
    mathml: dict[str, str] = field(default_factory=dict)
    fd_findings: list[str] = field(default_factory=list)
    optional: bool = False
    hidden: bool = False  # a hidden check: students see only its name and verdict
    # The assignment's hidden ops: what a student reads about this op names none of them (a
    # root cause or a credit naming one is the instructor's only).
    hidden_ops: frozenset[str] = frozenset()
    credited: str | None = None  # passed with the grader's primitives: which one to fix
    # A wrong op's behaviour at the class-wide probe points (graders/judge/clusters.py): the
    # id submissions with the same wrong answers share, and one of its wrong numbers in words.
    cluster: str | None = None
    cluster_evidence: str = ""
    # The child saw its closures evaluate the forward again near the input (most probes);
    # `flag`: what a report says about it when the assignment keeps the points (judge/scoring).
    numeric: Numeric | None = None
    flag: Diagnosis | None = None
    wrong_line: WrongLine | None = None  # the line one verified edit fixes (judge/edits.py)

    @property
    def passed(self) -> bool:
        return bool(self.subchecks) and all(s.passed for s in self.subchecks)

    @property
    def credited_by(self) -> str | None:
        """The primitive `credited` names ("correct given a correct `mul`: ..."), if any."""
        parts = (self.credited or "").split("`")
        return parts[1] if len(parts) > 2 else None

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"


def total(points: Iterable[float]) -> float:
    """A sum of points as every report shows it (4 decimals, so 0.1 + 0.2 prints as 0.3)."""
    return round(sum(points), 4)


def place(cell: int, line: int = 0) -> str:
    """Where in a submission, as a student finds it: "cell 5, line 3" in a notebook; "line 3"
    in a `.py` file, whose one piece of code the parent numbers cell 0 (it has no cells)."""
    if cell == 0:
        return f"line {line}" if line else "the file"
    return f"cell {cell}, line {line}" if line else f"cell {cell}"


@dataclass
class Result:
    """Everything known about one graded submission."""

    submission: str
    ops: list[OpResult] = field(default_factory=list)
    problem: str | None = None  # why the submission could not be graded at all
    cells: list[CellStatus] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # "this file looks like the derivatives assignment; graded as backprop": the assignment is
    # the instructor's, and a file that names another's tasks is told, never graded as it
    assignment_note: str | None = None
    output: str = ""
    output_truncated: bool = False
    # "bubblewrap", "landlock" (Landlock + seccomp) or "weak" (the audit hook only) once student
    # code ran; "none" if it never did
    isolation: str = "none"
    seed: int | None = None
    seconds: float = 0.0
    child_cpu: float = 0.0  # CPU seconds the sandboxed children reported (Outcome.child_cpu)
    grader_version: str = ""
    # The assignment's credit rule as every report prints it (optable.CREDIT_RULES)
    credit_rule: str = ""
    # ops whose checks hit their own time limit (an infinite loop in a closure?), in plan order
    hung: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return total(op.points for op in self.ops)

    @property
    def max_score(self) -> float:
        return total(op.max_points for op in self.ops)

    @property
    def cell_errors(self) -> list[str]:
        lines = []
        for cell in self.cells:
            if cell.status in ("ok", "interrupted"):
                continue
            lines.append(f"{place(cell.index, cell.line)}: {cell.error or 'error'}")
        return lines

    def hang_lines(self, audience: str = "student") -> list[str]:
        """What hung, as the report's first lines: each interrupted cell with what it was
        stuck in, then the ops whose checks hit their time limit ("cell 7 ran past the 30 s
        time limit and was interrupted (it calls `relu`, whose `_backward` never returned);
        relu: time limit hit"). The cell is named from the first load's statuses, the op
        from the group that hit its own limit: the cause before any consequence. A student's
        view names no hidden op (that would tell its verdict)."""
        hidden = {op.key for op in self.ops if op.hidden} if audience == "student" else set()
        hung = [key for key in self.hung if key not in hidden]
        ops = f"{', '.join(hung)}: time limit hit" if hung else ""
        lines = []
        for cell in self.cells:
            if cell.status == "interrupted":
                stuck = cell.hung_in()
                lines.append(f"{place(cell.index)} {cell.error}" + (f" ({stuck})" if stuck else "")
                             + (f"; {ops}" if ops and not lines else ""))
        if ops and not lines:
            whose = "their" if len(hung) > 1 else "its"
            lines.append(f"{ops} ({whose} checks did not answer in time: an infinite loop?)")
        return lines

    @property
    def flags(self) -> list[str]:
        """What an instructor should look at beside the score, in a few words each (the
        gradebook keeps them, the dashboard and grades.csv show them): a cell the grader had
        to interrupt, ops that hit their time limit, ops whose `_backward` differentiates
        numerically."""
        # a .py file has no cells (the parent numbers its code cell 0): its line is said
        flags = [f"{place(cell.index, cell.line if not cell.index else 0)} interrupted"
                 for cell in self.cells if cell.status == "interrupted"]
        if self.hung:
            flags.append(f"time limit hit: {', '.join(self.hung)}")
        numerical = [op.key for op in self.ops if op.numeric is not None]
        if numerical:  # the assignment's `numerical` rule named it (not "allow")
            flags.append(f"numerical derivative: {', '.join(numerical)}")
        return flags

    def fix_first(self, audience: str = "student") -> list[str]:
        """"Fix first: mul (task 2.2): 5 other ops depend on it", for each broken primitive
        whose dependants were right with the grader's in its place. A student's view counts
        no hidden op, as a primitive or as a dependant."""
        everything = audience == "instructor"
        depends: dict[str, int] = {}
        for op in self.ops:
            if op.credited_by and (everything or not op.hidden):
                depends[op.credited_by] = depends.get(op.credited_by, 0) + 1
        broken = {op.key: op for op in self.ops
                  if op.key in depends and (everything or not op.hidden)}
        return [f"Fix first: {key} (task {broken[key].task}): "
                + (f"{count} other ops depend on it (they are right given a right one, and "
                   "scored so)" if count > 1 else "1 other op depends on it (it is right "
                   "given a right one, and scored so)")
                for key, count in depends.items() if key in broken]

    def summary_lines(self, audience: str = "student") -> list[str]:
        """The notes above the table, in `audience`'s view."""
        lines = []
        if self.isolation == "weak":  # first, whatever else is said: the grade's footing
            lines.append("WARNING: weak isolation: student code ran with the grader's audit "
                         "hook as its only wall (no bubblewrap, no Landlock and seccomp here, "
                         "or turned off); a crafted submission can get past it.")
        lines += self.hang_lines(audience)  # the cause first, before any consequence
        lines += self.fix_first(audience)
        if self.assignment_note:
            lines.append(self.assignment_note)
        if self.problem:
            lines.append(f"Not graded: {self.problem}")
        lines += [f"Your code raised an error {'on' if line.startswith('line') else 'in'} "
                  f"{line}" for line in self.cell_errors]
        lines += self.notes
        if self.output_truncated:
            lines.append("Your code printed more than the output limit; the rest was dropped.")
        if self.credit_rule and self.ops and not self.problem:
            lines.append(self.credit_rule)
        return lines


# --- MathML, the one markup that crosses from the judge to the reports unescaped -------------

MATHML_TAGS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "msup", "msub", "msubsup", "mfrac",
    "msqrt", "mroot", "mfenced", "mtable", "mtr", "mtd", "mover", "munder", "munderover",
    "mstyle", "mpadded", "mphantom", "menclose",
})
MATHML_ATTRIBUTES = frozenset({
    "xmlns", "display", "columnalign", "open", "close", "separators", "mathvariant", "fence",
    "stretchy", "linethickness", "lspace", "rspace", "form", "notation",
})


def check_mathml(markup: str) -> None:
    """Refuse anything but MathML presentation markup: reports embed it as is, so a tampered
    cache must not be able to put a link, a script or a style into a student's page."""
    if not markup:
        return
    from xml.etree import ElementTree

    # The XML parser drops comments, processing instructions and CDATA without a word, but a
    # browser ends them at the first ">": markup hidden in them would reach the page.
    if "<!" in markup or "<?" in markup or not markup.startswith("<math"):
        raise ValueError(f"MathML has a comment, declaration or no <math> root: {markup[:80]!r}")
    try:  # named entities (&InvisibleTimes;) are text to a browser, unknown to an XML parser
        root = ElementTree.fromstring(re.sub(r"&[A-Za-z]+;", "", markup))
    except ElementTree.ParseError as error:
        raise ValueError(f"MathML does not parse: {markup[:80]!r}") from error
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag not in MATHML_TAGS or set(element.attrib) - MATHML_ATTRIBUTES:
            raise ValueError(f"MathML has <{tag[:20]}> or attributes {sorted(element.attrib)}")
