"""Loading submissions: notebooks as a fresh kernel runs them, and a clear word for bad files."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graders.api import grade
from graders.report.gradescope import gradescope
from graders.run.loader import SubmissionError, load
from graders.spec.optable import BACKPROP
from tests import corpus

NO_PACKAGES = replace(BACKPROP, packages=())  # an assignment whose sandbox has no numpy


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize("nbformat", [3, 4])
def test_notebook_versions_grade_like_the_python_file(tmp_path, nbformat):
    path = write(tmp_path, "sub.ipynb", corpus.as_notebook(corpus.BASE.read_text(),
                                                           nbformat=nbformat))
    result = grade(path)
    assert result.problem is None
    assert result.score == result.max_score


def test_magics_and_shell_lines_are_never_run(tmp_path):
    marker = tmp_path / "pwned"
    extra = (
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": f"!touch {marker}\n%matplotlib inline\nx = 1"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": f"%%bash\ntouch {marker}"},
    )
    path = write(tmp_path, "sub.ipynb",
                 corpus.as_notebook(corpus.BASE.read_text(), extra_cells=extra))
    result = grade(path)
    assert not marker.exists()
    assert result.score == result.max_score
    assert any("shell commands" in note for note in result.notes)
    assert any("%%bash" in note for note in result.notes)


def test_stored_outputs_earn_nothing_and_raising_cells_do_not_stop_the_run(tmp_path):
    broken = corpus.mutant("mul_swapped").source()
    extra = (
        {"cell_type": "code", "metadata": {}, "execution_count": 3, "source": "1/0",
         "outputs": [{"output_type": "stream", "name": "stdout",
                      "text": "24.7041\n138.8338\n645.5773\n"}]},
    )
    path = write(tmp_path, "sub.ipynb", corpus.as_notebook(broken, extra_cells=extra))
    result = grade(path, seed=2)
    assert any("ZeroDivisionError" in line for line in result.cell_errors)
    without = grade(write(tmp_path, "plain.ipynb", corpus.as_notebook(broken)), seed=2)
    assert {o.key: o.points for o in result.ops} == {o.key: o.points for o in without.ops}


def test_last_definition_of_value_wins(tmp_path):
    wrong = corpus.mutant("tanh_input_for_output").source()
    source = wrong + "\n\n\n" + corpus.BASE.read_text()
    result = grade(write(tmp_path, "twice.py", source))
    assert result.score == result.max_score


@pytest.mark.parametrize("name, content, words", [
    ("notes.ipynb", "this is not json", "not a notebook"),
    ("cut.ipynb", corpus.as_notebook("x = 1\n")[:-25], "truncated JSON"),
    ("empty.ipynb", json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                "cells": [{"cell_type": "markdown", "metadata": {},
                                           "source": "hi"}]}), "no code"),
    ("latin.py", "# caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("report.pdf", "%PDF-1.4", "not a notebook (.ipynb) or Python file"),
])
def test_unusable_files_get_zero_and_a_named_problem(tmp_path, name, content, words):
    result = grade(write(tmp_path, name, content))
    assert words in result.problem
    assert name in result.problem
    data = gradescope(result)
    assert data["score"] == 0 and data["tests"], "every op still has a row"
    assert words in data["output"]


def test_syntax_error_names_cell_and_line(tmp_path):
    source = corpus.BASE.read_text().replace("def relu(self):", "def relu(self)")
    path = write(tmp_path, "sub.ipynb", corpus.as_notebook(source))
    result = grade(path)
    blocks = [b for b in source.split("\n\n\n") if b.strip()]
    cell = next(i for i, b in enumerate(blocks) if "def relu(self)\n" in b)
    line = blocks[cell].split("\n").index("    def relu(self)") + 1
    assert result.score == 0
    # Cell numbers count every cell a student sees, the leading markdown cell included.
    assert f"cell {cell + 2}, line {line}: SyntaxError" in result.problem


def test_missing_value_class_and_imported_value_are_explained(tmp_path):
    none = grade(write(tmp_path, "none.py", "class Node:\n    pass\n"))
    assert "does not define a class named `Value`" in none.problem
    imported = grade(write(tmp_path, "imp.py", "from micrograd.engine import Value\n"))
    assert imported.score == 0
    assert "Value" in imported.problem
    assert any("micrograd" in line for line in imported.cell_errors)


def test_symlinked_submission_is_refused(tmp_path):
    target = write(tmp_path, "real.py", corpus.BASE.read_text())
    link = tmp_path / "link.py"
    link.symlink_to(target)
    assert "symbolic link" in grade(link).problem


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_loader_never_crashes_on_arbitrary_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "sub.ipynb"
    path.write_bytes(data)
    try:
        program = load(path)
    except SubmissionError as error:
        assert str(path) in str(error)
    else:
        assert program.cells


def test_a_hanging_top_level_cell_is_skipped_and_the_rest_still_graded(tmp_path):
    from graders.model import Limits

    hang = ({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": "print('before')\nwhile True:\n    pass"},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": "print('after')"})
    path = write(tmp_path, "hang.ipynb",
                 corpus.as_notebook(corpus.BASE.read_text(), extra_cells=hang))
    blocks = [b for b in corpus.BASE.read_text().split("\n\n\n") if b.strip()]
    hanging_cell = len(blocks) + 2  # after the markdown cell and the code cells
    result = grade(path, limits=Limits(cell_seconds=2, submission_seconds=30))
    assert result.score == result.max_score
    assert result.summary_lines()[0] == (f"cell {hanging_cell} ran past the 2 s time limit "
                                         "and was interrupted")
    assert "before" in result.output and "after" in result.output


def test_a_file_that_defines_value_then_loops_forever_is_still_graded(tmp_path):
    from graders.model import Limits

    path = write(tmp_path, "loop.py", corpus.BASE.read_text() + "\nwhile True:\n    pass\n")
    result = grade(path, limits=Limits(cell_seconds=1, submission_seconds=30))
    assert result.problem is None and result.score == result.max_score
    assert result.summary_lines()[0] == "the file ran past the 1 s time limit and was interrupted"


def test_a_cell_that_swallows_its_interrupt_is_skipped_after_a_grace(tmp_path):
    from graders.model import Limits

    stubborn = ({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                 "source": "while True:\n    try:\n        while True:\n            pass\n"
                           "    except BaseException:\n        pass"},)
    path = write(tmp_path, "stubborn.ipynb",
                 corpus.as_notebook(corpus.BASE.read_text(), extra_cells=stubborn))
    result = grade(path, limits=Limits(cell_seconds=1, submission_seconds=30))
    assert result.score == result.max_score
    assert any("did not finish" in note and "skipped" in note for note in result.notes)


def test_stored_outputs_do_not_count_against_the_size_limit(tmp_path):
    plot = {"output_type": "display_data", "metadata": {},
            "data": {"image/png": "iVBORw0KGgo" * 1_000_000, "text/plain": "<Figure>"}}
    nb = json.loads(corpus.as_notebook(corpus.BASE.read_text()))
    next(cell for cell in nb["cells"] if cell["cell_type"] == "code")["outputs"] = [plot]
    path = write(tmp_path, "plots.ipynb", json.dumps(nb))
    assert path.stat().st_size > 9 * 1024 * 1024
    result = grade(path)
    assert result.problem is None and result.score == result.max_score


@pytest.mark.parametrize("name,content", [("missing.py", None), ("bad.ipynb", '{"cells": ['),
                                          ("notes.txt", "hello")])
def test_no_isolation_warning_where_no_student_code_ran(tmp_path, name, content):
    path = tmp_path / name if content is None else write(tmp_path, name, content)
    result = grade(path)
    assert result.problem and result.isolation == "none"
    assert not any("weak isolation" in line for line in result.summary_lines())


def test_plotting_imports_are_stood_in_and_numpy_is_explained(tmp_path):
    top = ("import math\nimport matplotlib.pyplot as plt\nfrom IPython.display import display\n"
           "from kit.viz import draw_dot\n")
    plots = ("xs = [x / 4 for x in range(-20, 20)]\nplt.plot(xs, [math.tanh(x) for x in xs])\n"
             "plt.grid(); plt.show()\ndisplay(draw_dot(Value(2.0) * Value(3.0)))\n")
    source = "\n\n\n".join(["import numpy as np", top, corpus.BASE.read_text(), plots])
    result = grade(write(tmp_path, "plots.ipynb", corpus.as_notebook(source)),
                   assignment=NO_PACKAGES)
    assert result.score == result.max_score
    assert not any("stand-in" in note for note in result.notes)  # nothing a student can act on
    assert any("numpy cannot be imported" in note for note in result.notes)
    assert [line for line in result.cell_errors if "numpy" in line]


def test_a_stood_in_module_cannot_supply_value(tmp_path):
    result = grade(write(tmp_path, "imp.py", "from kit.engine import Value\n"))
    assert result.score == 0
    assert "Value" in result.problem


def test_a_failed_import_does_not_drop_the_rest_of_the_cell(tmp_path):
    """The lecture's first cell imports numpy, then math: a sandbox without numpy (an
    assignment with `packages = []`) still runs `import math`, as a kernel that had numpy did,
    and numpy, if used, says why."""
    first = "import numpy as np\nimport math\nfrom numpy import array as arr, zeros\n"
    code = corpus.BASE.read_text().replace("import math\n", "", 1)
    uses = "\n\n\ntry:\n    np.zeros(3)\nexcept ImportError as error:\n    print('said:', error)\n"
    result = grade(write(tmp_path, "lecture.ipynb", corpus.as_notebook(first + "\n\n\n" + code
                                                                        + uses)),
                   assignment=NO_PACKAGES)
    assert result.score == result.max_score
    assert "said: No module named 'numpy'" in result.output
    assert any("numpy cannot be imported" in note for note in result.notes)


@pytest.mark.parametrize("future", ["", "from __future__ import annotations\n"])
def test_a_statement_that_uses_a_missing_module_does_not_drop_the_class_after_it(tmp_path,
                                                                                 future):
    """A repository's own helper module beside the student's file is not in the sandbox: the
    line that uses it fails and is skipped, the class below it is defined all the same, and
    `-> Value` annotations stay lazy under the cell's own `from __future__` line."""
    code = corpus.BASE.read_text()
    if future:  # without it, the annotation itself is a NameError in the student's kernel too
        code = code.replace("def __add__(self, other):",
                            "def __add__(self, other: Value) -> Value:")
    head = future + "from utils import RNG\nrandom = RNG(42)\nrandom.seed(1)\n"
    result = grade(write(tmp_path, "engine.py", head + code))
    assert result.problem is None and result.score == result.max_score
    errors = [line for line in result.cell_errors if "utils" in line]
    assert len(errors) == 2  # the import, and the first line that needed it


def test_an_op_the_class_lacks_is_not_implemented_not_an_error(tmp_path):
    source = corpus.BASE.read_text()
    start, end = source.index("    def __rtruediv__"), source.index("    def __neg__")
    result = grade(write(tmp_path, "partial.py", source[:start] + source[end:]))
    failing = {op.key: op for op in result.ops if not op.passed}
    assert set(failing) == {"rtruediv", "reference_example"}  # the example computes 10.0 / f
    missing = failing["rtruediv"]
    assert missing.points == 0 and failing["reference_example"].root_cause == "rtruediv"
    assert "`Value` has no method `__rtruediv__`, which this assignment grades (1 point)" \
        in missing.error
    from graders.report.sections import NOT_IMPLEMENTED, verdict

    assert verdict(missing) == NOT_IMPLEMENTED


def test_a_class_named_like_value_gets_a_hint_about_the_name(tmp_path):
    result = grade(write(tmp_path, "lower.py", "class value:\n    pass\n"))
    assert "it defines `value`" in result.problem and "capital V" in result.problem


def test_an_import_error_from_another_cells_function_is_not_a_failed_import_here():
    """cell 2 calls a function of cell 1 whose import fails: cell 2's own imports stay real,
    nothing runs twice, and the error is reported once."""
    import builtins

    from graders.run import harness

    cells = ["def helper():\n    import no_such_module_xyz\n",
             "import math\nimport json\nhelper()\nclass Value: pass\n"]
    namespace = {"__name__": "__main__", "__builtins__": builtins}

    class Channel:
        def send(self, record):
            pass

    statuses = harness.run_cells([{"index": i + 1, "source": s} for i, s in enumerate(cells)],
                                 Channel(), namespace)
    assert [s["status"] for s in statuses if s["index"] == 2] == ["error"]
    assert type(namespace["json"]).__name__ == "module" and "Value" not in namespace
