"""Installing gradkit as users get it, for the tests that do (tests/test_install*.py): a venv
outside the checkout, pip reading only the session's wheelhouse, and the installed `gradkit`
grading the bundled example. The install tests are three files so that xdist runs them on three
workers at once (each is minutes of pip and interpreters; one file would run them in a row).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, offline_pip_env


def run(*command: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    # pip (here, and in the setup.sh of each autograder tried) installs from the session's
    # wheelhouse: the same packages the registry gives, downloaded once (tests/conftest.py).
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=offline_pip_env(),
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


def venv(folder: Path, package: Path, *more: str, with_pip: bool = False) -> Path:
    """A fresh venv with `package` (and `more`) installed by pip. Without `with_pip` the venv
    gets no pip of its own and this interpreter's pip installs into it (`--python`): the same
    pip and the same install, without ensurepip compiling a pip (9 CPU-s a venv, measured)."""
    if with_pip:
        run(sys.executable, "-m", "venv", folder, cwd=folder.parent)
        pip = [folder / "bin" / "pip"]
    else:
        run(sys.executable, "-m", "venv", "--without-pip", folder, cwd=folder.parent)
        pip = [sys.executable, "-m", "pip", "--python", folder / "bin" / "python"]
    run(*pip, "install", "-q", "--disable-pip-version-check", package, *more, cwd=folder.parent)
    return folder / "bin"


def grades_the_example(bin_: Path, work: Path) -> None:
    """The installed `gradkit grade` on the bundled example, from a folder with no checkout."""
    shutil.copy(ROOT / "examples" / "submissions" / "bob.ipynb", work)
    graded = run(bin_ / "gradkit", "grade", "bob.ipynb", cwd=work)
    assert re.search(r"score \d+ / 25", graded.stdout), graded.stdout
