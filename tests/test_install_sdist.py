"""gradkit's sdist, as a packager gets it: built with `python -m build`, installed into a fresh
venv outside the repository (its build backend from the wheelhouse), grading the example."""

from __future__ import annotations

import pytest

from tests.installing import grades_the_example, venv


@pytest.mark.slow
def test_the_sdist_installs_and_grades(tmp_path, gradkit_dist):
    (sdist,) = gradkit_dist.glob("gradkit-*.tar.gz")
    work = tmp_path / "work"
    work.mkdir()
    grades_the_example(venv(tmp_path / "venv", sdist), work)
