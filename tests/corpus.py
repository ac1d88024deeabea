"""The submission corpus: correct implementations in several styles, and one-mistake mutants.

Mutants are made by textual edits of one honest base (the lecture's style), so each differs
from a full-marks submission by exactly one mistake. `breaks` names the op the mistake is in;
`DEPENDS` says which graded ops use it in the base, so a mutant may cost points there and
nowhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SUBMISSIONS = Path(__file__).parent / "submissions"
CORRECT = sorted((SUBMISSIONS / "correct").glob("*.py"))
BASE = SUBMISSIONS / "correct" / "lecture_style.py"

# In the lecture's style, derived ops are built from primitives: which ops use which.
REFERENCE_USES = {"add", "mul", "pow", "relu", "backward"}
DEPENDS: dict[str, set[str]] = {
    "add": {"add", "radd", "sub", "rsub"},
    "mul": {"mul", "rmul", "neg", "sub", "rsub", "truediv", "rtruediv"},
    "pow": {"pow", "truediv", "rtruediv"},
    "relu": {"relu"},
    "tanh": {"tanh"},
    "exp": {"exp"},
    "backward": {"backward"},
    "rsub": {"rsub"},
}
for _key, _users in DEPENDS.items():
    if _key in REFERENCE_USES:
        _users.add("reference_example")


@dataclass(frozen=True)
class Mutant:
    name: str
    breaks: str
    mistake: str  # the catalogue key a diagnosis should name ("" for behaviours not in it)
    edits: tuple[tuple[str, str], ...]

    def source(self) -> str:
        text = BASE.read_text()
        for old, new in self.edits:
            if old not in text:
                raise ValueError(f"mutant {self.name}: {old!r} not in the base")
            text = text.replace(old, new)
        return text

    @property
    def may_lose(self) -> set[str]:
        return DEPENDS[self.breaks]


ADD_SELF = "self.grad += 1.0 * out.grad"
ADD_OTHER = "other.grad += 1.0 * out.grad"
MUL_SELF = "self.grad += other.data * out.grad"
MUL_OTHER = "other.grad += self.data * out.grad"
POW = "self.grad += other * (self.data ** (other - 1)) * out.grad"
TANH = "self.grad += (1 - t**2) * out.grad"
EXP = "self.grad += out.data * out.grad"
RELU = "self.grad += (out.data > 0) * out.grad"

MUTANTS: tuple[Mutant, ...] = (
    Mutant("add_no_upstream", "add", "no_upstream",
           ((ADD_SELF, "self.grad += 1.0"), (ADD_OTHER, "other.grad += 1.0"))),
    Mutant("add_assign", "add", "assign_not_accumulate",
           ((ADD_SELF, "self.grad = 1.0 * out.grad"),
            (ADD_OTHER, "other.grad = 1.0 * out.grad"))),
    Mutant("add_forgets_other", "add", "not_updated", ((ADD_OTHER, "pass"),)),
    Mutant("mul_swapped", "mul", "swapped_operands",
           ((MUL_SELF, "self.grad += self.data * out.grad"),
            (MUL_OTHER, "other.grad += other.data * out.grad"))),
    Mutant("mul_assign", "mul", "assign_not_accumulate",
           ((MUL_SELF, "self.grad = other.data * out.grad"),
            (MUL_OTHER, "other.grad = self.data * out.grad"))),
    Mutant("mul_no_upstream", "mul", "no_upstream",
           ((MUL_SELF, "self.grad += other.data"), (MUL_OTHER, "other.grad += self.data"))),
    Mutant("mul_forgets_other", "mul", "not_updated", ((MUL_OTHER, "pass"),)),
    Mutant("pow_no_minus_one", "pow", "no_minus_one",
           ((POW, "self.grad += other * (self.data ** other) * out.grad"),)),
    Mutant("pow_no_coefficient", "pow", "no_coefficient",
           ((POW, "self.grad += (self.data ** (other - 1)) * out.grad"),)),
    Mutant("tanh_input_for_output", "tanh", "input_for_output",
           ((TANH, "self.grad += (1 - x**2) * out.grad"),)),
    Mutant("tanh_missing_square", "tanh", "missing_square",
           ((TANH, "self.grad += (1 - t) * out.grad"),)),
    Mutant("tanh_wrong_sign", "tanh", "wrong_sign",
           ((TANH, "self.grad -= (1 - t**2) * out.grad"),)),
    Mutant("tanh_assign", "tanh", "assign_not_accumulate",
           ((TANH, "self.grad = (1 - t**2) * out.grad"),)),
    Mutant("exp_input_for_output", "exp", "input_for_output",
           ((EXP, "self.grad += x * out.grad"),)),
    Mutant("exp_no_upstream", "exp", "no_upstream", ((EXP, "self.grad += out.data"),)),
    Mutant("relu_inverted_mask", "relu", "inverted_mask",
           ((RELU, "self.grad += (out.data <= 0) * out.grad"),)),
    Mutant("relu_no_mask", "relu", "no_mask", ((RELU, "self.grad += out.grad"),)),
    Mutant("backward_no_reverse", "backward", "no_reverse",
           (("for node in reversed(topo):", "for node in topo:"),)),
    Mutant("backward_no_seed", "backward", "no_seed", (("self.grad = 1.0\n", "pass\n"),)),
    Mutant("backward_no_visited", "backward", "no_visited",
           (("if v not in visited:", "if True:"),)),
    # More of the catalogue (graders/spec/optable.py), so the diagnosis is measured on every entry.
    Mutant("mul_upstream_assign", "mul", "upstream_assign",
           ((MUL_SELF, "self.grad = other.data"), (MUL_OTHER, "other.grad = self.data"))),
    Mutant("pow_precedence", "pow", "exponent_precedence",
           ((POW, "self.grad += other * (self.data ** other - 1) * out.grad"),)),
    Mutant("pow_k_minus_one_coefficient", "pow", "exponent_not_lowered_coefficient",
           ((POW, "self.grad += (other - 1) * (self.data ** (other - 1)) * out.grad"),)),
    Mutant("tanh_missing_one_minus", "tanh", "missing_one_minus",
           ((TANH, "self.grad += t**2 * out.grad"),)),
    Mutant("relu_output_as_mask", "relu", "output_as_mask",
           ((RELU, "self.grad += out.data * out.grad"),)),
    Mutant("backward_recursive", "backward", "no_topological_sort",
           (("build_topo(self)\n\n        self.grad = 1.0\n        for node in reversed(topo):\n"
             "            node._backward()",
             "self.grad = 1.0\n        done = set()\n\n        def run(v):\n"
             "            if v not in done:\n                done.add(v)\n"
             "                v._backward()\n                for child in v._prev:\n"
             "                    run(child)\n        run(self)"),)),
    # Named from what the child saw (optable.OBSERVED_MISTAKES), not from the gradients.
    Mutant("add_closure_on_input", "add", "closure_on_input",
           ((ADD_OTHER + "\n        out._backward = _backward",
             ADD_OTHER + "\n        self._backward = _backward"),)),
    Mutant("rsub_wrong_forward", "rsub", "wrong_forward",
           (("return other + (-self)", "return self - other"),)),
    Mutant("backward_shared_state", "backward", "shared_state",
           (("def backward(self):\n        topo = []\n        visited = set()",
             "def backward(self, topo=[], visited=set()):"),)),
)


def mutant(name: str) -> Mutant:
    return next(m for m in MUTANTS if m.name == name)


def as_notebook(source: str, *, split_on: str = "\n\n\n", nbformat: int = 4,
                extra_cells: tuple[dict, ...] = ()) -> str:
    """Wrap Python source as a notebook, one code cell per top-level block, with noise cells."""
    blocks = [block for block in source.split(split_on) if block.strip()]
    if nbformat == 3:
        cells = [{"cell_type": "code", "input": block, "language": "python",
                  "outputs": [], "metadata": {}} for block in blocks]
        return json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                           "worksheets": [{"cells": cells, "metadata": {}}]})
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# My micrograd"}]
    cells += [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": block} for block in blocks]
    cells += list(extra_cells)
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
