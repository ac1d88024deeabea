"""numpy in the sandbox (issue 25): lecture code that computes with numpy earns its points on
every path, numpy's numbers are read as numbers, an assignment decides which packages the child
may import (`packages`, numpy by default), and numpy's native and file doors stay shut
(tests/hostile/numpy_doors.py attacks those on every path)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graders.api import grade, grade_class
from graders.run import harness, packages, sandbox
from graders.spec.assignments import ConfigError, from_data, resolve, to_data
from graders.spec.optable import BACKPROP
from tests.conftest import need
from tests.test_hostile import (
    LIMITS,
    container_problem,
    enter_mode,
    grade_as_nobody,
    nobody_grader,  # noqa: F401 - a fixture the user path needs
    user_problem,
)

HERE = Path(__file__).parent
NUMPY_CLASSES = sorted((HERE / "submissions" / "numpy").glob("*.py"))
LECTURE = (HERE / "submissions" / "correct" / "lecture_style.py").read_text()
MODES = ("strong", "weak", "container", "user", "nowall")


def full_marks(result) -> bool:
    return result.score == result.max_score and not result.problem


def grade_in(mode: str, submission: Path, monkeypatch, request, tmp_path, assignment=None):
    """Grade `submission` on one of the suite's paths (tests/test_hostile.py's modes)."""
    if mode == "strong":
        need("bubblewrap")
    if mode == "container" and container_problem():
        pytest.skip(container_problem())
    if mode == "user":
        grader = request.getfixturevalue("nobody_grader")
        if user_problem(grader):
            pytest.skip(user_problem(grader))
        shared = Path(subprocess.check_output(["mktemp", "-d", "/tmp/gradkit-np-XXXX"],
                                              text=True).strip())
        shared.chmod(0o777)
        copy = shared / submission.name
        copy.write_text(submission.read_text())
        copy.chmod(0o644)
        return grade_as_nobody(grader, copy, shared / "results.json", LIMITS, guard=True)
    strong = enter_mode(mode, monkeypatch)
    return grade(submission, seed=7, limits=LIMITS, strong=strong, assignment=assignment)


def test_a_numpy_class_gets_full_marks_in_the_sandbox(monkeypatch, request, tmp_path):
    """np.tanh and np.exp, forward and backward, on the path a grader takes by default."""
    result = grade(NUMPY_CLASSES[0], seed=3, limits=LIMITS)
    assert full_marks(result), [(op.key, op.points) for op in result.ops]


def test_grads_set_by_the_grader_stay_numpy_values_for_a_numpy_class():
    """Closures that read `out.grad.shape` (broadcast reduction) get the upstream gradient as
    the kind of number the class keeps its grads in."""
    result = grade(HERE / "submissions" / "numpy" / "numpy_broadcast.py", seed=4, limits=LIMITS)
    assert full_marks(result), [(op.key, op.points, op.error) for op in result.ops]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("submission", NUMPY_CLASSES, ids=lambda path: path.stem)
def test_numpy_classes_get_full_marks_on_every_path(submission, mode, monkeypatch, request,
                                                    tmp_path):
    result = grade_in(mode, submission, monkeypatch, request, tmp_path)
    points = [(op.key, op.points) for op in result.ops]
    assert result.score == 25, (points, result.output[-800:])


def test_without_packages_importing_numpy_is_a_clear_cell_error(monkeypatch):
    monkeypatch.setattr(sandbox, "GUARD", True)
    assignment = from_data({"packages": []}, "course.toml")
    result = grade(NUMPY_CLASSES[0], seed=3, limits=LIMITS, strong=False,
                   assignment=assignment)
    [cell] = [cell for cell in result.cells if cell.error]
    assert cell.error.startswith("ModuleNotFoundError: No module named 'numpy'")
    assert any("standard library only: numpy cannot be imported" in note
               for note in result.notes)
    assert result.score < result.max_score


def test_the_child_pays_nothing_for_numpy_it_does_not_import(tmp_path):
    """numpy is allowed but not imported: the harness must not import it for the student,
    and BLAS gets one thread per child when it is."""
    probe = tmp_path / "probe.py"
    probe.write_text(LECTURE + "\nimport os, sys\nprint('numpy loaded:', 'numpy' in "
                     "sys.modules, os.environ.get('OPENBLAS_NUM_THREADS'), "
                     "os.environ.get('OMP_NUM_THREADS'))\n")
    result = grade(probe, seed=3, limits=LIMITS, strong=False)
    assert "numpy loaded: False 1 1" in result.output
    assert full_marks(result)


# --- the assignment setting ---------------------------------------------------------------


def test_packages_default_to_numpy_and_travel_with_the_config():
    assert BACKPROP.packages == ("numpy",)
    assert from_data({}, "c.toml").packages == ("numpy",)
    none = from_data({"packages": []}, "c.toml")
    assert none.packages == () and from_data(to_data(none), "again").packages == ()
    assert from_data({"packages": ["numpy", "yaml"]}, "c.toml").packages == ("numpy", "yaml")


@pytest.mark.parametrize("value, words", [
    ('["no_such_package_xyz"]', "'no_such_package_xyz' is not installed in the grader's"),
    ('["ctypes"]', "'ctypes' cannot be allowed"),
    ('["graders"]', "'graders' cannot be allowed"),
    ('["numpy.linalg"]', "not a top-level package name"),
    ('"numpy"', "give a list of package names"),
])
def test_a_package_that_cannot_be_allowed_is_a_one_line_config_error(tmp_path, value, words):
    config = tmp_path / "course.toml"
    config.write_text(f"packages = {value}\n")
    with pytest.raises(ConfigError, match=r"course\.toml: packages") as caught:
        resolve(str(config))
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_the_cli_names_a_missing_package_in_one_line(tmp_path):
    config = tmp_path / "course.toml"
    config.write_text('packages = ["no_such_package_xyz"]\n')
    run = subprocess.run([sys.executable, "-m", "graders", "grade", str(NUMPY_CLASSES[0]),
                          "--config", str(config)], capture_output=True, text=True)
    assert run.returncode == 2 and "no_such_package_xyz" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_package_is_found_with_its_vendored_libraries_only():
    [numpy] = packages.resolve(("numpy", "no_such_package_xyz"))
    assert numpy.origin == str(Path(np.__file__).resolve().parent)
    assert all(Path(lib).name.endswith(".libs") for lib in numpy.libs)
    with pytest.raises(packages.PackageError, match="not installed"):
        packages.resolve(("no_such_package_xyz",), strict=True)


def test_bubblewrap_shows_the_package_read_only_inside_its_hidden_folder(tmp_path):
    [numpy] = packages.resolve(("numpy",))
    command = sandbox._bwrap_command("bwrap", tmp_path, LIMITS, (numpy,))
    at = command.index(numpy.origin)
    assert command[at - 1] == "--ro-bind" and command[at + 1] == numpy.origin
    site = str(Path(numpy.origin).parent)
    if site in command:  # hidden under a tmpfs first, made read-only after the bind
        assert command.index(site) < at < len(command) - command[::-1].index(site)
    assert command.count("--bind") == 0


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [np.float64(0.25), np.float32(0.25), np.int64(3),
                                   np.array(0.25), np.array(3, dtype=np.uint8)])
def test_numpy_real_scalars_and_zero_d_arrays_are_numbers(value):
    got = harness.number(value, "x.grad")
    assert type(got) is float and got == float(value)


@pytest.mark.parametrize("value, words", [
    (np.array([0.25]), "shape (1,), not a number (a size-1 array too"),
    (np.array([[1.0, 2.0]]), "shape (1, 2)"),
    (np.complex128(1j), "complex128"),
    (np.bool_(True), "bool"),
    (np.array("1.0"), "not a real number"),
])
def test_other_numpy_values_are_not_numbers(value, words):
    with pytest.raises(harness.NotANumber, match=r"x\.grad") as caught:
        harness.number(value, "x.grad")
    assert words in str(caught.value)


def test_a_numpy_nan_stays_a_failed_number():
    got = harness.number(np.float32("nan"), "x.grad")
    assert math.isnan(got) and harness.encode(got) == '"nan"'


def test_the_in_kernel_check_reads_numpy_values_the_same_way():
    for submission in NUMPY_CLASSES:
        namespace: dict = {}
        exec(compile(submission.read_text(), str(submission), "exec"), namespace)
        ops, _, _ = grade_class(namespace["Value"], seed=5)
        assert all(op.passed for op in ops), (submission.stem,
                                              [op.key for op in ops if not op.passed])


# --- the guard's rule for native code -------------------------------------------------------


def test_a_package_extension_loads_only_under_its_own_name_at_its_own_place():
    pairs = (("numpy", "/site/numpy"), ("six", "/site/six.cpython-311.so"))
    own = harness._package_native
    assert own(["numpy", "_core", "_umath"], "/site/numpy/_core/_umath.cpython-311.so", pairs)
    assert not own(["numpy", "_core", "_umath"], "/site/numpy/_core/other.so", pairs)
    assert not own(["numpy", "_core", "_umath"], "/site/numpy/_core/_umath.x/y.so", pairs)
    assert not own(["numpy", "_umath"], "/site/numpy/_core/_umath.cpython-311.so", pairs)
    assert not own(["numpy", "_core", "_umath"], "/tmp/scratch/_umath.cpython-311.so", pairs)
    assert not own(["evil"], "/site/numpy/_core/_umath.cpython-311.so", pairs)
    assert own(["six"], "/site/six.cpython-311.so", pairs)
    assert not own(["six", "x"], "/site/six.cpython-311.so/x.so", pairs)
    assert not own(["numpy", "x"], None, pairs)


SNOOP_SITE = """
import os
import numpy
site = os.path.dirname(os.path.dirname(numpy.__file__))
print("SITE", sorted(os.listdir(site)))
try:
    with open(os.path.join(site, "sympy", "__init__.py"), "rb") as handle:
        print("READ sympy", len(handle.read()))
except OSError as error:
    print("sympy refused", type(error).__name__)
"""


@pytest.mark.parametrize("strong", [True, False], ids=["bubblewrap", "landlock"])
def test_below_the_guard_site_packages_shows_numpy_and_nothing_else(strong, tmp_path,
                                                                     monkeypatch):
    """With the guard off: bubblewrap's hidden site-packages holds numpy's binds alone;
    Landlock reads numpy's folders, never the packages beside them (it lets the folder be
    listed, as docs/security.md says: a rule cannot hide a folder inside an allowed one)."""
    need("bubblewrap" if strong else "landlock")
    monkeypatch.setattr(sandbox, "GUARD", False)
    probe = tmp_path / "probe.py"
    probe.write_text(LECTURE + SNOOP_SITE)
    result = grade(probe, seed=3, limits=LIMITS, strong=strong)
    [numpy] = packages.resolve(("numpy",))
    expected = sorted(Path(path).name for path in numpy.paths)
    if strong:
        assert f"SITE {expected}" in result.output, result.output[-600:]
    refused = "FileNotFoundError" if strong else "PermissionError"
    assert f"sympy refused {refused}" in result.output, result.output[-600:]
    assert full_marks(result)
