"""The adversarial suite: every payload in tests/hostile/ gains nothing and leaves nothing running.

Each payload is spliced into the honest lecture-style submission carrying one known mistake (tanh's
gradient uses `1 - t`), and graded with the same seed as that base. A forged pass would show as an
op scoring more than the base; a crash or hang may cost only the ops its header names. After each
grade no process the payload started may be alive, and no run cgroup may be left behind.
"""

from __future__ import annotations

import functools
import os
import re
import socket
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import graders
from graders.api import grade
from graders.atomic import write_json_atomic
from graders.model import Limits
from graders.report.gradescope import gradescope
from graders.run import accounts, cgroups, sandbox
from graders.run.sandbox import child_python
from tests.conftest import need

HERE = Path(__file__).parent
HONEST = (HERE / "submissions" / "correct" / "lecture_style.py").read_text()
RIGHT, WRONG = "self.grad += (1 - t**2) * out.grad", "self.grad += (1 - t) * out.grad"
BASE = HONEST.replace(RIGHT, WRONG)
SEED = 20240611
LIMITS = Limits(memory_bytes=256 << 20, processes=32, group_seconds=3.0,
                submission_seconds=20.0, output_bytes=64 << 10)
HANG_LIMITS = Limits(memory_bytes=256 << 20, processes=32, group_seconds=2.0,
                     submission_seconds=3.0, output_bytes=64 << 10)
ANCHORS = {"tanh": "def tanh(self):", "exp": "def exp(self):"}


@dataclass(frozen=True)
class Payload:
    name: str
    text: str
    where: str
    hits: frozenset[str]
    modes: tuple[str, ...]
    needs: frozenset[str]

    @property
    def description(self) -> str:
        return self.header("hostile")

    def header(self, key: str) -> str:
        match = re.search(rf"^# {key}: (.*)$", self.text, re.MULTILINE)
        return match.group(1).strip() if match else ""


def load_payload(path: Path) -> Payload:
    text = path.read_text()
    bare = Payload(path.stem, text, "", frozenset(), (), frozenset())
    where = bare.header("where")
    hits = set(bare.header("hits").split())
    if where in ANCHORS:
        hits.add(where)  # the op it sabotages may lose its own points, never more
    return Payload(
        name=path.stem,
        text=text,
        where=where,
        hits=frozenset(hits),
        modes=tuple(bare.header("modes").split()),
        needs=frozenset(bare.header("needs").split()),
    )


PAYLOADS = [load_payload(p) for p in sorted((HERE / "hostile").glob("*.py"))]


def splice(payload: Payload, values: dict[str, str]) -> str:
    """The honest-but-mistaken base with the payload put where its header says."""
    code = payload.text
    for key, value in values.items():
        code = code.replace(key, value)
    if payload.where == "end":
        return BASE + "\n\n" + code
    if payload.where == "start":
        return code + "\n\n" + BASE
    anchor = BASE.index(ANCHORS[payload.where])
    at = BASE.index("def _backward():\n", anchor) + len("def _backward():\n")
    body = "".join(f"            {line}\n" if line.strip() else "\n"
                   for line in code.splitlines())
    return BASE[:at] + body + BASE[at:]


@functools.cache
def container_problem() -> str | None:
    """Why the simulated container (root, no bubblewrap, no cgroup) cannot give the child a uid
    of its own here, or None when it can."""
    if os.geteuid() != 0:
        return "the simulated container needs a root grader"
    return accounts.unreachable(child_python())


MODES = {
    # mode: (bubblewrap?, cgroups?, guard?, Landlock + seccomp?)
    "strong": (True, True, True, True), "weak": (False, True, True, True),
    "container": (False, False, True, True), "user": (False, False, True, True),
    "nowall": (False, True, True, False), "uid0": (False, True, True, True),
    "uid0-bare": (False, True, False, True),
    "strong-bare": (True, True, False, True), "weak-bare": (False, True, False, True),
    "container-bare": (False, False, False, True), "user-bare": (False, False, False, True),
}
# The isolation each mode must report: `weak` only where no OS wall is under the guard.
ISOLATION = {"strong": "bubblewrap", "nowall": "weak"}


def enter_mode(mode: str, monkeypatch) -> bool:
    """Set the sandbox up as `mode` says; returns `strong` for grade()."""
    strong, with_cgroups, guard, wall = MODES[mode]
    monkeypatch.setattr(sandbox, "GUARD", guard)
    monkeypatch.setattr(sandbox, "WALL", wall)
    if mode.startswith("uid0"):  # an interpreter no other uid can reach: uid 0, no capability
        monkeypatch.setattr(accounts, "unreachable", lambda python: "simulated: unreachable")
    if not with_cgroups:
        monkeypatch.setattr(cgroups, "create",
                            lambda *_: (None, "simulated container: no writable cgroup"))
    return strong


NOBODY = 65534
USER_RUNNER = """
import dataclasses, json, sys
from graders.run import sandbox
sandbox.GUARD = sys.argv[4] == "guard"
from graders.api import grade
from graders.atomic import write_json_atomic
from graders.model import Limits
from graders.report.gradescope import gradescope
import time
started = time.monotonic()
result = grade(sys.argv[1], seed=int(sys.argv[5]), limits=Limits(**json.loads(sys.argv[2])),
               strong=False)
seconds = time.monotonic() - started
write_json_atomic(sys.argv[3], gradescope(result))
print(json.dumps({"ops": [[op.key, op.points] for op in result.ops], "score": result.score,
                  "output": result.output, "isolation": result.isolation,
                  "seconds": seconds}))
"""


@dataclass
class UserResult:
    """What a grade run by an unprivileged account reports back (the fields the test reads)."""

    ops: list
    score: float
    output: str
    isolation: str
    seconds: float  # the grade itself, without the interpreter's start


@pytest.fixture(scope="session")
def nobody_grader() -> Iterator[Path]:
    """A copy of the grader an unprivileged account can read (the checkout may not be). It is
    made in /tmp, not under pytest's base folder: every pytest session that starts makes that
    folder's parent private again (0700), so one run beside this one would lock the account out
    mid-run."""
    import compileall
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="gradkit-nobody-grader-", dir="/tmp"))
    for package in ("graders", "kit"):
        shutil.copytree(HERE.parent / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    # Compiled once, as an install is: the account cannot write bytecode into a copy it may
    # only read, so each of its graders compiled every module again.
    compileall.compile_dir(root, quiet=1, workers=1)
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o005)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@functools.cache
def user_problem(grader: Path) -> str | None:
    """Why the grader cannot be run by an unprivileged account here, or None when it can.
    Asked once per session (each probe starts an interpreter that imports sympy)."""
    import subprocess
    import sys

    if os.geteuid() != 0:
        return "running a grader as another account needs root"
    probe = subprocess.run(
        [sys.executable, "-c", "import graders.api, py_landlock, pyseccomp, sympy"],
        user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True, text=True, cwd="/",
        env={"PYTHONPATH": str(grader), "PATH": "/usr/bin:/bin"}, timeout=60)
    if probe.returncode:
        return f"an unprivileged account cannot run the grader: {probe.stderr[-300:]}"
    return None


def grade_as_nobody(grader: Path, submission: Path, results: Path, limits: Limits,
                    guard: bool) -> UserResult:
    """Grade as an unprivileged account without bubblewrap: no cgroup, no uid to give the
    child, no namespace; Landlock and seccomp are the walls under the guard."""
    import dataclasses
    import json
    import subprocess
    import sys

    shown = subprocess.run(
        [sys.executable, "-c", USER_RUNNER, str(submission),
         json.dumps(dataclasses.asdict(limits)), str(results), "guard" if guard else "bare",
         str(SEED)],
        user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True, text=True, cwd="/tmp",
        env={"PYTHONPATH": str(grader), "PATH": "/usr/bin:/bin", "HOME": "/tmp"}, timeout=120)
    assert shown.returncode == 0, shown.stderr[-2000:]
    data = json.loads(shown.stdout.strip().splitlines()[-1])
    ops = [type("Op", (), {"key": key, "points": points}) for key, points in data["ops"]]
    return UserResult(ops, data["score"], data["output"], data["isolation"], data["seconds"])


def named(token: str) -> list[int]:
    """Live processes (not zombies) whose name is `token`: what a payload left behind."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if comm == token and state != "Z":
            found.append(int(entry.name))
    return found


def own_run_cgroups() -> list[Path]:
    """This test process's run cgroups still in the tree. os.walk, not rglob: another test
    worker's cgroups come and go during the walk, and a vanished folder is not an error."""
    roots = [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup")]
    mine = f"{cgroups.PREFIX}{os.getpid()}-"
    return [Path(folder, name) for root in roots if root.exists()
            for folder, names, _files in os.walk(root) for name in names
            if name.startswith(mine)]


def by_op(result) -> dict[str, float]:
    return {op.key: op.points for op in result.ops}


@pytest.fixture(scope="module")
def baselines() -> dict[str, dict[str, float]]:
    """The mistaken base's points per op, per mode, graded with the suite's seed."""
    return {}


def base_points(baselines, tmp_path_factory, mode: str) -> dict[str, float]:
    strong = mode.startswith("strong")
    if strong not in baselines:
        path = tmp_path_factory.mktemp("base") / "base.py"
        path.write_text(BASE)
        baselines[strong] = by_op(grade(path, seed=SEED, limits=LIMITS, strong=strong))
    return baselines[strong]


def test_the_base_has_exactly_its_known_mistake(baselines, tmp_path_factory):
    points = base_points(baselines, tmp_path_factory, "weak")
    honest = tmp_path_factory.mktemp("honest") / "honest.py"
    honest.write_text(HONEST)
    full = by_op(grade(honest, seed=SEED, limits=LIMITS, strong=False))
    assert points["tanh"] < full["tanh"]
    assert {k: v for k, v in points.items() if k != "tanh"} == \
        {k: v for k, v in full.items() if k != "tanh"}


CASES = [
    pytest.param(payload, mode, id=f"{payload.name}-{mode}",
                 marks=[pytest.mark.sandbox] if mode.startswith("strong")
                 or "cgroup" in payload.needs else [])
    for payload in PAYLOADS for mode in payload.modes
]


@pytest.mark.slow
@pytest.mark.parametrize(("payload", "mode"), CASES)
def test_a_hostile_submission_gains_nothing_and_leaves_nothing(
        payload: Payload, mode: str, baselines, tmp_path, tmp_path_factory, monkeypatch,
        request):
    if mode.startswith("strong"):
        need("bubblewrap")
    if mode.startswith("container") and container_problem():
        pytest.skip(container_problem())
    user = mode.startswith("user")
    if user and user_problem(request.getfixturevalue("nobody_grader")):
        pytest.skip(user_problem(request.getfixturevalue("nobody_grader")))
    if mode.startswith("uid0") and os.geteuid() != 0:
        pytest.skip("a child of uid 0 needs a root grader")
    if "cgroup" in payload.needs and mode.split("-")[0] in ("strong", "weak", "nowall"):
        need("cgroups")
    if not mode.startswith(("strong", "nowall")):
        need("landlock")
    strong = enter_mode(mode, monkeypatch)
    token = "gk" + os.urandom(4).hex()
    results = tmp_path / "results.json"
    if user:  # a folder the unprivileged grader may reach and write its results in
        import tempfile
        shared = Path(tempfile.mkdtemp(prefix="gradkit-nobody-", dir="/tmp"))
        shared.chmod(0o777)
        results = shared / "results.json"
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0)
    graders_dir = Path(graders.__file__).parent
    values = {
        "__TOKEN__": token, "__RESULTS__": str(results),
        "__PORT__": str(listener.getsockname()[1]), "__GRADERS__": str(graders_dir),
        "__STDLIB__": sysconfig.get_paths()["stdlib"],
        "__SITE__": sysconfig.get_paths()["purelib"], "__PARENT__": str(os.getpid()),
        "__REPO__": str(HERE.parent),
    }
    submission = (results.parent if user else tmp_path) / f"{payload.name}.py"
    submission.write_text(splice(payload, values))
    submission.chmod(0o644)
    base = base_points(baselines, tmp_path_factory, mode)
    limits = HANG_LIMITS if "all" in payload.hits else LIMITS
    started = time.monotonic()
    try:
        if user:
            result = grade_as_nobody(request.getfixturevalue("nobody_grader"), submission,
                                     results, limits, guard=not mode.endswith("-bare"))
            seconds = result.seconds
        else:
            result = grade(submission, seed=SEED, limits=limits, strong=strong)
            seconds = time.monotonic() - started
            # The parent writes results only now, after every child is gone.
            write_json_atomic(results, gradescope(result))
        # Whatever the child does, a grade ends within its limit and a small constant.
        assert seconds <= limits.submission_seconds + 5
        assert named(token) == [], "a process the submission started is still running"
        assert own_run_cgroups() == [], "a run cgroup was left behind"
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
        for pid in named(token):
            os.kill(pid, 9)

    got = by_op(result)
    gains = {op: (got[op], base[op]) for op in got if got[op] > base[op]}
    assert gains == {}, f"{payload.description}: scored more than the honest base"
    if "all" not in payload.hits:
        lost = {op: (got[op], base[op]) for op in got
                if got[op] != base[op] and op not in payload.hits}
        assert lost == {}, f"{payload.description}: cost ops it did not touch"
    written = results.read_text()
    assert f'"score": {result.score}' in written
    assert "forged" not in written
    assert result.isolation == ISOLATION.get(mode.split("-")[0], "landlock")
    shows = payload.header("shows-bare" if mode.endswith("-bare") else "shows")
    assert not shows or re.search(shows, result.output), f"no {shows!r} in {result.output[:300]!r}"
    # What bubblewrap, Landlock + seccomp or the guard must refuse, on every path.
    for sign in ("WROTE", "LEAK", "CONNECTED", "SYMPY IMPORTED", "TAMPERED", "went through",
                 "ESCAPED"):
        assert sign not in result.output, f"{sign}: {result.output[-600:]}"
    assert not list(graders_dir.glob("gradkit-hostile-*"))
    filled = re.search(r"filled (\d+) MiB", result.output)
    if filled and not mode.endswith("-bare"):
        assert int(filled[1]) * (1 << 20) <= LIMITS.tmp_bytes + (1 << 20)


def test_a_hang_at_the_top_level_ends_with_a_clear_message(tmp_path):
    payload = next(p for p in PAYLOADS if p.name == "infinite_loop_import")
    submission = tmp_path / "hang.py"
    submission.write_text(splice(payload, {}))
    result = grade(submission, seed=SEED, limits=HANG_LIMITS, strong=False)
    assert result.score == 0
    assert f"did not finish within {HANG_LIMITS.submission_seconds:g} s" in result.problem
    assert "infinite loop" in result.problem


def test_a_crash_inside_one_op_names_the_crash_and_grades_the_rest(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "GUARD", False)  # the guard refuses ctypes before the crash
    payload = next(p for p in PAYLOADS if p.name == "segfault_op")
    submission = tmp_path / "crash.py"
    submission.write_text(splice(payload, {}))
    result = grade(submission, seed=SEED, limits=LIMITS, strong=False)
    ops = {op.key: op for op in result.ops}
    assert ops["exp"].points == 0
    assert ops["add"].passed and ops["mul"].passed
    assert "SIGSEGV" in " ".join(str(v) for v in vars(ops["exp"]).values())


def test_a_stdout_flood_costs_only_a_truncation_note(tmp_path):
    payload = next(p for p in PAYLOADS if p.name == "stdout_flood")
    submission = tmp_path / "flood.py"
    submission.write_text(splice(payload, {}))
    result = grade(submission, seed=SEED, limits=LIMITS, strong=False)
    assert result.output_truncated
    assert len(result.output.encode()) <= LIMITS.output_bytes
    assert any("output limit" in line for line in result.summary_lines())
