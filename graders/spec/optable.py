"""The op table: the one place that says what every graded op is, how it is probed and scored.

Everything else reads this table: the oracle derives each op's derivative from `value`, the probe
planner draws points from `domains`, the child builds the op from `build`, the scorer gives
`points`, the feedback names `mistakes`, and the notebooks take their task ids from `task`.
Formulas are sympy source text in the symbols below, so the table stays plain data.

Symbols: `x`, `y` are the op's `Value` inputs; `c` is a plain-number operand; `k` an exponent;
in mistake formulas `u` is the upstream gradient (`out.grad`) and `g` the input's grad before
the op's `_backward` ran (it must be accumulated into, not overwritten).
"""

from __future__ import annotations

import copyreg
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple


# The table's rows are frozen and their mappings read-only; a batch sends an assignment to
# its worker processes by pickle, which cannot copy a mappingproxy without this.
def read_only(data: dict) -> Mapping:
    return MappingProxyType(data)


copyreg.pickle(MappingProxyType, lambda proxy: (read_only, (dict(proxy),)))


@dataclass(frozen=True)
class Domain:
    """Where probe values are drawn: |v| uniform in [low, high] minus the open band `gap`.

    Defaults keep probes away from 0 and ±1, where wrong formulas coincide with right ones
    (x**n vs n*x**(n-1) at 1, 1-x**2 vs 1-tanh(x)**2 at 0), and at moderate magnitudes.
    """

    low: float = 0.3
    high: float = 3.0
    sign: str = "both"  # "both", "positive" or "negative"
    gap: tuple[float, float] | None = (0.8, 1.25)
    choices: tuple[float, ...] = ()  # when set, draw from these instead (exponents)


@dataclass(frozen=True)
class Mistake:
    """A misconception students really have, as the gradient their code would produce.

    `grads` maps an input symbol to the full value its `.grad` ends with (including `g`);
    inputs not named are computed correctly by the mistaken code. A `backward()` mistake has no
    formula: `grads` is empty and `key` names the behaviour `graders/judge/diagnosis.py` simulates.
    `title` is the mistake's name in a report; `hint` tells the student what to change.
    `fix` names the edit of the student's own code that undoes it (`graders/judge/edits.py`
    FIXES): the grader tries it on a failing op and names the line when it alone makes the op
    pass ("" where no single edit undoes it).
    """

    key: str
    grads: Mapping[str, str]
    hint: str
    title: str = ""
    fix: str = ""


class GenericMistake(NamedTuple):
    """A mistake any op can have, as a template over its correct local derivative `d`."""

    key: str
    template: str
    hint: str
    title: str
    fix: str = ""  # as Mistake.fix


@dataclass(frozen=True)
class NamedCluster:
    """A wrong answer the class shares, named once by the instructor in the assignment config
    (`[cluster."OP:ID"]`, graders/spec/named_clusters.py). Its members are the submissions whose op
    gives the cluster's numbers at the class-wide probe points (the id is their digest), and,
    when `grads` gives what the wrong gradient equals, those whose numbers that formula
    reproduces at their own probe points. Every member is told `message`."""

    id: str  # "mul:1a2b3c4d", as the class dashboard lists it
    op: str
    message: str
    title: str = ""
    key: str = ""  # the diagnosis key reports and the dashboard use
    grads: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    origin: str = ""  # the config file, for errors in a formula


@dataclass(frozen=True)
class OpSpec:
    """One graded op: how to build it, what it computes, where to probe it, what it is worth."""

    key: str
    task: str
    title: str
    build: str  # Python expression the child evaluates over the student's Values
    value: str  # sympy expression of the forward value
    inputs: tuple[str, ...]  # symbols that are student Values (get gradients)
    domains: tuple[Mapping[str, Domain], ...]  # probe domains, cycled over probe points
    points: float
    method: str = ""  # the method of Value that `build` calls (reported by the child)
    kind: str = "op"  # "op", "backward" or "reference": which planner, runner and scorer
    built_from: tuple[str, ...] = ()
    reuse: str | None = None  # a build that uses one input twice (accumulation lesson)
    reuse_value: str | None = None
    optional: bool = False  # graded only when the class has `method` and points are given
    mistakes: tuple[Mistake, ...] = ()
    note: str = ""
    # kit's modules the task's notebook imports, shipped into the sandbox for it; nothing else
    # of kit is there (no reference engine where `Value`'s own ops are graded).
    library: tuple[str, ...] = ()
    # A declared op (an assignment config's `[op.KEY]`): the file it came from, and every symbol
    # of its build in order (inputs and plain numbers). Built-in rows leave both empty.
    origin: str = ""
    symbols: tuple[str, ...] = ()


def _dom(**symbols: Domain) -> Mapping[str, Domain]:
    return MappingProxyType(dict(symbols))


ANY = Domain()
POSITIVE = Domain(sign="positive")
PLAIN = Domain(low=0.5, high=4.0, gap=(0.8, 1.25))
# Whole exponents are sent as ints, as the lecture writes them (`x**2`): code that checks
# `isinstance(k, int)` before a negative base takes the path a student's own program takes.
INT_EXPONENTS = Domain(choices=(2, 3, -1, -2, 4))
FRACTIONAL_EXPONENTS = Domain(choices=(0.5, 1.5, -0.5, 2.5, -1.5))

# Mistakes every op can have, written over its correct local derivative `d` (per input). Hints
# name the rule to apply, never the line of code that applies it.
GENERIC_MISTAKES: tuple[GenericMistake, ...] = (
    GenericMistake(
        "assign_not_accumulate",
        "u*d",
        "gradients from every use of a node add up: accumulate into .grad (+=) instead of "
        "assigning (=), or whatever .grad already held is lost",
        "assigns the gradient (=) instead of accumulating it (+=)",
        "accumulate",
    ),
    GenericMistake(
        "no_upstream",
        "g + d",
        "chain rule: the local derivative must be multiplied by the gradient that flows in "
        "from the output, out.grad",
        "forgets the upstream factor out.grad",
        "times_upstream",
    ),
    GenericMistake(
        "upstream_assign",
        "d",
        "chain rule: multiply the local derivative by out.grad, and accumulate (+=) the "
        "product into .grad",
        "assigns the bare local derivative (no out.grad, no +=)",
        "upstream_accumulate",
    ),
    GenericMistake(
        "wrong_sign",
        "g - u*d",
        "the gradient added is minus what the derivative says: add out.grad times the local "
        "derivative, do not subtract it",
        "flips the sign of the gradient",
        "flip_sign",
    ),
    GenericMistake(
        "not_updated",
        "g",
        "every input of an op gets its share of the gradient; this input's .grad is never "
        "changed",
        "never updates this input's gradient",
        "update_missing",
    ),
)


# Seen only through the `reuse` check (x op x): accumulation passes, but one use of the node
# overwrites the other's contribution.
REUSE_MISTAKE = Mistake(
    "reuse_overwrites",
    {},
    "when one node feeds an op twice (x * x), both contributions must add up in x.grad: "
    "accumulate with += in every branch",
    "loses a contribution when one node is used twice",
)


# Mistakes named from what the child saw the code do, not from the gradients' numbers: a wrong
# forward value (no gradient mistake is named from the gradients of a different function), a
# closure stored on the op's input instead of its output, a `_backward` that evaluates the
# forward again at nearby points, and a backward() that skips plain `Value(x)` leaves. Each is
# named by `graders/judge/diagnosis.py` from the facts in the child's answer.
OBSERVED_MISTAKES: tuple[Mistake, ...] = (
    Mistake(
        "wrong_forward",
        {},
        "fix the forward value (out.data) first: gradients are checked against the function "
        "the op is meant to compute, so no gradient mistake is named from the gradients of a "
        "different one",
        "computes a wrong forward value",
        fix="swap_forward",
    ),
    Mistake(
        "closure_on_input",
        {},
        "The closure is stored on the input (`self._backward = ...`), so it runs when the "
        "input's own op is walked, not this one: store it on `out` (`out._backward = "
        "_backward`)",
        "stores its closure on the input instead of on out",
        fix="closure_on_output",
    ),
    Mistake(
        "numerical_derivative",
        {},
        "a numerical derivative, not the chain rule: write the op's local derivative as a "
        "formula times out.grad",
        "differentiates numerically",
    ),
    Mistake(
        "requires_grad_flag",
        {},
        "Leaves made with `Value(x)` get no gradient: your backward() skips values whose "
        "`requires_grad` is False; in the lecture every Value gets a grad",
        "skips values whose `requires_grad` flag is False",
    ),
    # A course task's function bound to something else (judge/programs.py SIGNATURES says what
    # each task calls): the lecture computes `loss = sum(...)` once, a Value; assignment 3 asks
    # for `def loss(ypred, ys)`, since its training loop needs a new loss at every step.
    Mistake(
        "not_a_function",
        {},
        "The lecture's `loss = sum(...)` is one loss of one model, computed once; the grader "
        "(and your training loop) needs a new one for every model and step.",
        "defines a task's function as a value",
    ),
)
# The settings an assignment's `numerical` key takes (graders/spec/assignments.py): a
# numerical derivative is named and keeps its points ("flag"), earns none ("zero"), or is
# graded like any other ("allow").
NUMERICAL_SETTINGS: tuple[str, ...] = ("flag", "zero", "allow")
# The settings an assignment's `wrong_line` key takes (graders/spec/assignments.py): name the
# line a verified edit fixes ("line"), name it and show the fix ("fix"), or try none ("off").
WRONG_LINE_SETTINGS: tuple[str, ...] = ("line", "fix", "off")


def observed(key: str) -> Mistake:
    """The observed mistake `key` (OBSERVED_MISTAKES)."""
    return next(m for m in OBSERVED_MISTAKES if m.key == key)


OPS: tuple[OpSpec, ...] = (
    OpSpec(
        key="add",
        task="2.1",
        title="addition a + b",
        build="x + y",
        value="x + y",
        inputs=("x", "y"),
        domains=(_dom(x=ANY, y=ANY),),
        points=2,
        method="__add__",
        reuse="x + x",
        reuse_value="2*x",
    ),
    OpSpec(
        key="mul",
        task="2.2",
        title="multiplication a * b",
        build="x * y",
        value="x * y",
        inputs=("x", "y"),
        domains=(_dom(x=ANY, y=ANY),),
        points=2,
        method="__mul__",
        reuse="x * x",
        reuse_value="x**2",
        mistakes=(
            Mistake(
                "swapped_operands",
                {"x": "g + x*u", "y": "g + y*u"},
                "d(a*b)/da = b: each input's gradient is the *other* input's value times "
                "out.grad",
                "uses an input's own value instead of the other input's",
                fix="other_operand",
            ),
        ),
    ),
    OpSpec(
        key="tanh",
        task="2.3",
        title="tanh(a)",
        build="x.tanh()",
        value="tanh(x)",
        inputs=("x",),
        domains=(_dom(x=Domain(low=0.3, high=2.5, gap=None)),),
        points=2,
        method="tanh",
        # The lecture's own tanh is a primitive; a class may build it from exp and arithmetic.
        built_from=("exp", "mul", "rmul", "add", "radd", "sub", "rsub", "truediv", "pow"),
        mistakes=(
            Mistake(
                "input_for_output",
                {"x": "g + (1 - x**2)*u"},
                "square the output t = tanh(x), not the input x",
                "uses the input x where the output tanh(x) belongs",
                fix="output_for_input",
            ),
            Mistake(
                "missing_square",
                {"x": "g + (1 - tanh(x))*u"},
                "the output t must be squared",
                "forgets to square the output",
                fix="square_output",
            ),
            Mistake(
                "missing_one_minus",
                {"x": "g + tanh(x)**2*u"},
                "it is one minus the square of the output, not the square itself",
                "forgets the 1 - in 1 - tanh(x)^2",
                fix="one_minus_square",
            ),
        ),
    ),
    OpSpec(
        key="exp",
        task="2.4",
        title="exp(a)",
        build="x.exp()",
        value="exp(x)",
        inputs=("x",),
        domains=(_dom(x=Domain(low=0.3, high=3.0)),),
        points=2,
        method="exp",
        mistakes=(
            Mistake(
                "input_for_output",
                {"x": "g + x*u"},
                "the derivative of exp(x) is exp(x) itself: the output's value, not the input's",
                "uses the input x where the output exp(x) belongs",
                fix="output_for_input",
            ),
        ),
    ),
    OpSpec(
        key="pow",
        task="2.5",
        title="power a ** k (k a plain number)",
        build="x ** k",
        value="x**k",
        inputs=("x",),
        domains=(
            _dom(x=ANY, k=INT_EXPONENTS),
            _dom(x=POSITIVE, k=FRACTIONAL_EXPONENTS),
        ),
        points=2,
        method="__pow__",
        mistakes=(
            Mistake(
                "no_minus_one",
                {"x": "g + k*x**k*u"},
                "the power rule lowers the exponent by one: d/dx x^k = k * x^(k-1)",
                "forgets to lower the exponent by one",
                fix="lower_exponent",
            ),
            Mistake(
                "no_coefficient",
                {"x": "g + x**(k - 1)*u"},
                "the power rule keeps the exponent as a factor: d/dx x^k = k * x^(k-1)",
                "drops the coefficient k",
                fix="exponent_coefficient",
            ),
            Mistake(
                "exponent_not_lowered_coefficient",
                {"x": "g + (k - 1)*x**(k - 1)*u"},
                "the factor in front is k itself, not k - 1: d/dx x^k = k * x^(k-1)",
                "uses k - 1 as the coefficient",
                fix="coefficient_k",
            ),
            Mistake(
                "exponent_precedence",
                {"x": "g + k*(x**k - 1)*u"},
                "** binds tighter than -: x**k - 1 is (x^k) - 1; the exponent k - 1 needs "
                "parentheses",
                "computes x^k - 1 instead of x^(k-1)",
                fix="exponent_parentheses",
            ),
        ),
    ),
    OpSpec(
        key="relu",
        task="2.6",
        title="relu(a)",
        build="x.relu()",
        value="Piecewise((0, x <= 0), (x, True))",
        inputs=("x",),
        # Both signs at every run: on one side alone a missing or inverted mask is invisible.
        domains=(
            _dom(x=Domain(low=0.05, high=3.0, gap=None, sign="positive")),
            _dom(x=Domain(low=0.05, high=3.0, gap=None, sign="negative")),
        ),
        points=2,
        method="relu",
        note="relu'(0) = 0 by convention; probes stay at least 0.05 away from the kink.",
        mistakes=(
            Mistake(
                "inverted_mask",
                {"x": "g + Piecewise((u, x < 0), (0, True))"},
                "the gradient flows where the output is positive (out.data > 0), "
                "and is zero where relu clipped the input",
                "passes the gradient where the input was negative (an inverted mask)",
                fix="flip_mask",
            ),
            Mistake(
                "no_mask",
                {"x": "g + u"},
                "relu passes the gradient only where its input was positive: "
                "multiply by (out.data > 0)",
                "passes the gradient everywhere (no mask)",
                fix="add_mask",
            ),
            Mistake(
                "output_as_mask",
                {"x": "g + Piecewise((0, x <= 0), (x*u, True))"},
                "the relu gradient is a 0/1 mask (out.data > 0), not the output value itself",
                "multiplies by the output instead of a 0/1 mask",
                fix="mask_output",
            ),
        ),
    ),
    OpSpec(
        key="neg",
        task="2.7",
        title="negation -a",
        build="-x",
        value="-x",
        inputs=("x",),
        domains=(_dom(x=ANY),),
        points=1,
        method="__neg__",
        built_from=("mul",),
    ),
    OpSpec(
        key="sub",
        task="2.8",
        title="subtraction a - b",
        build="x - y",
        value="x - y",
        inputs=("x", "y"),
        domains=(_dom(x=ANY, y=ANY),),
        points=1,
        method="__sub__",
        built_from=("add", "neg", "mul"),
        reuse="x - x",
        reuse_value="0*x",
    ),
    OpSpec(
        key="truediv",
        task="2.9",
        title="division a / b",
        build="x / y",
        value="x / y",
        inputs=("x", "y"),
        domains=(_dom(x=ANY, y=ANY),),
        points=1,
        method="__truediv__",
        built_from=("mul", "pow"),
        reuse="x / x",
        reuse_value="x/x",
        mistakes=(
            Mistake(
                "quotient_square",
                {"y": "g - x/y*u"},
                "d(a/b)/db = -a / b^2: divide by b squared",
                "divides by b instead of b^2",
                fix="square_divisor",
            ),
            Mistake(
                "times_divisor",
                {"x": "g + y*u"},
                "d(a/b)/da = 1/b: divide out.grad by b, do not multiply",
                "multiplies by the divisor instead of dividing",
                fix="divide_by_divisor",
            ),
        ),
    ),
    OpSpec(
        key="radd",
        task="2.10",
        title="reflected addition c + a (c a plain number)",
        build="c + x",
        value="c + x",
        inputs=("x",),
        domains=(_dom(x=ANY, c=PLAIN),),
        points=1,
        method="__radd__",
        built_from=("add",),
    ),
    OpSpec(
        key="rsub",
        task="2.10",
        title="reflected subtraction c - a (c a plain number)",
        build="c - x",
        value="c - x",
        inputs=("x",),
        domains=(_dom(x=ANY, c=PLAIN),),
        points=1,
        method="__rsub__",
        built_from=("add", "neg", "mul", "radd"),
    ),
    OpSpec(
        key="rmul",
        task="2.10",
        title="reflected multiplication c * a (c a plain number)",
        build="c * x",
        value="c * x",
        inputs=("x",),
        domains=(_dom(x=ANY, c=PLAIN),),
        points=1,
        method="__rmul__",
        built_from=("mul",),
    ),
    OpSpec(
        key="rtruediv",
        task="2.10",
        title="reflected division c / a (c a plain number)",
        build="c / x",
        value="c / x",
        inputs=("x",),
        domains=(_dom(x=ANY, c=PLAIN),),
        points=1,
        method="__rtruediv__",
        built_from=("mul", "pow", "rmul"),
    ),
    OpSpec(
        key="log",
        task="2.13",
        title="natural logarithm log(a)",
        build="x.log()",
        value="log(x)",
        inputs=("x",),
        domains=(_dom(x=POSITIVE),),
        points=1,
        method="log",
        optional=True,
        mistakes=(
            Mistake(
                "log_of_input",
                {"x": "g + log(x)*u"},
                "the derivative of log(x) is 1/x",
                "uses log(x) itself as its derivative",
                fix="log_derivative",
            ),
        ),
    ),
    OpSpec(
        key="sigmoid",
        task="2.14",
        title="sigmoid(a)",
        build="x.sigmoid()",
        value="1/(1 + exp(-x))",
        inputs=("x",),
        domains=(_dom(x=Domain(low=0.3, high=3.0)),),
        points=1,
        method="sigmoid",
        optional=True,
        mistakes=(
            Mistake(
                "missing_one_minus",
                {"x": "g + u/(1 + exp(-x))**2"},
                "the derivative of sigmoid is s * (1 - s), with s the output",
                "forgets the factor (1 - s)",
                fix="output_one_minus",
            ),
            Mistake(
                "input_for_output",
                {"x": "g + x*(1 - x)*u"},
                "the derivative of sigmoid is s * (1 - s) with s = sigmoid(x), the output",
                "uses the input x where the output s belongs",
                fix="output_for_input",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class GraphCheck:
    """A whole-graph check of the student's `backward()`, run on the grader's own closures.

    `title` describes the graph (the README's table); `label` names the sub-check in a report.
    The graphs themselves are drawn by `graders.judge.probes.GRAPH_BUILDERS`, one per key.
    """

    key: str
    title: str
    weight: float
    hint: str
    label: str = ""


@dataclass(frozen=True)
class SubCheckSpec:
    """One weighted part of a verdict: an op's points are split by these weights."""

    key: str
    label: str
    weight: float


# Every op: the forward value, the gradient (with upstream 0 among the probes), accumulation into
# an existing grad, and, where the op has a `reuse` build, a node used twice. Points are earned by
# the gradient: the release gives the forward code, so a wrong forward is reported but weighs
# nothing (a `_backward` that does nothing scores what the untouched release scores).
OP_SUBCHECKS: tuple[SubCheckSpec, ...] = (
    SubCheckSpec("forward", "forward value", 0.0),
    SubCheckSpec("gradient", "gradient × out.grad (also out.grad = 0)", 2.0),
    SubCheckSpec("accumulate", "the gradient added to a grad that already holds a value", 1.0),
    SubCheckSpec("reuse", "a node used twice (x op x)", 1.0),
)


BACKWARD = OpSpec(
    key="backward",
    task="2.11",
    title="backward(): topological order, seed, accumulation",
    build="",
    value="",
    inputs=(),
    domains=(),
    points=4,
    method="backward",
    kind="backward",
    mistakes=(
        Mistake(
            "no_reverse",
            {},
            "a node's _backward may run only once every node that uses it has passed its "
            "gradient down: walk the topological order from the output back to the inputs",
            "walks the topological order forwards (not reversed)",
            fix="reverse_order",
        ),
        Mistake(
            "no_seed",
            {},
            "the output's gradient with respect to itself is 1: set it before any _backward "
            "runs, or every gradient stays 0",
            "never seeds the output's grad with 1",
            fix="seed_output",
        ),
        Mistake(
            "no_visited",
            {},
            "a node reachable along two paths must run its _backward once: keep a set of "
            "visited nodes while building the order, and append a node only the first time "
            "it is visited (inside the `if v not in visited:`); recursing into children from "
            "backward() without one has the same effect",
            "puts a shared node in the order more than once, so its _backward runs twice",
            fix="visited_check",
        ),
        Mistake(
            "shared_state",
            {},
            "each call must build its own order: a list or set kept on the class, in a "
            "global or in a default argument (topo=[]) carries nodes from earlier calls",
            "keeps the topological order between calls",
        ),
        Mistake(
            "no_topological_sort",
            {},
            "calling _backward recursively, parent before children, runs a shared node "
            "before all its users have passed their gradient down: sort first, then walk",
            "recurses depth-first instead of walking a topological order",
        ),
    ),
)

BACKWARD_GRAPHS: tuple[GraphCheck, ...] = (
    GraphCheck(
        "diamond",
        "a diamond: c=a+b, d=a*b, e=c+d, f=c*d, y=e+f",
        2,
        "each node's _backward must run after every node that uses it: build a topological "
        "order, then walk it in reverse, visiting every node once",
        "diamond graph",
    ),
    GraphCheck(
        "seed",
        "a single op: y = a * b",
        1,
        "backward() must start by setting the root's grad to 1.0",
        "root grad seeded with 1.0",
    ),
    GraphCheck(
        "chain",
        "a 10,000-deep chain v = v + a",
        1,
        "deep graphs need a topological sort that does not recurse once per node, "
        "or one that does not revisit nodes",
        "10,000-deep chain",
    ),
    GraphCheck(
        "repeat",
        "backward on a second graph, then again on the first after zeroing its grads",
        1,
        "backward() must not keep state between calls (a visited set or topo list stored on "
        "the class, or a mutable default argument)",
        "second graph, then first again after zero_grad",
    ),
)

# What the lecture prints for g, a.grad and b.grad: a claim, not an answer key. The oracle derives
# the exact values (2421/98, 47620/343, 221433/343) and tests/test_grader.py checks they print so.
LECTURE_PRINTS = "24.7041, 138.8338, 645.5773"

REFERENCE = OpSpec(
    key="reference_example",
    task="2.12",
    title=f"the lecture's reference example ({LECTURE_PRINTS})",
    build="",
    value="",
    inputs=(),
    domains=(),
    points=2,
    kind="reference",
)

REFERENCE_SUBCHECKS: tuple[SubCheckSpec, ...] = (
    SubCheckSpec("lecture", f"prints {LECTURE_PRINTS}", 1.0),
    SubCheckSpec("random", "same expression at random inputs", 1.0),
)

# The lecture's example as sympy source over leaves a and b; read by the oracle and the child.
REFERENCE_PROGRAM: tuple[str, ...] = (
    "c = a + b",
    "d = a * b + b**3",
    "c += c + 1",
    "c += 1 + c + (-a)",
    "d += d * 2 + (b + a).relu()",
    "d += 3 * d + (b - a).relu()",
    "e = c - d",
    "f = e**2",
    "g = f / 2.0",
    "g += 10.0 / f",
)
REFERENCE_INPUTS: Mapping[str, float] = MappingProxyType({"a": -4.0, "b": 2.0})
REFERENCE_PRINTED: tuple[str, ...] = ("g", "a.grad", "b.grad")


# The tasks of assignments 1 (derivatives) and 3 (mlp): no op of `Value`, but checks of the
# functions and classes the notebook defines, run in the sandbox like every op (`kind="task"`:
# each has its planner and scorer in `graders/judge/programs.py`, by key). `method` names the
# notebook's function or class the task needs.
def _task(key: str, task: str, title: str, points: float, method: str,
          library: tuple[str, ...] = ()) -> OpSpec:
    return OpSpec(key=key, task=task, title=title, build="", value="", inputs=(), domains=(),
                  points=points, method=method, kind="task", library=library)


MLP_LIBRARY = ("engine", "data")  # the mlp notebook builds on kit's Value and its data


TASKS: tuple[OpSpec, ...] = (
    _task("slope", "1.1", "slope(f, x, h): the forward-difference slope", 2, "slope"),
    _task("slopes_abc", "1.2", "slopes of d = a*b + c with respect to a, b, c", 2,
          "slopes_abc"),
    _task("slope_errors", "1.3", "how the step size h changes the error", 2, "slope_errors"),
    _task("neuron", "3.1", "Neuron: tanh(w·x + b) and its parameters", 1, "Neuron",
          MLP_LIBRARY),
    _task("parameters", "3.2", "Layer, MLP and parameters() (41 for MLP(3, [4, 4, 1]))", 2,
          "MLP", MLP_LIBRARY),
    _task("loss_gradient", "3.3", "the squared-error loss and its gradient", 3, "loss",
          MLP_LIBRARY),
    _task("training", "3.4", "training makes the loss fall", 2, "train", MLP_LIBRARY),
    _task("zero_grad", "3.5", "each step starts from zeroed gradients", 2, "train",
          MLP_LIBRARY),
)


# The credit rules an assignment can set, each with the sentence every report prints.
CREDIT_RULES: Mapping[str, str] = MappingProxyType({
    "own-code": "Credit rule: own code. Each op is scored on its own code, with the grader's "
                "correct versions standing in for the other ops it calls; the reference "
                "example runs your whole class and must print the lecture's numbers.",
    "end-to-end": "Credit rule: end to end. Each op is scored with your own versions of the "
                  "ops it calls, so an op built on a broken one fails with it (the report names "
                  "the op to fix first); the reference example runs your whole class and must "
                  "print the lecture's numbers.",
})


@dataclass(frozen=True)
class Assignment:
    """Which ops an assignment grades and what each is worth; points override the table."""

    name: str
    ops: tuple[str, ...]
    points: Mapping[str, float] = field(default_factory=dict)
    probes_per_op: int = 5
    hidden: tuple[str, ...] = ()  # ops whose details students see only after grades publish
    # How an op built from others is scored (CREDIT_RULES): "own-code", with the grader's
    # correct versions standing in for every other op it calls, or "end-to-end", with the
    # student's own, so a dependent op fails with its dependency.
    credit: str = "own-code"
    # Ops declared by the assignment's config (`[op.KEY]`), graded like the table's own rows.
    declared: tuple[OpSpec, ...] = ()
    # Wrong answers the class shares, each named once with a message for every member.
    clusters: tuple[NamedCluster, ...] = ()
    # Installed top-level packages student code may import in the sandbox, beside the standard
    # library: lecture code computes with numpy, and correct code must not lose points for it.
    packages: tuple[str, ...] = ("numpy",)
    # A `_backward` that evaluates the forward again at nearby points (NUMERICAL_SETTINGS):
    # "flag" names it and keeps the points, "zero" gives that op none, "allow" says nothing.
    numerical: str = "flag"
    # The line that is wrong (WRONG_LINE_SETTINGS, graders/judge/edits.py): "line" names the
    # line of a failing op when one catalogued edit of it, run, makes the op pass; "fix" also
    # shows the edited line; "off" tries no edit.
    wrong_line: str = "line"

    def op(self, key: str) -> OpSpec:
        """The row for `key`: the assignment's declared ops first, then the built-in table."""
        for spec in self.declared:
            if spec.key == key:
                return spec
        return op(key)

    def points_for(self, key: str) -> float:
        return float(self.points.get(key, self.op(key).points))

    def methods(self) -> tuple[str, ...]:
        """The methods the child is asked about: the table's and every declared op's."""
        return tuple(dict.fromkeys((*METHODS, *(spec.method for spec in self.declared))))


ALL: Mapping[str, OpSpec] = MappingProxyType(
    {spec.key: spec for spec in (*OPS, BACKWARD, REFERENCE, *TASKS)}
)

DERIVATIVES = Assignment(name="derivatives", ops=("slope", "slopes_abc", "slope_errors"))
BACKPROP = Assignment(
    name="backprop",
    ops=(*tuple(spec.key for spec in OPS), "backward", "reference_example"),
)
MLP = Assignment(name="mlp", ops=("neuron", "parameters", "loss_gradient", "training",
                                  "zero_grad"))
# The course's assignments, in course order.
COURSE: tuple[Assignment, ...] = (DERIVATIVES, BACKPROP, MLP)


# Every sub-check's label, for reports; "runs" is the one row of a submission that never ran.
SUBCHECK_TITLES: Mapping[str, str] = MappingProxyType({
    **{s.key: s.label for s in (*OP_SUBCHECKS, *REFERENCE_SUBCHECKS)},
    **{g.key: g.label for g in BACKWARD_GRAPHS},
    "runs": "not graded: the submission could not be run (see above)",
    "analytic": "an analytic derivative, not a numerical one (this assignment's rule)",
})

# The methods the child is asked about: which ones the student's class has decides which
# optional ops are graded, and names what a missing one is in a report.
METHODS: tuple[str, ...] = tuple(dict.fromkeys(spec.method for spec in (*OPS, BACKWARD)))


def op(key: str) -> OpSpec:
    """The table row for `key`, with a clear error for a name that is not in the table."""
    try:
        return ALL[key]
    except KeyError:
        raise KeyError(f"unknown op {key!r}; the table has {', '.join(ALL)}") from None
