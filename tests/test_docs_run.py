"""The commands in the README and docs/*.md run as written.

Every fenced block is labelled; each ```bash block is run, a file's blocks in order in one
folder (as a reader follows the page), by `bash -euo pipefail`, in a temporary folder holding
what a reader has at hand: the bundled example class (`examples/`), the same class in nbgrader's
layout (`submitted/`) and one submission (`backprop.ipynb`). What runs, and what stands in:

- `gradkit` is this checkout's, with each distinct file graded once and replayed (a class
  costs a grade per distinct file; tests/fake_grader.py); one file alone is graded for real;
  its own wheel (`gradescope build`, `classroom init`) is the session's, built once
  (tests/conftest.py `gradkit_dist`);
- `python -m venv DIR` makes a venv whose `gradkit` and `pip` are these two;
- `pip install` of this project (`.`, `-e .`, with extras) installs nothing, since this
  checkout is what runs, but fails on an extra pyproject.toml does not have, and outside a
  venv, as a system Python's pip does (PEP 668); a fresh install is tests/test_install.py's.
  Any other `pip install` fails: it would need the network;
- everything else (`git`, `nbgrader`, `grep`, `base64`, ...) is the real program.

A block that cannot run here says so and why, in the page, on the line before it
(`<!-- doc-test: skip: REASON -->`: needs the network, is a benchmark of minutes, or is run
verbatim by another test); a skip without a reason fails.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NOTE = re.compile(r"<!-- doc-test: (.*?) -->")
# Pages whose blocks build gradkit's wheel (`gradescope build`, `classroom init`): seconds each.
EXPENSIVE = {"ci.md", "gradescope.md"}


@dataclass
class Block:
    page: Path
    line: int
    language: str
    text: str
    note: str  # the doc-test annotation on the line before, or ""

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Every fenced block of `page`, with its language and the annotation before it."""
    found, lines = [], page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("```"):
            end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
            note = NOTE.fullmatch(before.strip())
            found.append(Block(page, index + 1, line[3:].strip(), "\n".join(
                lines[index + 1:end]) + "\n", note[1] if note else ""))
            index = end
        index += 1
    return found


def test_every_block_is_labelled_and_every_skip_says_why():
    for page in PAGES:
        for block in blocks(page):
            assert block.language, f"{block}: a fenced block without a language (bash runs)"
            if block.note.startswith("skip"):
                assert block.language == "bash", f"{block}: only a command block is skipped"
                assert len(block.note.partition(":")[2].strip()) > 10, \
                    f"{block}: a skip says why (skip: REASON)"


def _extras() -> set[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["project"]["optional-dependencies"])


PIP = f"""#!{sys.executable}
# pip, for the docs' commands: this checkout is what runs, so installing it does nothing, but a
# missing extra is an error, anything else would need the network, and outside a venv it refuses
# as a system Python's pip does (PEP 668).
import os, re, sys
args = sys.argv[1:]
if not os.environ.get("VIRTUAL_ENV"):
    sys.exit("error: externally-managed-environment (PEP 668): make a venv first")
if args[:1] != ["install"]:
    sys.exit(f"pip {{' '.join(args)}}: not run by tests/test_docs_run.py")
for word in args[1:]:
    if word == "-e":
        continue
    found = re.fullmatch(r"(\\.|dist/gradkit-[^/]*\\.whl|gradkit-[^/]*\\.whl)(?:\\[(.*)\\])?", word)
    if not found:
        sys.exit(f"pip install {{word}}: needs the network; not run by tests/test_docs_run.py")
    missing = set(filter(None, (found[2] or "").split(","))) - set({sorted(_extras())!r})
    if missing:
        sys.exit(f"pip install {{word}}: no extra {{', '.join(sorted(missing))}} in "
                 "pyproject.toml")
print(f"(tests/test_docs_run.py: {{' '.join(args)}}: this checkout is already installed)")
"""

GRADKIT = f"""#!{sys.executable}
# gradkit, this checkout's, each distinct file of a batch graded once (tests/fake_grader.py),
# and its own wheel (gradescope build, classroom init) the session's, built once
import os, shutil
from pathlib import Path

from graders import cli
from graders.classroom import grading
from graders.commands import classroom, gradescope
from tests.fake_grader import replay_grade


def own_wheel(folder):  # the session's wheel (conftest's gradkit_dist), never built again
    (wheel,) = Path(os.environ["DOCS_WHEEL"]).glob("*.whl")
    return Path(shutil.copy(wheel, folder))


grading.grade = replay_grade
classroom.own_wheel = gradescope.own_wheel = own_wheel
cli.run()
"""

PYTHON = f"""#!/bin/sh
# python, with `-m venv DIR` making a venv whose gradkit and pip are the docs test's
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    {shlex.quote(sys.executable)} -m venv --without-pip "$3" || exit 1
    cp "$DOCS_BIN/gradkit" "$DOCS_BIN/pip" "$3/bin/"
    exit 0
fi
exec {shlex.quote(sys.executable)} "$@"
"""


def _tools(folder: Path) -> Path:
    folder.mkdir()
    for name, text in (("pip", PIP), ("gradkit", GRADKIT),
                       ("python", PYTHON), ("nbgrader", f"#!/bin/sh\nexec "
                                            f"{shlex.quote(sys.executable)} -m nbgrader \"$@\"\n")):
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return folder


def _workspace(folder: Path) -> Path:
    shutil.copytree(ROOT / "examples", folder / "examples")
    for notebook in sorted((ROOT / "examples" / "submissions").glob("*.ipynb")):
        target = folder / "submitted" / notebook.stem / "backprop"
        target.mkdir(parents=True)
        shutil.copy(notebook, target / "backprop.ipynb")
    shutil.copy(ROOT / "examples" / "submissions" / "bob.ipynb", folder / "backprop.ipynb")
    return folder


def _params():
    for page in PAGES:
        commands = [block for block in blocks(page)
                    if block.language == "bash" and not block.note.startswith("skip")]
        if commands:
            marks = [pytest.mark.e2e] if page.name in EXPENSIVE else []
            yield pytest.param(page, id=page.name, marks=marks)


@pytest.fixture(scope="module")
def wheel(gradkit_dist) -> Path:
    """Where gradkit's wheel is: the session's, built once for every test that installs it."""
    return gradkit_dist


@pytest.mark.parametrize("page", list(_params()))
def test_the_commands_of_a_page_run_as_written(page, tmp_path, wheel):
    tools = _tools(tmp_path / "bin")
    work = _workspace(tmp_path / "work")
    env = {**os.environ, "PATH": os.pathsep.join([str(tools), os.environ["PATH"]]),
           "PYTHONPATH": str(ROOT), "DOCS_BIN": str(tools), "DOCS_WHEEL": str(wheel),
           "JUPYTER_PATH": os.environ.get("JUPYTER_PATH", "")}
    env.pop("VIRTUAL_ENV", None)
    for block in blocks(page):
        if block.language != "bash" or block.note.startswith("skip"):
            continue
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.text], cwd=work,
                              env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (f"{block} exits {done.returncode}:\n{block.text}\n"
                                      f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
