"""The symbolic oracle: sympy derives every op's derivative from the op table, in the parent only.

The built-in ops' derivation ships as data (answer_key.json, digest pinned in code, regenerated
by `python -m graders.docgen`), so a grade imports no sympy; declared ops and named clusters are
derived here at run time, once per batch (workers adopt the parent's). Values are evaluated
with mpmath at 30 digits, so "expected" means the exact value rounded once, not
another float computation that could share the student's rounding.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import mpmath

from graders.model import MATHML_ATTRIBUTES, MATHML_TAGS, check_mathml  # noqa: F401
from graders.spec import optable
from graders.spec.declared import DeclarationError
from graders.spec.optable import OpSpec

mpmath.mp.dps = 30
SYMBOLS = ("x", "y", "c", "k", "u", "g", "a", "b")

# The mpmath names a derived formula may call: real elementary functions and constants, the
# ones sympy's printer emits for the expressions courses write. A cache naming anything else is
# refused; tests/test_architecture.py checks that every formula the table derives stays inside it.
MPMATH_FUNCTIONS = frozenset({
    "mpf", "pi", "e", "exp", "expm1", "log", "log1p", "log10", "sqrt", "cbrt", "power",
    "sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan", "atan2",
    "sinh", "cosh", "tanh", "sech", "csch", "coth", "asinh", "acosh", "atanh",
    "fabs", "sign", "floor", "ceil", "erf", "erfc", "gamma",
})


def check_arithmetic(code: str) -> None:
    """Refuse anything but arithmetic over the symbols and a few mpmath functions.

    Formulas are compiled with eval; checking each one first means that no formula, however it
    came to be (sympy's printer, an assignment config), can run anything but arithmetic.
    """
    import ast  # only here: the shipped key's formulas are not checked again at run time

    arithmetic = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Compare, ast.BoolOp,
                  ast.Constant, ast.Load, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as error:
        raise ValueError(f"formula is not an expression: {code[:80]!r}") from error
    for node in ast.walk(tree):
        if isinstance(node, arithmetic):
            if isinstance(node, ast.Constant) and type(node.value) not in (int, float):
                raise ValueError(f"formula has a non-number constant: {code[:80]!r}")
            continue
        if isinstance(node, ast.Name) and node.id in (*SYMBOLS, "mpmath"):
            continue
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "mpmath" and node.attr in MPMATH_FUNCTIONS:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and not node.keywords:
            continue
        raise ValueError(f"formula has {type(node).__name__}, not arithmetic: {code[:80]!r}")


@dataclass(frozen=True)
class Formula:
    """One derived expression: mpmath source to evaluate, and how to show it to a person.

    `mathml` is presentation MathML of the same expression, with `u` shown as out.grad and `g`
    as the input's grad, so a rendered report cannot disagree with the grader. It is inert
    markup made by sympy's printer; renderers embed it as is ("" when the printer failed).

    How it is evaluated depends on where it came from. A formula sympy derived in this process
    (a declared op, a named cluster, a table row edited since the key was generated) carries
    `compiled`, what `sympy.lambdify(symbols, expr, "mpmath")` made of the expression itself.
    A formula read as data carries only `code`, the same expression as mpmath source printed by
    sympy's MpmathPrinter (lambdify's own printer), and is compiled from that text after
    `check_arithmetic` allows it: the shipped answer key (answer_key.json, digest pinned) exists
    so that a grade never imports sympy (about a second of CPU per process), so its formulas
    cannot be lambdified and are kept as checked text; a batch's worker adopts the parent's
    derived formulas the same way, as data. `code` is also what the fingerprint covers, so
    grader ids do not depend on which path made the callable.
    """

    code: str
    text: str
    latex: str
    mathml: str = ""
    # From the shipped answer key, whose digest is pinned: tests/test_oracle.py checks every
    # formula of a fresh derivation, so each grade need not parse them again.
    shipped: bool = field(default=False, compare=False, repr=False)
    # sympy.lambdify's function of the expression, taking SYMBOLS positionally (None: read as
    # data, compiled from `code`). Not pickled: a copy in another process uses `code`.
    compiled: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    def function(self) -> Callable[..., Any]:
        """The formula as a function of the SYMBOLS by keyword, each 0 when not given."""
        if self.compiled is not None:
            # Refused exactly as a worker that adopts this formula as text refuses it.
            _checked(self.code)
            run = self.compiled
            return lambda **values: run(*(values.get(name, 0) for name in SYMBOLS))
        return _from_code(self.code, self.shipped)

    def __call__(self, **values: float) -> float:
        exact = {name: mpmath.mpf(value) for name, value in values.items()}
        return float(self.function()(**exact))

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "compiled": None}


_checked = cache(check_arithmetic)


@cache
def _from_code(code: str, shipped: bool) -> Callable[..., Any]:
    """A formula read as data, compiled from its mpmath source: checked first unless it comes
    from the shipped key (whose digest is pinned and whose formulas a test checks)."""
    if not shipped:
        check_arithmetic(code)
    namespace = {"mpmath": mpmath, "__builtins__": {}}
    args = ", ".join(f"{name}=0" for name in SYMBOLS)
    return eval(f"lambda {args}: {code}", namespace)  # checked arithmetic only


@dataclass(frozen=True)
class MistakeFormula:
    key: str
    grads: dict[str, Formula]
    hint: str
    title: str = ""
    specific: bool = False  # the op's own catalogued mistake (tried before the generic ones)


@dataclass(frozen=True)
class OpOracle:
    """What sympy says about one op: forward value, local derivative per input, mistakes."""

    key: str
    value: Formula
    derivative: dict[str, Formula]
    reuse_value: Formula | None = None
    reuse_derivative: Formula | None = None
    mistakes: tuple[MistakeFormula, ...] = ()


@dataclass(frozen=True)
class ReferenceOracle:
    """The lecture's example as one sympy expression g(a, b), with exact values at (-4, 2)."""

    value: Formula
    derivative: dict[str, Formula]
    exact: dict[str, str] = field(default_factory=dict)  # "g", "a.grad", "b.grad" -> "p/q"

    def exact_fraction(self, name: str) -> Fraction:
        return Fraction(self.exact[name])


@dataclass(frozen=True)
class Oracle:
    ops: dict[str, OpOracle]
    reference: ReferenceOracle


# --- derivation (sympy) ---------------------------------------------------------------------


def _presentation(sp: Any, expr: Any, to_mathml: Any) -> str:
    """sympy's presentation MathML, with a Piecewise (relu) drawn as a brace of cases."""
    if isinstance(expr, sp.Add) and any(isinstance(t, sp.Piecewise) for t in expr.args):
        terms = [_presentation(sp, t, to_mathml) for t in expr.args]
        return "<mrow>" + "<mo>+</mo>".join(terms) + "</mrow>"
    if not isinstance(expr, sp.Piecewise):
        return to_mathml(expr, printer="presentation")
    rows = []
    for value, condition in expr.args:
        when = ("<mtext>otherwise</mtext>" if condition is sp.true else
                "<mtext>if&#160;</mtext>" + to_mathml(condition, printer="presentation"))
        rows.append(f"<mtr><mtd>{to_mathml(value, printer='presentation')}</mtd>"
                    f"<mtd>{when}</mtd></mtr>")
    return f'<mrow><mo>{{</mo><mtable columnalign="left">{"".join(rows)}</mtable></mrow>'


def _mathml(sp: Any, expr: Any, name: str) -> str:
    from sympy.printing.mathml import mathml as to_mathml

    shown = expr.subs({sp.Symbol("u", real=True): sp.Symbol("out.grad"),
                       sp.Symbol("g", real=True): sp.Symbol(f"{name}.grad")})
    try:
        body = _presentation(sp, shown, to_mathml)
    except Exception:  # a printer gap must not cost the student their report
        return ""
    # sympy leaves a comparison's < and > bare inside <mo>; escaped, the markup is well formed.
    body = body.replace("<mo><</mo>", "<mo>&lt;</mo>").replace("<mo>></mo>", "<mo>&gt;</mo>")
    # An invisible times between names reads as one name ("out.grady", "out.gradeˣ"): a product
    # is shown with a visible dot, as the text form writes it.
    body = body.replace("<mo>&InvisibleTimes;</mo>", "<mo>&#xB7;</mo>")
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">{body}</math>'


def _formula(sp: Any, expr: Any, name: str = "x") -> Formula:
    """`name` is the input whose grad `g` stands for (it names `g` in the MathML)."""
    from sympy.printing.pycode import MpmathPrinter
    from sympy.printing.str import StrPrinter

    class Text(StrPrinter):
        """sympy's text, with a Piecewise (relu) as `a if cond else b` wherever it sits."""

        def _print_Piecewise(self, piece):  # noqa: N802 - sympy's printer dispatch name
            parts = [f"{self._print(value)} if {self._print(cond)}" if cond is not sp.true
                     else self._print(value) for value, cond in piece.args]
            text = " else ".join(parts)
            return text if piece == expr else f"({text})"

    expr = sp.powsimp(expr)
    printer = MpmathPrinter({"fully_qualified_modules": True})
    text = Text().doprint(expr).replace("**", "^")
    compiled = sp.lambdify([sp.Symbol(n, real=True) for n in SYMBOLS], expr, "mpmath")
    return Formula(code=printer.doprint(expr), text=text, latex=sp.latex(expr),
                   mathml=_mathml(sp, expr, name), compiled=compiled)


def _derive_op(sp: Any, spec: OpSpec) -> OpOracle:
    symbols = {name: sp.Symbol(name, real=True) for name in SYMBOLS}
    read = _declared_reader(sp, spec, symbols) if spec.origin else \
        (lambda text, what: sp.sympify(text, locals=symbols))
    value = read(spec.value, "value")
    derivative = {name: _tidy(sp, sp.diff(value, symbols[name]), spec) for name in spec.inputs}
    mistakes: list[MistakeFormula] = []
    for key, template, hint, title, _fix in optable.GENERIC_MISTAKES:
        grads = {}
        for name, local in derivative.items():
            wrong = sp.sympify(template, locals=symbols).subs(sp.Symbol("d"), local)
            grads[name] = _formula(sp, _tidy(sp, wrong, spec), name)
        mistakes.append(MistakeFormula(key, grads, hint, title))
    for mistake in spec.mistakes:
        grads = {
            name: _formula(sp, _tidy(sp, read(text, f"mistake {mistake.key}"), spec), name)
            for name, text in mistake.grads.items()
        }
        mistakes.append(MistakeFormula(mistake.key, grads, mistake.hint,
                                       mistake.title or mistake.key.replace("_", " "), True))
    reuse_value = reuse_derivative = None
    if spec.reuse_value:
        reuse_expr = read(spec.reuse_value, "reuse")
        reuse_value = _formula(sp, reuse_expr)
        reuse_derivative = _formula(sp, _tidy(sp, sp.diff(reuse_expr, symbols["x"]), spec))
    return OpOracle(
        key=spec.key,
        value=_formula(sp, value),
        derivative={name: _formula(sp, d, name) for name, d in derivative.items()},
        reuse_value=reuse_value,
        reuse_derivative=reuse_derivative,
        mistakes=tuple(mistakes),
    )


# What a declared op's formulas may call: the functions courses write, nothing else (the
# config is text; sympy's own parser would otherwise evaluate any Python in it).
DECLARED_FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "Abs", "Max", "Min",
                      "Piecewise", "Heaviside", "sign", "tanh", "sinh", "cosh", "atan",
                      "asin", "acos", "erf", "pi", "E", "Rational", "Integer", "Float")
KINKED = ("Max", "Min", "Abs", "Heaviside", "sign")


def _declared_reader(sp: Any, spec: OpSpec, symbols: dict[str, Any], where: str = ""):
    """A parser for one declared op's formulas: restricted names, exact numbers, kinks as
    Piecewise (so derivatives stay piecewise formulas the reports can draw). `where` names
    the config table in errors (the op's own by default)."""
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    allowed = {name: getattr(sp, name) for name in DECLARED_FUNCTIONS}
    where = where or f"{spec.origin}: op.{spec.key}"

    def read(text: str, what: str) -> Any:
        names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
        unknown = sorted(names - set(allowed) - set(SYMBOLS) - {"True", "False"})
        if unknown or "__" in text:
            raise DeclarationError(f"{where}: {what} = {text!r}: unknown name "
                                   f"{(unknown or ['__'])[0]!r}; formulas use x, y, c, k "
                                   f"(u, g in mistakes) and {', '.join(DECLARED_FUNCTIONS)}")
        try:
            expr = parse_expr(text, local_dict=dict(symbols), global_dict=dict(allowed),
                              transformations=standard_transformations, evaluate=True)
            expr = sp.nsimplify(sp.sympify(expr), rational=True)
        except Exception as error:  # sympy raises many kinds; each means "cannot read"
            raise DeclarationError(f"{where}: {what} = {text!r} is not an expression sympy "
                                   f"can read ({type(error).__name__})") from None
        if not isinstance(expr, sp.Expr):
            raise DeclarationError(f"{where}: {what} = {text!r} is not a number expression")
        used = {str(s) for s in expr.free_symbols}
        allowed_symbols = set(spec.symbols) | ({"u", "g"} if what.startswith("mistake")
                                               else set())
        stray = sorted(used - allowed_symbols)
        if stray:
            raise DeclarationError(f"{where}: {what} = {text!r} uses {stray[0]}, which the "
                                   f"build ({spec.build}) does not give")
        if what == "value":
            unused = [name for name in spec.symbols if name not in used]
            if unused:
                raise DeclarationError(f"{where}: build ({spec.build}) uses {unused[0]}, "
                                       f"which value = {text!r} does not")
        return expr.replace(lambda e: type(e).__name__ in KINKED,
                            lambda e: e.rewrite(sp.Piecewise))

    return read


def _tidy(sp: Any, expr: Any, spec: OpSpec) -> Any:
    """A declared op's derived formula with any Piecewise brought to the top (drawn as one
    brace of cases); built-in rows keep the form their reports have always shown."""
    return sp.piecewise_fold(expr) if spec.origin else expr


class _SymbolicValue:
    """Runs the lecture's program on sympy expressions, with relu as a Piecewise."""

    def __init__(self, sp: Any, expr: Any) -> None:
        self.sp, self.expr = sp, expr

    def _wrap(self, other: Any) -> Any:
        if isinstance(other, _SymbolicValue):
            return other.expr
        return self.sp.nsimplify(other)  # 2.0 -> 2, exact

    def __add__(self, other):
        return _SymbolicValue(self.sp, self.expr + self._wrap(other))

    __radd__ = __add__

    def __mul__(self, other):
        return _SymbolicValue(self.sp, self.expr * self._wrap(other))

    __rmul__ = __mul__

    def __sub__(self, other):
        return _SymbolicValue(self.sp, self.expr - self._wrap(other))

    def __rsub__(self, other):
        return _SymbolicValue(self.sp, self._wrap(other) - self.expr)

    def __truediv__(self, other):
        return _SymbolicValue(self.sp, self.expr / self._wrap(other))

    def __rtruediv__(self, other):
        return _SymbolicValue(self.sp, self._wrap(other) / self.expr)

    def __pow__(self, other):
        return _SymbolicValue(self.sp, self.expr ** self._wrap(other))

    def __neg__(self):
        return _SymbolicValue(self.sp, -self.expr)

    def relu(self):
        sp = self.sp
        return _SymbolicValue(sp, sp.Piecewise((0, self.expr <= 0), (self.expr, True)))


def _derive_reference(sp: Any) -> ReferenceOracle:
    a, b = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    scope: dict[str, Any] = {"a": _SymbolicValue(sp, a), "b": _SymbolicValue(sp, b)}
    exec("\n".join(optable.REFERENCE_PROGRAM), {}, scope)  # our own table text
    g = scope["g"].expr
    grads = {"a": sp.diff(g, a), "b": sp.diff(g, b)}
    at = {a: sp.Integer(int(optable.REFERENCE_INPUTS["a"])),
          b: sp.Integer(int(optable.REFERENCE_INPUTS["b"]))}
    exact = {
        "g": sp.nsimplify(g.subs(at)),
        "a.grad": sp.nsimplify(grads["a"].subs(at)),
        "b.grad": sp.nsimplify(grads["b"].subs(at)),
    }
    return ReferenceOracle(
        value=_formula(sp, g),
        derivative={name: _formula(sp, d) for name, d in grads.items()},
        exact={name: str(sp.Rational(value)) for name, value in exact.items()},
    )


def derive() -> Oracle:
    """Derive everything from the table with sympy (slow: imports sympy)."""
    import sympy as sp

    ops = {spec.key: _derive_op(sp, spec) for spec in optable.OPS}
    return Oracle(ops=ops, reference=_derive_reference(sp))


# --- the shipped answer key -----------------------------------------------------------------

# The built-in ops' oracle, derived by sympy once by `python -m graders.docgen` and shipped in the
# package beside this module (the wheel's RECORD hashes it). Its digest is pinned here, in code:
# the file is only read as the key when it is byte for byte what the generator wrote, so nothing
# that can write beside the package without changing this line can set an expected value.
ANSWER_KEY = Path(__file__).with_name("answer_key.json")
ANSWER_KEY_SHA256 = "2673de3405dfda76f28cb9367a8bc2e58b8757eb5b5fea3280b2c006bccf9a5e"


def _formula_data(formula: Formula | None) -> list[str] | None:
    return None if formula is None else [formula.code, formula.text, formula.latex,
                                         formula.mathml]


def _formula_from(data: list[str] | None, shipped: bool = False) -> Formula | None:
    return None if data is None else Formula(*data, shipped=shipped)


def _op_data(o: OpOracle) -> dict[str, Any]:
    f = _formula_data
    return {
        "value": f(o.value),
        "derivative": {n: f(d) for n, d in o.derivative.items()},
        "reuse_value": f(o.reuse_value),
        "reuse_derivative": f(o.reuse_derivative),
        "mistakes": [{"key": m.key, "grads": {n: f(d) for n, d in m.grads.items()},
                      "hint": m.hint, "title": m.title, "specific": m.specific}
                     for m in o.mistakes],
    }


def _op_from(key: str, o: dict[str, Any], shipped: bool = False) -> OpOracle:
    def f(item: list[str] | None) -> Formula | None:
        return _formula_from(item, shipped)

    return OpOracle(
        key=key, value=f(o["value"]),
        derivative={n: f(d) for n, d in o["derivative"].items()},
        reuse_value=f(o["reuse_value"]), reuse_derivative=f(o["reuse_derivative"]),
        mistakes=tuple(MistakeFormula(m["key"], {n: f(d) for n, d in m["grads"].items()},
                                      m["hint"], m["title"], m["specific"])
                       for m in o["mistakes"]))


def to_data(oracle: Oracle) -> dict[str, Any]:
    """Everything an Oracle holds, as JSON-ready data (what answer_key.json stores)."""
    f = _formula_data
    return {
        "ops": {key: _op_data(o) for key, o in oracle.ops.items()},
        "reference": {
            "value": f(oracle.reference.value),
            "derivative": {n: f(d) for n, d in oracle.reference.derivative.items()},
            "exact": oracle.reference.exact,
        },
    }


def from_data(data: dict[str, Any], shipped: bool = False) -> Oracle:
    """The Oracle `to_data` wrote, rebuilt without sympy (`shipped`: from the pinned key)."""
    reference = data["reference"]
    return Oracle(
        ops={key: _op_from(key, o, shipped) for key, o in data["ops"].items()},
        reference=ReferenceOracle(
            value=_formula_from(reference["value"], shipped),
            derivative={n: _formula_from(d, shipped)
                        for n, d in reference["derivative"].items()},
            exact=dict(reference["exact"])))


def _source(spec: OpSpec) -> str:
    """A digest of everything `_derive_op` reads for one row (with the generic mistakes every
    row gets): a shipped formula is used only for the row it was derived from."""
    material = [spec.value, list(spec.inputs), spec.reuse_value, spec.origin,
                list(spec.symbols), [[m.key, dict(m.grads), m.hint, m.title]
                                     for m in spec.mistakes],
                [[g.key, g.template, g.hint, g.title] for g in optable.GENERIC_MISTAKES]]
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def _reference_source() -> str:
    material = [list(optable.REFERENCE_PROGRAM), dict(optable.REFERENCE_INPUTS)]
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def answer_key_text(oracle: Oracle) -> str:
    """The bytes of answer_key.json for `oracle` (the table's own derivation): one fixed
    serialisation, so a fresh derivation can be compared with the shipped file byte for byte,
    with the digest of each row it was derived from."""
    data = to_data(oracle)
    data["sources"] = {spec.key: _source(spec) for spec in optable.OPS}
    data["reference_source"] = _reference_source()
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


class AnswerKeyError(RuntimeError):
    """The shipped answer key is missing or not the one this code was released with."""


def _read_answer_key() -> Oracle:
    try:
        raw = ANSWER_KEY.read_bytes()
    except OSError as error:
        raise AnswerKeyError(f"{ANSWER_KEY}: cannot read the answer key ({error.strerror}); "
                             f"reinstall gradkit") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != ANSWER_KEY_SHA256:
        raise AnswerKeyError(f"{ANSWER_KEY}: sha256 {digest[:16]}… is not the pinned "
                             f"{ANSWER_KEY_SHA256[:16]}…; the answer key was changed after "
                             f"release (regenerate with `python -m graders.docgen`, or "
                             f"reinstall gradkit)")
    data = json.loads(raw)
    return _current(from_data(data, shipped=True), data.get("sources", {}),
                    data.get("reference_source"))


def _current(shipped: Oracle, sources: dict[str, str], reference_source: str | None) -> Oracle:
    """The shipped key, with every row of the table it was not derived from (a row added or
    edited since `python -m graders.docgen` last ran) derived here with sympy: adding an op is
    still one row, and no edited row is graded with its old formulas."""
    stale = [spec for spec in optable.OPS if sources.get(spec.key) != _source(spec)]
    reference = shipped.reference
    if not stale and reference_source == _reference_source():
        return shipped
    import sympy as sp

    ops = {**shipped.ops, **{spec.key: _derive_op(sp, spec) for spec in stale}}
    if reference_source != _reference_source():
        reference = _derive_reference(sp)
    return Oracle(ops={spec.key: ops[spec.key] for spec in optable.OPS}, reference=reference)


def _to_json(oracle: Oracle) -> dict[str, Any]:
    """Every expected formula as plain data: what the fingerprint covers (the same projection
    as before the key shipped as data, so grader ids did not change with it)."""
    data = to_data(oracle)
    for op in data["ops"].values():
        op["mistakes"] = [[m["key"], m["grads"], m["hint"]] for m in op["mistakes"]]
    return data


def _formulas(oracle: Oracle):
    for op in oracle.ops.values():
        yield op.value
        yield from op.derivative.values()
        yield from (f for f in (op.reuse_value, op.reuse_derivative) if f is not None)
        for mistake in op.mistakes:
            yield from mistake.grads.values()
    yield oracle.reference.value
    yield from oracle.reference.derivative.values()


@cache
def load() -> Oracle:
    """The built-in answer key: the shipped file, read only when its digest is the pinned one.

    sympy is not imported: the key was derived by `python -m graders.docgen` and a test derives
    it again and compares bytes (a row added or edited since is derived here, `_current`). No
    cache is written at run time; a file anything else could write (a kernel, a child on the
    weak path) is never read as the key.
    """
    return _read_answer_key()


_DECLARED: dict[str, Oracle] = {}


def _material(assignment: Any) -> str | None:
    """What an assignment's own derivation depends on (its declared ops and named clusters),
    as text; None when it has neither and the shipped key is all it needs."""
    declared = getattr(assignment, "declared", ())
    named = [c for c in getattr(assignment, "clusters", ()) if c.grads]
    if not declared and not named:
        return None
    return _declaration_key(declared) + json.dumps(
        [[c.id, c.key, c.title, c.message, dict(c.grads)] for c in named])


def for_assignment(assignment: Any) -> Oracle:
    """The answer key for an assignment: the table's, plus every op its config declares, plus
    the formulas of its named clusters as the ops' own mistakes (derived once per process and
    config, or handed over by `adopt`). Raises DeclarationError for a formula sympy cannot
    use, naming the file and the op or cluster."""
    material = _material(assignment)
    if material is None:
        return load()
    if material not in _DECLARED:
        import sympy as sp

        base = load()
        ops = {**base.ops, **{spec.key: _derive_op(sp, spec) for spec in assignment.declared}}
        for cluster in (c for c in assignment.clusters if c.grads):
            ops[cluster.op] = _with_cluster(sp, assignment.op(cluster.op), ops[cluster.op],
                                            cluster)
        _DECLARED[material] = Oracle(ops=ops, reference=base.reference)
    return _DECLARED[material]


Handover = tuple[str, dict[str, Any]]


def handover(assignment: Any) -> Handover | None:
    """What a batch's worker needs to grade `assignment` without deriving anything: the key's
    material and the ops its config derived, as data (None when the shipped key is enough).
    The batch derives once, before its workers start, and gives them this."""
    material = _material(assignment)
    if material is None:
        return None
    derived, base = for_assignment(assignment), load()
    return material, {key: _op_data(op) for key, op in derived.ops.items()
                      if base.ops.get(key) is not op}


def adopt(given: Handover) -> None:
    """Take a handover in a worker: `for_assignment` then returns it instead of deriving."""
    material, ops = given
    if material not in _DECLARED:
        base = load()
        own = {key: _op_from(key, data) for key, data in ops.items()}
        _DECLARED[material] = Oracle(ops={**base.ops, **own}, reference=base.reference)


def _with_cluster(sp: Any, spec: OpSpec, own: OpOracle, cluster: Any) -> OpOracle:
    """`own` with a named cluster's formulas as its first catalogued mistake: a submission
    whose numbers they reproduce at its own probe points is told the cluster's message."""
    from dataclasses import replace

    symbols = {name: sp.Symbol(name, real=True) for name in SYMBOLS}
    names = spec.symbols or tuple(dict.fromkeys((*spec.inputs, *spec.domains[0])))
    read = _declared_reader(sp, replace(spec, symbols=names), symbols, cluster.origin)
    grads = {name: _formula(sp, _tidy(sp, read(text, f"mistake {name}"), spec), name)
             for name, text in cluster.grads.items()}
    title = cluster.title or SHARED_MISTAKE
    mistake = MistakeFormula(cluster.key, grads, cluster.message, title, True)
    return replace(own, mistakes=(mistake, *own.mistakes))


SHARED_MISTAKE = "makes a mistake your class shares"


def declared_op(spec: OpSpec) -> OpOracle:
    """The oracle of one declared op (the probe planner tests its points against it)."""
    key = _declaration_key((spec,))
    if key not in _SINGLE:
        import sympy as sp

        _SINGLE[key] = _derive_op(sp, spec)
    return _SINGLE[key]


_SINGLE: dict[str, OpOracle] = {}


def _declaration_key(specs: tuple[OpSpec, ...]) -> str:
    from graders.spec.declared import op_to_data

    return json.dumps([[spec.key, op_to_data(spec), spec.inputs, spec.reuse_value]
                       for spec in specs], sort_keys=True)


@cache
def _digest(material: str) -> str:
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def fingerprint(assignment: Any = None) -> str:
    """A digest of every expected formula: part of the grader id, so a grade made under another
    answer key (another sympy, another table, another declared op) is regraded, never kept as
    unchanged."""
    return _digest(json.dumps(_to_json(for_assignment(assignment)), sort_keys=True))
