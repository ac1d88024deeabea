"""The test suite's own helpers (tests/conftest.py) do what the tests that use them assume."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests import conftest
from tests.conftest import CAPABILITIES, ROOT, need, project_files, required, walk_project


def test_walking_the_tree_finds_what_git_would(tmp_path):
    """Without .git the instructor-loop test copies what the walker finds: in a checkout,
    that is exactly git's own list of files not ignored (tracked or not)."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("no git checkout to compare the walker with")
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    on_disk = {name for name in listed.splitlines() if (ROOT / name).is_file()}
    assert set(walk_project()) == on_disk
    assert "graders/model.py" in on_disk and ".venv/pyvenv.cfg" not in on_disk


def test_a_copy_without_git_lists_its_files_by_the_ignore_rules(tmp_path):
    (tmp_path / ".gitignore").write_text("# note\n/out/\n*.db\nbuild/\n/top.txt\n")
    for name in ("keep.py", "top.txt", "sub/top.txt", "sub/x.db", "out/a", "sub/out/b",
                 "sub/build/c", "sub/inner/.gitignore", "sub/inner/gone.tmp", "d/build"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "sub/inner/.gitignore").write_text("*.tmp\n")
    assert sorted(project_files(tmp_path)) == [
        ".gitignore", "d/build", "keep.py", "sub/inner/.gitignore", "sub/out/b", "sub/top.txt"]


def test_an_ignore_rule_the_walker_does_not_know_fails_loudly(tmp_path):
    (tmp_path / ".gitignore").write_text("!keep.db\n")
    with pytest.raises(NotImplementedError, match=r"keep\.db"):
        walk_project(tmp_path)


# --- need(): the one place a test of the sandbox's parts skips, or fails where required ------

@pytest.fixture
def lacking(monkeypatch):
    """This machine as one lacking `cgroups` only (whatever it really has)."""
    problems = {"cgroups": "per-run cgroups cannot be created here"}
    monkeypatch.setattr(conftest, "missing", problems.get)


@pytest.mark.parametrize(("environ", "names"), [
    ({}, set()), ({"GRADKIT_REQUIRE": ""}, set()),
    ({"GRADKIT_REQUIRE": "bubblewrap, Cgroups,"}, {"bubblewrap", "cgroups"}),
    ({"GRADKIT_REQUIRE": "strong"}, set(CAPABILITIES)),
    ({"GRADKIT_REQUIRE_STRONG": "1"}, set(CAPABILITIES)),
    ({"GRADKIT_REQUIRE_STRONG": "0", "GRADKIT_REQUIRE": "landlock"}, {"landlock"}),
])
def test_the_required_capabilities_come_from_the_environment(environ, names):
    assert required(environ) == names


def test_a_misspelt_requirement_stops_the_run():
    with pytest.raises(pytest.UsageError, match="bwrap"):
        required({"GRADKIT_REQUIRE": "bwrap"})


def outcome(call) -> tuple[str, str]:
    """What `call` did to the test calling it: ("skip" | "fail", why) or ("run", ""). Caught
    here, not by pytest.raises: a skip where a failure is expected must fail this test, not
    skip it."""
    try:
        call()
    except pytest.skip.Exception as skipped:
        return "skip", str(skipped)
    except pytest.fail.Exception as failed:
        return "fail", str(failed)
    return "run", ""


def test_a_missing_capability_skips_where_not_required(lacking):
    assert outcome(lambda: need("bubblewrap", "cgroups", environ={
        "GRADKIT_REQUIRE": "bubblewrap"})) == ("skip", "per-run cgroups cannot be created here")


def test_a_missing_capability_fails_with_its_reason_where_required(lacking):
    assert outcome(lambda: need("bubblewrap", "cgroups", environ={
        "GRADKIT_REQUIRE": "cgroups"})) == (
        "fail", "GRADKIT_REQUIRE names cgroups, but per-run cgroups cannot be created here")
    assert outcome(lambda: need("cgroups", environ={"GRADKIT_REQUIRE_STRONG": "1"}))[0] == "fail"


def test_capabilities_present_neither_skip_nor_fail(lacking):
    assert outcome(lambda: need("bubblewrap", "landlock",
                                environ={"GRADKIT_REQUIRE": "strong"})) == ("run", "")


def test_the_needs_mark_goes_through_need(lacking, monkeypatch):
    monkeypatch.setenv("GRADKIT_REQUIRE", "cgroups")

    class Item:
        def iter_markers(self, name):
            assert name == "needs"
            return [pytest.mark.needs("landlock").mark, pytest.mark.needs("cgroups").mark]

    kind, why = outcome(lambda: conftest.pytest_runtest_setup(Item()))
    assert (kind, why.split(",")[0]) == ("fail", "GRADKIT_REQUIRE names cgroups")
    monkeypatch.delenv("GRADKIT_REQUIRE")
    assert outcome(lambda: conftest.pytest_runtest_setup(Item()))[0] == "skip"


def test_this_machine_has_what_it_is_required_to_have():
    """Where GRADKIT_REQUIRE is set (CI), each capability it names really works: the real
    probes, not a stand-in."""
    for capability in required():
        assert conftest.missing(capability) is None, conftest.missing(capability)
