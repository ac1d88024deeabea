"""The oracle's cache is data: a tampered cache is re-derived, never run."""

from __future__ import annotations

import json

import pytest

from graders.judge import oracle


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADKIT_CACHE", str(tmp_path))
    oracle.load.cache_clear()
    yield tmp_path
    oracle.load.cache_clear()


def test_a_tampered_cache_is_derived_again_and_never_run(private_cache, tmp_path):
    first = oracle.load()
    (path,) = private_cache.glob("oracle-*.json")
    marker = tmp_path / "pwned"
    data = json.loads(path.read_text())
    data["ops"]["tanh"]["derivative"]["x"][0] = f"__import__('pathlib').Path('{marker}').touch()"
    path.write_text(json.dumps(data))
    oracle.load.cache_clear()
    again = oracle.load()
    assert again.ops["tanh"].derivative["x"](x=0.5) == first.ops["tanh"].derivative["x"](x=0.5)
    assert not marker.exists()
    assert "__import__" not in path.read_text()


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


def test_markup_in_a_tampered_cache_never_reaches_a_report(private_cache):
    oracle.load()
    (path,) = private_cache.glob("oracle-*.json")
    data = json.loads(path.read_text())
    data["ops"]["tanh"]["derivative"]["x"][3] = MATHML.format("<!--><img src=x>-->")
    path.write_text(json.dumps(data))
    oracle.load.cache_clear()
    assert "<img" not in oracle.load().ops["tanh"].derivative["x"].mathml
    assert "<img" not in path.read_text()
