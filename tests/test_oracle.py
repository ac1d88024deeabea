"""The oracle is data checked before it is evaluated: the built-in key ships as a file whose
digest is pinned in code and which a fresh sympy derivation reproduces byte for byte; declared
ops are derived in memory, once per batch."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from graders.judge import oracle
from graders.spec.assignments import BUILTIN, resolve

ROOT = Path(__file__).resolve().parents[1]


def test_a_fresh_derivation_reproduces_the_shipped_answer_key_byte_for_byte():
    text = oracle.answer_key_text(oracle.derive())
    shipped = oracle.ANSWER_KEY.read_bytes()
    assert text.encode() == shipped, "run `python -m graders.docgen` to regenerate it"
    assert hashlib.sha256(shipped).hexdigest() == oracle.ANSWER_KEY_SHA256
    assert oracle.load() == oracle.derive()


def test_a_changed_answer_key_is_refused_not_graded_with(tmp_path, monkeypatch):
    data = json.loads(oracle.ANSWER_KEY.read_text(encoding="utf-8"))
    data["ops"]["mul"]["derivative"]["x"][0] = "2*y"  # a key that would pass a wrong mul
    forged = tmp_path / "answer_key.json"
    forged.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(oracle, "ANSWER_KEY", forged)
    with pytest.raises(oracle.AnswerKeyError, match="not the pinned"):
        oracle._read_answer_key()
    forged.unlink()
    with pytest.raises(oracle.AnswerKeyError, match="cannot read"):
        oracle._read_answer_key()


def test_a_row_added_or_edited_since_the_key_was_written_is_derived_not_misgraded(monkeypatch):
    """The shipped key is used only for the rows it was derived from: an op added to the table
    (one row, nothing else edited) or a row whose formula changed is derived with sympy."""
    from dataclasses import replace

    from graders.spec import optable

    tanh = optable.op("tanh")
    edited = replace(tanh, value="x")  # the row now says tanh's forward is x: derivative 1
    added = replace(optable.op("exp"), key="exp2", method="exp2")
    rows = (*(edited if spec.key == "tanh" else spec for spec in optable.OPS), added)
    monkeypatch.setattr(optable, "OPS", rows)
    key = oracle._read_answer_key()
    assert key.ops["tanh"].derivative["x"].code == "1"
    assert key.ops["exp2"].derivative["x"].code == oracle.load().ops["exp"].derivative["x"].code
    assert key.ops["mul"] is not None and key.ops["mul"] == oracle.load().ops["mul"]


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_grading_a_built_in_assignment_never_imports_sympy():
    out = _run(
        "import sys\n"
        "from graders.api import grade\n"
        "result = grade('tests/submissions/correct/lecture_style.py')\n"
        "print(result.score, result.max_score, 'sympy' in sys.modules)\n")
    score, top, imported = out.split()
    assert score == top and imported == "False"


def test_a_worker_adopts_the_batchs_derivation_instead_of_deriving(tmp_path):
    """The batch derives a config's declared ops once; a worker given the handover grades with
    the same key (same fingerprint) and never imports sympy."""
    config = str(ROOT / "examples" / "custom-ops" / "course.toml")
    assignment = resolve(config)
    given = oracle.handover(assignment)
    assert given is not None and oracle.handover(BUILTIN["backprop"]) is None
    (tmp_path / "given.json").write_text(json.dumps(given), encoding="utf-8")
    out = _run(
        "import json, sys\n"
        "from graders.judge import oracle\n"
        "from graders.spec.assignments import resolve\n"
        f"assignment = resolve({config!r})\n"
        f"oracle.adopt(json.load(open({str(tmp_path / 'given.json')!r})))\n"
        "print(oracle.fingerprint(assignment), 'sympy' in sys.modules)\n")
    fingerprint, imported = out.split()
    assert fingerprint == oracle.fingerprint(assignment) and imported == "False"


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
