"""The sandbox's own guarantees, checked from inside the child and from the parent.

Each test runs a tiny submission that reports what it could see or do (on stdout, which the
parent only shows), so a regression in the bubblewrap command line, the cgroup code or the
result-file writer shows up as a visible difference, not as a silent loss of containment.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from graders.api import grade
from graders.atomic import write_json_atomic
from graders.model import Limits
from graders.run import cgroups, sandbox
from graders.run.sandbox import parse_record
from tests.conftest import need

LIMITS = Limits(memory_bytes=256 << 20, processes=32, group_seconds=3.0,
                submission_seconds=15.0, tmp_bytes=4 << 20)
VALUE = "class Value:\n    def __init__(self, data):\n        self.data = data\n"

needs_bwrap = pytest.mark.needs("bubblewrap")
needs_cgroups = pytest.mark.needs("cgroups")


def run(tmp_path: Path, code: str, *, strong: bool | None = True, limits: Limits = LIMITS,
        guard: bool = True, wall: bool = True):
    """Grade a probe; `guard=False` turns the harness's audit hook off to test the walls below
    it (bubblewrap, cgroups, Landlock and seccomp) on their own; `wall=False` turns Landlock
    and seccomp off (a kernel without them)."""
    path = tmp_path / "probe.py"
    path.write_text(VALUE + code)
    saved = sandbox.GUARD, sandbox.WALL
    sandbox.GUARD, sandbox.WALL = guard, wall
    try:
        return grade(path, limits=limits, strong=strong)
    finally:
        sandbox.GUARD, sandbox.WALL = saved


def fill(path: str, label: str) -> str:
    """Child code writing 1 MiB at a time into `path` until a cap stops it, then saying how
    much got in: "LABEL full after N MiB"."""
    return f"""
written = 0
try:
    with open({path!r}, "wb") as handle:
        for _ in range(64):
            handle.write(b"x" * (1 << 20))
            handle.flush()
            written += 1
except OSError as error:
    print({label!r}, "full after", written, "MiB:", type(error).__name__)
"""


@pytest.mark.sandbox
@needs_bwrap
def test_the_child_sees_only_the_standard_library(tmp_path):
    import graders
    result = run(tmp_path, f"""
import os, sys
for path in ({str(Path(graders.__file__).parent)!r}, {os.getcwd()!r}, "/etc/passwd", "/home"):
    print("sees" if os.path.exists(path) else "hidden", path)
try:
    import sympy
    print("imported sympy")
except ImportError:
    print("no sympy")
print("python", sys.version)
""")
    assert "sees" not in result.output
    assert "no sympy" in result.output
    assert f"python {sys.version}" in result.output
    assert result.isolation == "bubblewrap"


@pytest.mark.sandbox
@needs_bwrap
def test_the_parent_is_invisible_and_the_network_is_gone(tmp_path):
    result = run(tmp_path, f"""
import os, socket
print("pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
print("parent visible", os.path.exists("/proc/{os.getpid()}/environ"))
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
except OSError as error:
    print("network", type(error).__name__)
print("interfaces", socket.if_nameindex())
""", guard=False)
    assert "parent visible False" in result.output
    assert "network ConnectionRefusedError" in result.output or "network OSError" in result.output
    assert "interfaces [(1, 'lo')]" in result.output
    pids = json.loads(result.output.split("pids ", 1)[1].split("\n", 1)[0])
    assert max(pids) < 10  # a fresh PID namespace: bwrap's init, the harness, nothing else


@pytest.mark.sandbox
@needs_bwrap
def test_tmp_is_the_only_writable_place_and_it_is_capped(tmp_path):
    result = run(tmp_path, """
import os
for directory in ("/", "/usr", "/gradkit", os.path.dirname(os.__file__)):
    try:
        open(os.path.join(directory, "planted"), "w").close()
        print("wrote", directory)
    except OSError as error:
        print("refused", directory, type(error).__name__)
""" + fill("/tmp/fill", "tmp"), guard=False)
    assert "wrote" not in result.output
    assert result.output.count("refused") == 4
    assert "tmp full after 4 MiB" in result.output or "tmp full after 3 MiB" in result.output


@pytest.mark.sandbox
@needs_cgroups
@pytest.mark.parametrize(("strong", "wall"), [(True, True), (False, True), (False, False)],
                         ids=["bubblewrap", "walled", "nowall"])
def test_a_detached_daemon_is_killed_with_the_run(tmp_path, strong, wall):
    if strong:
        need("bubblewrap")
    elif wall:
        need("landlock")
    token = "gk" + os.urandom(4).hex()
    result = run(tmp_path, f"""
import ctypes, os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"{token}", 0, 0, 0)
        time.sleep(600)
    os._exit(0)
print("daemon started")
""", strong=strong, guard=False, wall=wall)
    # Without bubblewrap the wall refuses the fork itself; elsewhere the daemon starts and the
    # run's end kills it.
    assert ("daemon started" in result.output) == (strong or not wall), result.output[-500:]
    alive = [p for p in Path("/proc").iterdir() if p.name.isdigit()
             and _read(p / "comm") == token
             and _read(p / "stat").rsplit(")", 1)[-1].split()[:1] != ["Z"]]  # zombies are dead
    for pid in alive:
        os.kill(int(pid.name), 9)
    assert alive == []


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


@needs_cgroups
def test_a_run_cgroup_caps_processes_and_disappears_after_kill():
    made, note = cgroups.create(64 << 20, 5)
    assert note is None
    pid = os.fork()
    if pid == 0:  # the child joins, then tries to make more processes than allowed
        for path in made.join_paths():
            with open(path, "wb") as handle:
                handle.write(str(os.getpid()).encode())
        children = 0
        try:
            for _ in range(20):
                if os.fork() == 0:
                    import time
                    time.sleep(60)
                    os._exit(0)
                children += 1
        except OSError:
            pass
        os._exit(children)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 4  # 5 pids: itself and four children
    assert len(made.pids()) == 4
    assert made.kill()
    assert not any(d.exists() for d in made.directories)


def test_a_run_without_cgroups_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(cgroups, "create", lambda memory, processes: (None, "not permitted"))
    result = run(tmp_path, "", strong=False)
    assert any("no per-run cgroup" in line and "not permitted" in line
               for line in result.summary_lines())


def test_the_weak_fallback_is_announced_loudly(tmp_path):
    result = run(tmp_path, "", strong=False, wall=False)
    assert result.isolation == "weak"
    assert result.summary_lines()[0].startswith("WARNING: weak isolation")


@pytest.mark.needs("landlock")
def test_without_bubblewrap_the_child_is_walled_by_landlock_and_seccomp(tmp_path):
    result = run(tmp_path, "", strong=False)
    assert result.isolation == "landlock"
    assert not any(line.startswith("WARNING") for line in result.summary_lines())


def test_records_are_parsed_strictly():
    assert parse_record(b'{"id": "x", "out": 1.5}') == {"id": "x", "out": 1.5}
    for bad in (b'{"out": NaN}', b'{"out": Infinity}', b"[1, 2]", b"x" * (2 << 20)):
        with pytest.raises(ValueError):
            parse_record(bad)


def test_the_results_file_is_replaced_atomically_and_never_through_a_symlink(tmp_path):
    target, elsewhere = tmp_path / "results.json", tmp_path / "elsewhere.json"
    elsewhere.write_text("untouched")
    target.symlink_to(elsewhere)
    with pytest.raises(OSError, match="symbolic link"):
        write_json_atomic(target, {"score": 1})
    assert elsewhere.read_text() == "untouched"
    target.unlink()
    target.write_text("forged by the child")
    write_json_atomic(target, {"score": 1})
    assert json.loads(target.read_text()) == {"score": 1}
    assert [p.name for p in tmp_path.iterdir()] != [] and not list(tmp_path.glob(".results*"))


@pytest.mark.sandbox
@needs_bwrap
def test_dev_is_read_only_and_dev_shm_is_capped(tmp_path):
    result = run(tmp_path, """
import os
try:
    open("/dev/planted", "w").close()
    print("wrote /dev")
except OSError as error:
    print("refused /dev", type(error).__name__)
""" + fill("/dev/shm/fill", "shm"), guard=False)
    assert "refused /dev" in result.output
    assert "shm full after 0 MiB" in result.output or "shm full after 1 MiB" in result.output


SNOOP_PACKAGES = """
import sys
for path in {paths!r}:
    sys.path.append(path)
for name in ("sympy", "graders", "mpmath"):
    try:
        __import__(name)
        print("IMPORTED", name)
    except ImportError:
        print("no", name)
"""


@pytest.mark.sandbox
@needs_bwrap
@pytest.mark.parametrize("guard", [True, False], ids=["guarded", "bare"])
def test_a_grader_in_a_venv_over_a_non_usr_python_hides_every_package(tmp_path, guard):
    """The child runs the venv's *base* interpreter; the base's site-packages must be hidden
    as well as the venv's, whatever the layout (this machine's is pyenv's, outside /usr)."""
    import subprocess
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages",
                    str(venv)], check=True)
    base_paths = sysconfig.get_paths(vars={"base": sys.base_prefix,
                                           "platbase": sys.base_exec_prefix})
    venv_paths = sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})
    paths = sorted({base_paths["purelib"], base_paths["platlib"], venv_paths["purelib"]})
    submission = tmp_path / "probe.py"
    submission.write_text(VALUE + SNOOP_PACKAGES.format(paths=paths))
    script = (f"from graders.run import sandbox; sandbox.GUARD = {guard}\n"
              "from graders.api import grade\n"
              f"r = grade({str(submission)!r}, strong=True)\n"
              "print(r.isolation); print(r.output)")
    shown = subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True,
                           text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.startswith("bubblewrap")
    assert "IMPORTED" not in shown.stdout
    assert shown.stdout.count("no ") == 3


PARENT_OPENS = """
import os, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(args[0]) if event == "open" else None)
from graders.api import grade
result = grade(sys.argv[1], strong=False)
print("SCORE", result.score)
for path in opened:
    if isinstance(path, (str, bytes)):
        print("OPENED", os.fsdecode(path))
"""


def test_the_parent_reads_no_answer_key_from_disk(tmp_path):
    """No file a kernel, a weak child or another process of the user could write is read as
    the answer key: grading opens only the submission, the installed code and its own run
    folders, never the user's home or cache (where an oracle cache used to live)."""
    import subprocess

    home = tmp_path / "home"
    (home / ".cache" / "gradkit").mkdir(parents=True)
    submission = tmp_path / "sub.py"
    submission.write_text((Path(__file__).parent / "submissions" / "correct" /
                           "lecture_style.py").read_text())
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
           "GRADKIT_CACHE": str(home / "cache")}
    shown = subprocess.run([sys.executable, "-c", PARENT_OPENS, str(submission)], env=env,
                           capture_output=True, text=True, timeout=120)
    assert "SCORE 25.0" in shown.stdout, shown.stderr[-2000:]
    opened = [line[7:] for line in shown.stdout.splitlines() if line.startswith("OPENED ")]
    assert opened, "the audit hook saw nothing"
    assert not [p for p in opened if p.startswith(str(home))]
    assert not list(home.rglob("*.json"))
