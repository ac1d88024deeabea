"""The `gradkit` command as people type it: typos, empty folders, Ctrl-C, help, counts.

Each test runs the command line a user would (in-process with the replaying grader, or one real
subprocess for Ctrl-C) and checks what they would see: an error naming the problem, the usage
of the verb they called, a progress bar in submissions, the grades kept after an interrupt.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from graders import cli
from graders.classroom import batch
from tests.conftest import gradkit_replayed
from tests.corpus import BASE
from tests.fake_grader import replay_grade

ROOT = Path(__file__).resolve().parents[1]


def _class(folder: Path, names: str = "ab") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.py").write_text(BASE.read_text() + f"\n# {name}\n")
    return folder


def _one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert all(word in done.stderr for word in words), done.stderr


def test_a_folder_that_is_not_there_is_an_error_not_a_student(tmp_path):
    out = tmp_path / "o"
    done = gradkit_replayed("grade", str(tmp_path / "nosuchdir"), "--out", str(out))
    _one_line_error(done, "nosuchdir", "no such file or folder")
    assert not out.exists()  # no phantom student, no gradebook
    # one typo among real folders stops the batch before anything is graded
    real = _class(tmp_path / "real")
    done = gradkit_replayed("grade", str(real), str(tmp_path / "rael"), "--out", str(out))
    _one_line_error(done, "rael")
    assert not out.exists()


def test_an_empty_folder_is_an_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a submission")
    done = gradkit_replayed("grade", str(empty), "--out", str(tmp_path / "o"))
    _one_line_error(done, "empty", "no .ipynb or .py submission")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("verb", "line"), [
    ("grade", "x.py --bogus"),
    ("regrade", "out --bogus"),
    ("gradescope build", "backprop --bogus"),
])
def test_a_mistyped_flag_prints_the_usage_of_the_verb_it_was_given_to(verb, line):
    done = gradkit_replayed(*verb.split(), *line.split())
    assert done.returncode == 2
    assert f"usage: gradkit {verb} " in done.stderr, done.stderr
    assert f"gradkit {verb}: error: unrecognized arguments: --bogus" in done.stderr
    assert "COMMAND ..." not in done.stderr


def _parsers(parser: argparse.ArgumentParser, name: str = "gradkit"):
    """Every parser of the CLI with its command words, the top level's first."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for verb, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {verb}")


def test_every_command_has_a_description_and_its_own_config_help():
    parsers = dict(_parsers(cli.build_parser()))
    assert not [name for name, parser in parsers.items() if not parser.description]
    helps = {}
    for name, parser in parsers.items():
        for action in parser._actions:
            if "--config" in action.option_strings or action.dest == "config":
                helps[name] = action.help
    assert set(helps) == {"gradkit grade", "gradkit ops", "gradkit regrade",
                          "gradkit course new", "gradkit classroom init",
                          "gradkit gradescope build"}
    # what happens without it is each verb's own, and only a batch has an OUTDIR
    assert [name for name, text in helps.items() if "OUTDIR" in text] == ["gradkit grade"]
    assert "guessed" not in helps["gradkit ops"] and "backprop" in helps["gradkit ops"]
    assert "required" in helps["gradkit course new"]
    out = next(a for a in parsers["gradkit grade"]._actions if a.dest == "out")
    assert "summary.html" in out.help


def test_ops_counts_the_rows_it_shows():
    for config in ("backprop", "mlp"):
        done = gradkit_replayed("ops", "--config", config)
        assert done.returncode == 0, done.stderr
        first, *rest = done.stdout.splitlines()
        rows = [line for line in rest if line.startswith("| `")]
        assert f"{config}: {len(rows)} rows below: " in first, first
        graded = int(first.split(": ", 2)[2].split()[0])
        optional = [line for line in rows if "0 unless an assignment sets points" in line]
        assert graded == len(rows) - len(optional)


def test_the_progress_bar_counts_submissions(tmp_path):
    subs = _class(tmp_path / "subs", "abc")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        batch.run([subs], batch.Options(outdir=tmp_path / "out", grader=replay_grade,
                                        progress=True))
    shown = err.getvalue()
    assert "3/3 submissions" in shown, shown
    assert "/s" not in shown


SLOW_BATCH = textwrap.dedent("""
    import signal, sys, time
    # Ctrl-C as a terminal's shell gives it: a pytest worker's SIGINT may be ignored or blocked
    # (something in the suite leaves it so), and a child inherits both
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from graders import cli
    from graders.classroom import grading
    from tests.fake_grader import replay_grade

    def slow(job):  # the first two are graded at once, then a long one: Ctrl-C lands there
        if job.student > "b":
            time.sleep(120)
        return replay_grade(job)

    grading.grade = slow
    sys.exit(cli.main(sys.argv[1:]))
""")


def test_ctrl_c_keeps_what_was_graded_and_says_how_to_resume(tmp_path):
    """A real SIGINT to a batch, as Ctrl-C sends it: the grades made are kept and published."""
    subs = _class(tmp_path / "subs", "abcd")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-c", SLOW_BATCH, "grade", str(subs), "--out",
         str(out), "-j", "1", "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while len(list((out / "results").glob("*.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # into the third, slow grading
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired as stuck:  # where it is (-X faulthandler: on SIGABRT)
        process.send_signal(signal.SIGABRT)
        stdout, stderr = process.communicate()
        raise AssertionError(f"no exit 60 s after Ctrl-C:\n{stdout}\n{stderr[-4000:]}") \
            from stuck
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stdout.startswith("interrupted: 2 grades of this run are kept"), stdout
    assert "2 of 4 submissions are not graded yet" in stdout
    assert "run the same command again" in stdout
    with open(out / "grades.csv", newline="") as handle:
        assert [row["student"] for row in csv.DictReader(handle)] == ["a", "b"]
    assert (out / "summary.html").is_file()
