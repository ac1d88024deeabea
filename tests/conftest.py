"""Helpers every test file needs: run the `gradkit` CLI, find one op's verdict in a result."""

from __future__ import annotations

import fnmatch
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Wall-clock deadlines measure the machine, not the code: on 2 busy cores a 200 ms deadline
# fails examples that are correct. Speed is measured by benchmarks/, never by a test.
settings.register_profile("gradkit", deadline=None)
settings.load_profile("gradkit")

ROOT = Path(__file__).resolve().parents[1]


def _replay_folder() -> None:
    """One folder of replayed gradings per session (tests/fake_grader.py), shared by its
    workers: set before xdist starts them, so they inherit it."""
    import tempfile

    from tests.fake_grader import CACHE

    if not os.environ.get(CACHE):
        os.environ[CACHE] = _MADE[0] = tempfile.mkdtemp(prefix="gradkit-replays-")


_MADE: list[str] = [""]  # the replay folder this process made, removed when it ends


def _wheelhouse_folder() -> None:
    """The session's wheelhouse path (filled on first use, `wheelhouse()` below), chosen
    before xdist starts its workers so that they share it."""
    import tempfile

    if not os.environ.get(WHEELHOUSE):
        os.environ[WHEELHOUSE] = _MADE_WHEELHOUSE[0] = tempfile.mkdtemp(
            prefix="gradkit-wheelhouse-")


def pytest_unconfigure(config) -> None:
    for made in (_MADE[0], _MADE_WHEELHOUSE[0]):
        if made:
            shutil.rmtree(made, ignore_errors=True)


def gradkit(*args: str, cwd: Path = ROOT, timeout: float = 300,
            **kwargs) -> subprocess.CompletedProcess:
    """`gradkit ARGS` as a user runs it (a fresh interpreter), with output captured as text."""
    return subprocess.run([sys.executable, "-m", "graders", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def gradkit_replayed(*args: str) -> subprocess.CompletedProcess:
    """`gradkit ARGS` run in this process with each distinct file graded once and replayed
    (`tests/fake_grader.py`): for tests of what the CLI does around grading (the gradebook,
    grades.csv, regrades, exports, its messages), which `gradkit` above would pay a sandbox per
    student for. Output and exit status as `gradkit` gives them."""
    import contextlib
    import io

    from graders import cli
    from graders.classroom import grading
    from tests.fake_grader import replay_grade

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        patch.setattr(grading, "grade", replay_grade)
        try:
            status = cli.main(list(args))
        except SystemExit as done:  # argparse's usage errors
            status = done.code if isinstance(done.code, int) else 1
    return subprocess.CompletedProcess(["gradkit", *args], status, out.getvalue(),
                                       err.getvalue())


# --- the strong sandbox's parts: skipped where missing, unless CI says they must be here ------

# What the sandbox is built of, each tested where this machine has it. GRADKIT_REQUIRE names
# those a machine must have (a comma list, or `strong` for all three); .ci/run sets it, so a
# CI machine that lost one fails those tests instead of skipping them. GRADKIT_REQUIRE_STRONG=1
# is the same as GRADKIT_REQUIRE=strong.
CAPABILITIES = ("bubblewrap", "cgroups", "landlock")


def required(environ=os.environ) -> frozenset[str]:
    """The capabilities the environment says this machine must have."""
    names = {name.strip().lower() for name in environ.get("GRADKIT_REQUIRE", "").split(",")}
    names.discard("")
    if names & {"strong", "all"} or environ.get("GRADKIT_REQUIRE_STRONG", "") not in ("", "0"):
        names = (names - {"strong", "all"}) | set(CAPABILITIES)
    unknown = names - set(CAPABILITIES)
    if unknown:
        raise pytest.UsageError(f"GRADKIT_REQUIRE: unknown {sorted(unknown)}; "
                                f"known: {', '.join(CAPABILITIES)} or strong")
    return frozenset(names)


@functools.cache
def missing(capability: str) -> str | None:
    """Why `capability` cannot be used on this machine, or None when it can."""
    if capability == "bubblewrap":
        from graders.run.sandbox import bwrap_path
        return None if bwrap_path() else "bubblewrap is missing or cannot make namespaces here"
    if capability == "cgroups":
        from graders.run import cgroups
        made, _ = cgroups.create(64 << 20, 8)
        if made is None:
            return "per-run cgroups cannot be created here (needs root and pids+memory controllers)"
        made.kill()
        return None
    if capability == "landlock":
        from graders.run import wall
        problem = wall.unavailable()
        return f"no OS wall (Landlock + seccomp) here: {problem}" if problem else None
    raise ValueError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")


def need(*capabilities: str, environ=os.environ) -> None:
    """Skip the calling test when this machine lacks one of `capabilities`, or fail it when
    GRADKIT_REQUIRE says the machine must have it. Every test of the sandbox's parts calls
    this (or carries `@pytest.mark.needs(...)`, which calls it), so no skip of them is silent
    where they are required."""
    must = required(environ)
    for capability in capabilities:
        problem = missing(capability)
        if problem is None:
            continue
        if capability in must:
            pytest.fail(f"GRADKIT_REQUIRE names {capability}, but {problem}", pytrace=False)
        pytest.skip(problem)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "needs(*capabilities): skip where one of bubblewrap, "
                            "cgroups, landlock is missing; fail instead where GRADKIT_REQUIRE "
                            "names it (tests/conftest.py `need`)")
    required()  # a misspelt GRADKIT_REQUIRE stops the run before any test
    _replay_folder()
    _wheelhouse_folder()
    _cache_bytecode()


def _cache_bytecode() -> None:
    """Python's default, bytecode cached, for this run and every process it starts (xdist's
    workers inherit it). A machine that sets PYTHONDONTWRITEBYTECODE (this project's CI image
    does) has each of the suite's interpreters compile gradkit from source again: 0.13 of a
    grade's 0.58 CPU-s. Measured on a whole run (4 workers, 2 cores): 856 -> 712 CPU-s, 588 ->
    492 s. The caches land in `__pycache__/`, which .gitignore keeps out."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto`: two workers per core. With one per core, a third of the CPU sat idle (measured
    with `time -v` on 2 cores): tests wait on a child's time limit, a hang being cut, a
    subprocess starting; another worker fills that time."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(2, (cores or 1) * 2)


# The files that take longest (seconds of a whole run on 2 cores, measured 2026-12-05), run
# first: xdist hands out whole files (`--dist loadfile`), so a long one started last keeps one
# worker busy after the others are done, and the suite waits for it. (pyproject's addopts has
# --no-loadscope-reorder: xdist's default reorders files by their number of tests.)
LONGEST_FIRST = ("test_hostile.py", "test_course.py", "test_benchmarks.py", "test_install.py",
                 "test_declared_ops.py", "test_gradescope.py", "test_install_jupyter.py",
                 "test_class_clusters.py", "test_hostile_batch.py", "test_install_sdist.py",
                 "test_dashboard.py", "test_grader.py", "test_browser_rendering.py",
                 "test_diagnosis.py", "test_demo.py", "test_classroom_isolation.py",
                 "test_regrade.py", "test_numpy.py", "test_hostile_text.py")


def pytest_collection_modifyitems(config, items) -> None:
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order kept


def pytest_runtest_setup(item) -> None:
    for mark in item.iter_markers("needs"):
        need(*mark.args)


def op_of(result, key: str):
    """The verdict on op `key` in a graded Result."""
    return next(op for op in result.ops if op.key == key)


@pytest.fixture
def write_submission(tmp_path):
    """Write a submission file into the test's folder and return its path."""
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write


def _ignore_rules(folder: Path) -> list[tuple[str, bool, bool]]:
    """The patterns of `folder`/.gitignore as (pattern, anchored, directories only). Only the
    forms this repository uses are understood; any other form fails loudly rather than
    copying (or leaving out) the wrong files."""
    path = folder / ".gitignore"
    rules = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!") or "**" in line or "\\" in line:
            raise NotImplementedError(f"{path}: {line!r}: extend tests/conftest.py's walker")
        only_dirs = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        rules.append((line.lstrip("/"), anchored, only_dirs))
    return rules


def _ignored(relative: str, is_dir: bool, rules: list[tuple[str, bool, bool]]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return any((not only_dirs or is_dir)
               and fnmatch.fnmatchcase(relative if anchored else name, pattern)
               for pattern, anchored, only_dirs in rules)


def walk_project(root: Path = ROOT) -> list[str]:
    """The files a clone of the project has, found by walking the tree with its .gitignore
    rules (every .gitignore, each for its own folder), for copies without git metadata: what
    `git ls-files --cached --others --exclude-standard` lists."""
    found = []
    scopes: list[tuple[Path, list]] = []

    def visit(folder: Path) -> None:
        scopes.append((folder, _ignore_rules(folder)))
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            path = Path(entry.path)
            is_dir = entry.is_dir(follow_symlinks=False)
            if entry.name == ".git" or any(
                    _ignored(path.relative_to(scope).as_posix(), is_dir, rules)
                    for scope, rules in scopes):
                continue
            if is_dir:
                visit(path)
            else:
                found.append(path.relative_to(root).as_posix())
        scopes.pop()

    visit(root)
    return found


def project_files(root: Path = ROOT) -> list[str]:
    """The project's files as a fresh clone has them: `git ls-files` in a git checkout, else
    (a copy made without .git, an unpacked sdist) the tree walked with its .gitignore rules."""
    if (root / ".git").exists() and shutil.which("git"):
        done = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.splitlines()
    return walk_project(root)


# --- installing gradkit as users get it, with the registry read once per session -----------

# Tests that install gradkit (tests/test_install.py, test_gradescope.py's setup.sh,
# test_classroom_isolation.py's Install step) install the same few dozen packages into fresh
# venvs many times over. Each such pip still installs and resolves for real, but from one
# folder of wheels downloaded from the registry once per session (shared by xdist's workers,
# made under a lock by the first that needs it): `offline_pip_env()` points pip at it alone.
WHEELHOUSE = "GRADKIT_TEST_WHEELHOUSE"
# Installed by some test beside the core: the Jupyter kernel a student's notebook runs in, and
# the build backend an sdist (and `python -m build`) needs.
EXTRA_WHEELS = ("ipykernel", "nbclient", "setuptools>=77")


def _core_requirements() -> list[str]:
    """pyproject's dependencies, the packages student code may import pinned to the versions
    this environment has (what `gradkit gradescope build` pins them to in setup.sh)."""
    from importlib.metadata import version

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], f"numpy=={version('numpy')}", *EXTRA_WHEELS]


def wheelhouse() -> Path:
    """The session's folder of dependency wheels, downloaded on first use."""
    import fcntl
    import tempfile

    if not os.environ.get(WHEELHOUSE):  # a run without pytest_configure (a lone import)
        os.environ[WHEELHOUSE] = _MADE_WHEELHOUSE[0] = tempfile.mkdtemp(
            prefix="gradkit-wheelhouse-")
    folder = Path(os.environ[WHEELHOUSE])
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".complete").exists():
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                 "-d", str(folder), *_core_requirements()],
                capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stderr[-3000:]
            (folder / ".complete").touch()
    return folder


def offline_pip_env(environ=os.environ) -> dict[str, str]:
    """`environ` for the processes of a test venv: pip installing only from the session's
    wheelhouse (no index) and compiling nothing up front, and no PYTHONPATH, so what runs is
    the venv's gradkit, never this checkout. (Python caches the bytecode of what they import:
    `_cache_bytecode`.)"""
    env = {key: value for key, value in environ.items() if key != "PYTHONPATH"}
    # pip reads a flag's environment variable as the value of the option's destination, not of
    # the flag: `--no-compile` sets compile=False, so PIP_NO_COMPILE=1 turns compiling ON (every
    # module of sympy: 27 of a 30 CPU-s install, measured). "0" is `--no-compile`.
    return {**env, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse()),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_COMPILE": "0"}


_MADE_WHEELHOUSE: list[str] = [""]


@pytest.fixture(scope="session")
def gradkit_dist(tmp_path_factory) -> Path:
    """gradkit's wheel and sdist, built with `python -m build` (its isolated build environments
    installed from the wheelhouse) in a folder outside the checkout: once per session, by the
    first xdist worker that asks, under a lock; the others wait and share it."""
    import fcntl

    from tests.nbgrader_class import base_folder

    base = base_folder(tmp_path_factory)
    out = base / "gradkit-dist"
    with open(base / "gradkit-dist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / ".complete").is_file():
            shutil.rmtree(out, ignore_errors=True)  # a build that died halfway
            out.mkdir()
            done = subprocess.run(
                [sys.executable, "-m", "build", "--wheel", "--sdist", "-o", str(out), str(ROOT)],
                cwd=out, env=offline_pip_env(), capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            (out / ".complete").touch()
    return out


@pytest.fixture(scope="session")
def nbgrader_class(tmp_path_factory):
    """One nbgrader class, autograded by the real `nbgrader` CLI once per session, shared by
    the tests that read its gradebook and feedback (tests/nbgrader_class.py says who is in it)."""
    from tests import nbgrader_class as made

    return made.shared(made.base_folder(tmp_path_factory))
