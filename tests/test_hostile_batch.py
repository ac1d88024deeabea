"""A class folder built by an attacker: one student's files can stop, hang or take over nobody.

Each test makes a class with honest students around one hostile entry and runs the real CLI
(`gradkit grade DIR --out OUT`) under a timeout: the batch must finish, grade every honest
student, and give the hostile entry a row with a reason.
"""

from __future__ import annotations

import csv
import os
import sqlite3
from pathlib import Path

import pytest

from graders.classroom import discover
from tests.conftest import gradkit
from tests.corpus import BASE

HONEST = BASE.read_text()


def batch(folder: Path, out: Path, *extra: str, timeout: float = 240):
    run = gradkit("grade", str(folder), "--out", str(out), "-j", "2", *extra, timeout=timeout)
    assert run.returncode == 0, run.stderr[-2000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return run, {row["student"]: row for row in csv.DictReader(handle)}


def honest(folder: Path, *names: str) -> None:
    for name in names:
        (folder / f"{name}.py").write_text(HONEST + f"\n# {name}\n")


@pytest.mark.slow
def test_a_fifo_and_a_symlink_to_dev_zero_are_refused_without_being_read(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    honest(folder, "ann", "zed")
    os.mkfifo(folder / "fifo.ipynb")
    (folder / "zero.ipynb").symlink_to("/dev/zero")
    (folder / "bob").mkdir()
    os.mkfifo(folder / "bob" / "work.ipynb")
    _, rows = batch(folder, tmp_path / "out", timeout=120)
    assert float(rows["ann"]["total"]) == float(rows["zed"]["total"]) == 25
    assert "not a regular file" in rows["fifo"]["problem"]
    assert "symbolic link" in rows["zero"]["problem"]
    assert "not a regular file" in rows["bob"]["problem"]
    again = gradkit("grade", str(folder), "--out", str(tmp_path / "out"), timeout=120)
    assert "0 graded, 5 unchanged" in again.stdout  # the refusals are stable rows too


def test_a_folder_nested_thousands_deep_is_only_deep(tmp_path):
    folder = tmp_path / "class"
    deep = folder / "carl"
    deep.mkdir(parents=True)
    honest(folder, "ann")
    fd = os.open(deep, os.O_RDONLY)
    try:  # 1,100 levels: past the recursion limit of a recursive walk, within PATH_MAX per step
        for _ in range(1100):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("work.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
            f.write(HONEST)
    finally:
        os.close(fd)
    try:
        subs = discover.discover([folder])
        assert [s.student for s in subs] == ["ann", "carl"]
    finally:
        _remove_deep(deep)


def _remove_deep(top: Path) -> None:
    """Remove a chain of `d` folders too deep for shutil.rmtree's recursion, bottom first."""
    fds = [os.open(top, os.O_RDONLY)]
    while "d" in os.listdir(fds[-1]):
        fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
    for name in os.listdir(fds[-1]):
        os.unlink(name, dir_fd=fds[-1])
    os.close(fds.pop())
    while fds:
        os.rmdir("d", dir_fd=fds[-1])
        os.close(fds.pop())


def test_a_cleaned_name_cannot_take_a_real_students_id(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "bob!smith.py").write_text("class Value:\n    pass\n")  # sorts before bob_smith
    honest(folder, "bob_smith")
    subs = discover.discover([folder])
    ids = {s.path.name: s.student for s in subs}
    assert ids["bob_smith.py"] == "bob_smith"
    assert ids["bob!smith.py"].startswith("bob_smith~")
    assert "characters an id cannot carry" in next(s.renamed for s in subs if s.renamed)


def test_ids_equal_but_for_case_never_share_a_results_file(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    honest(folder, "Alice", "alice")
    subs = discover.discover([folder])
    ids = [s.student for s in subs]
    assert len({i.casefold() for i in ids}) == 2  # distinct even on a case-insensitive disk
    assert all("claim the id" in s.renamed for s in subs)
    assert ids == [s.student for s in discover.discover([folder])]  # stable


@pytest.mark.slow
def test_the_batch_reports_every_changed_id(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    honest(folder, "Alice", "alice", "bob_smith")
    (folder / "bob!smith.py").write_text(HONEST)
    run, rows = batch(folder, tmp_path / "out")
    assert run.stdout.count("\nid ") == 3
    assert "bob_smith" in rows and len(rows) == 4
    results = sorted(p.name.casefold() for p in (tmp_path / "out" / "results").iterdir())
    assert len(results) == len(set(results)) == 4 * 3  # results, feedback page, Markdown


@pytest.mark.slow
def test_spreadsheet_cells_carry_no_formula_and_no_giant_text(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    honest(folder, "ann")
    (folder / "+cmd").mkdir()
    (folder / "+cmd" / "a.py").write_text(HONEST)
    crowd = folder / "=HYPERLINK(x)"
    crowd.mkdir()
    for number in range(5000):
        (crowd / f"candidate_{number:04}_with_a_long_name.py").write_text("")
    batch(folder, tmp_path / "out")
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    assert max(map(len, cells)) < 1000
    assert "and 4995 more" in next(c for c in cells if "candidate" in c)


@pytest.mark.slow
def test_a_rerun_under_other_containment_regrades(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    honest(folder, "ann")
    out = tmp_path / "out"
    batch(folder, out, "--weak-isolation")
    run, _ = batch(folder, out)
    assert "1 graded, 0 unchanged" in run.stdout
    run, _ = batch(folder, out)
    assert "0 graded, 1 unchanged" in run.stdout
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        graders = {row[0] for row in db.execute("SELECT grader FROM gradings")}
    assert len(graders) == 2


@pytest.mark.slow
def test_one_hostile_file_of_each_class_changes_no_classmates_grade(tmp_path):
    """Issue 24's attacks in one class: an escaped-hook attempt at every OS door, the doors to
    a crafted code object, forged records that stop reading, a lone surrogate in an exception,
    a file that looks like another assignment. The batch finishes with a row for everyone, and
    each honest student's row is what it is in the class without them."""
    import json

    from graders.course import authoring
    from tests.test_hostile import PAYLOADS, splice

    names = ("ann", "zed")
    plain = tmp_path / "plain"
    plain.mkdir()
    honest(plain, *names)
    # short limits: forge_and_block never reads its checks, and waits out every one of them
    quick = ("--config", "backprop", "--op-timeout", "3", "--time-limit", "20")
    _, expected = batch(plain, tmp_path / "plain-out", *quick)

    folder = tmp_path / "class"
    folder.mkdir()
    honest(folder, *names)
    out = tmp_path / "out"
    values = {"__RESULTS__": str(out / "results" / "ann.json"), "__TOKEN__": "gkbatch",
              "__PORT__": "9", "__GRADERS__": str(Path(discover.__file__).parents[1]),
              "__SITE__": "/nonexistent", "__PARENT__": "1", "__STDLIB__": os.__file__}
    by_name = {payload.name: payload for payload in PAYLOADS}
    for name in ("escape_walls", "code_objects", "forge_and_block", "fake_results"):
        (folder / f"{name}.py").write_text(splice(by_name[name], values))
    (folder / "surrogate.py").write_text(HONEST.replace(
        "def tanh(self):", "def tanh(self):\n        raise ValueError('\\ud800 lone')", 1))
    (folder / "lookalike.ipynb").write_text(authoring.path_for("derivatives").read_text())
    _, rows = batch(folder, out, *quick, timeout=400)
    assert set(rows) == {*names, "escape_walls", "code_objects", "forge_and_block",
                         "fake_results", "surrogate", "lookalike"}
    for name in names:
        assert rows[name] == expected[name], name
    assert json.loads((out / "results" / "ann.json").read_text())["score"] == 25
    assert float(rows["lookalike"]["max_score"]) == 25
