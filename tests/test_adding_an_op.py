"""docs/architecture.md's promise: an op added to the table alone is graded by every layer."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

from tests.conftest import ROOT

SIN_ROW = '''OPS: tuple[OpSpec, ...] = (
    OpSpec(key="sin", task="2.15", title="sin(a)", build="x.sin()", value="sin(x)",
           inputs=("x",), domains=(_dom(x=ANY),), points=1, method="sin", optional=True),'''

SIN_METHOD = '''    def sin(self):
        out = Value(math.sin(self.data), (self,), "sin")
        def _backward():
            self.grad += {derivative} * out.grad
        out._backward = _backward
        return out

    def backward(self):'''

CHECK = textwrap.dedent("""
    import json, sys
    from graders.api import grade
    from graders.spec.assignments import from_data
    assignment = from_data({"points": {"sin": 1}}, "test")
    for name in ("right", "wrong"):
        op = next(op for op in grade(name + ".py", assignment=assignment, seed=5).ops
                  if op.key == "sin")
        print(name, op.status, op.points, op.diagnosis.key if op.diagnosis else None)
""")


def test_a_sin_row_in_the_table_is_graded_with_nothing_else_edited(tmp_path):
    for part in ("graders", "kit"):
        shutil.copytree(ROOT / part, tmp_path / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    table = tmp_path / "graders" / "spec" / "optable.py"
    table.write_text(table.read_text().replace("OPS: tuple[OpSpec, ...] = (", SIN_ROW, 1))
    honest = (ROOT / "tests" / "submissions" / "correct" / "lecture_style.py").read_text()
    for name, derivative in (("right", "math.cos(self.data)"), ("wrong", "-math.cos(self.data)")):
        source = honest.replace("    def backward(self):",
                                SIN_METHOD.format(derivative=derivative), 1)
        (tmp_path / f"{name}.py").write_text("import math\n" + source)
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={"GRADKIT_CACHE": str(tmp_path / "cache"),
                                                       "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    right, wrong = done.stdout.split("\n")[:2]
    assert right == "right passed 1.0 None"
    # Only the forward value is right, which earns nothing; the sign error is named.
    assert wrong == "wrong failed 0.0 wrong_sign"
