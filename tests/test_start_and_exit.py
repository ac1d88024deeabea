"""What makes one grade cheap, seen from outside: the CLI builds only the called verb, exits
without losing output, the child runs the harness precompiled and reports its CPU, and a batch
hands its derived answer keys to its workers."""

from __future__ import annotations

import json
import marshal
import pickle
import subprocess
import sys
from importlib.util import MAGIC_NUMBER
from pathlib import Path

from graders.classroom import grading as grading_module
from graders.classroom.records import Job
from graders.commands import VERBS
from graders.judge import oracle
from graders.run import sandbox
from graders.spec.assignments import BUILTIN, resolve

ROOT = Path(__file__).resolve().parents[1]
CORRECT = ROOT / "tests" / "submissions" / "correct" / "lecture_style.py"


def _gradkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graders", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_the_top_level_help_lists_every_verb_with_its_line():
    shown = _gradkit("--help")
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    for verb, line in VERBS.items():
        assert verb in text and " ".join(line.split()) in text


def test_a_verb_builds_its_own_parser_and_imports_no_other_verb():
    code = ("import sys\nfrom graders.cli import build_parser\n"
            "build_parser(['grade', 'x.py']).parse_args(['grade', 'x.py'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('graders.commands.')))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert eval(done.stdout) == ["graders.commands.grade", "graders.commands.options"]


def test_the_program_exits_at_once_with_its_output_whole_and_its_status():
    """run() skips the interpreter's teardown: what was printed must still all arrive."""
    listing = _gradkit("ops")
    assert listing.returncode == 0, listing.stderr
    rows = [line for line in listing.stdout.splitlines() if line.startswith("| `")]
    assert len(rows) == len(BUILTIN["backprop"].ops)
    wrong = _gradkit("grade", "--no-such-flag", str(CORRECT))
    assert wrong.returncode == 2 and "unrecognized arguments: --no-such-flag" in wrong.stderr


def test_a_grade_reports_what_its_child_spent(tmp_path):
    results = tmp_path / "r.json"
    done = _gradkit("grade", str(CORRECT), "--results", str(results))
    assert done.returncode == 0, done.stderr
    extra = json.loads(results.read_text())["extra_data"]
    assert 0 < extra["child_cpu_seconds"] < 60


def _pyc_header(source: Path) -> bytes:
    size = len(source.read_bytes()) & 0xFFFFFFFF
    mtime = int(source.stat().st_mtime) & 0xFFFFFFFF
    return MAGIC_NUMBER + bytes(4) + mtime.to_bytes(4, "little") + size.to_bytes(4, "little")


def test_the_child_runs_the_harness_compiled_once_from_its_own_source(tmp_path, monkeypatch):
    harness = tmp_path / "harness.py"
    harness.write_text("ANSWER = 42\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    stale = cache / f"harness.{sys.implementation.cache_tag}.pyc"
    stale.write_bytes(_pyc_header(harness)[:8] + bytes(8) + marshal.dumps(compile("ANSWER = 1",
                                                                                 "h", "exec")))
    monkeypatch.setattr(sandbox, "HARNESS", harness)
    sandbox.harness_bytecode.cache_clear()
    try:
        compiled = sandbox.harness_bytecode()  # the stale copy's header does not match
        assert compiled[:16] == _pyc_header(harness)
        scope: dict = {}
        exec(marshal.loads(compiled[16:]), scope)
        assert scope["ANSWER"] == 42
        current = _pyc_header(harness) + marshal.dumps(compile("ANSWER = 7", "h", "exec"))
        stale.write_bytes(current)  # a current copy (what importing would run) is used as is
        sandbox.harness_bytecode.cache_clear()
        assert sandbox.harness_bytecode() == current
    finally:
        sandbox.harness_bytecode.cache_clear()
    ran = subprocess.run([sys.executable, "-I", "-S", "-c", "import sys, marshal\n"
                          "exec(marshal.loads(open(sys.argv[1], 'rb').read()[16:]))\n"
                          "print(ANSWER)", str(stale)], capture_output=True, text=True)
    assert ran.stdout.strip() == "7"


def test_a_batch_hands_its_workers_the_keys_it_derived():
    declared = resolve(str(ROOT / "examples" / "custom-ops" / "course.toml"))
    jobs = [Job(name, "", f"{name}.py", assignment) for name, assignment in (
        ("ada", declared), ("bob", BUILTIN["backprop"]), ("cy", declared))]
    grading = pickle.loads(pickle.dumps(grading_module.grading(jobs)))
    assert len(grading.keys) == 1  # one derivation for the config, none for the built-in
    material, ops = grading.keys[0]
    assert material == oracle._material(declared)
    assert set(ops) >= {spec.key for spec in declared.declared}
