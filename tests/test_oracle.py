"""The oracle is data checked before it is evaluated, derived in memory, never read from disk."""

from __future__ import annotations

import pytest

from graders.judge import oracle


@pytest.mark.parametrize("code", [
    "__import__('os').system('true')", "x.__class__", "(lambda: 1)()", "'text'",
    "mpmath.__dict__", "open('/etc/passwd')",
])
def test_only_arithmetic_is_accepted(code):
    with pytest.raises(ValueError):
        oracle.check_arithmetic(code)


def test_every_derived_formula_is_plain_arithmetic():
    for formula in oracle._formulas(oracle.derive()):
        oracle.check_arithmetic(formula.code)


MATHML = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">{}</math>'


@pytest.mark.parametrize("body", [
    "<!--><img src=x onerror=alert(1)>-->", "<?x ><img src=x onerror=alert(1)>?>",
    "<![CDATA[<img src=x onerror=alert(1)>]]>", '<mi href="javascript:alert(1)">x</mi>',
    "<mi>x</mi><script>alert(1)</script>", '<mi style="color:red">x</mi>', "<mi>x",
])
def test_only_mathml_markup_is_accepted(body):
    with pytest.raises(ValueError):
        oracle.check_mathml(MATHML.format(body))


def test_a_product_is_shown_with_a_visible_dot():
    """MathML's invisible times makes `out.grad·y` read as one name, "out.grady"."""
    shown = [formula.mathml for formula in oracle._formulas(oracle.load()) if formula.mathml]
    assert shown and not [m for m in shown if "&InvisibleTimes;" in m]
    assert any("<mi>out.grad</mi><mo>&#xB7;</mo><mi>y</mi>" in m for m in shown)


def test_formula_text_never_shows_raw_sympy():
    """relu's mistakes sit inside sums: `g + (0 if x <= 0 else 1)`, not `Piecewise((0, ...`."""
    texts = [formula.text for formula in oracle._formulas(oracle.load())]
    assert not [t for t in texts if "Piecewise" in t]
    assert "g + (0 if x <= 0 else 1)" in texts
