"""A batch on a (local) Dask cluster: same grades, and the gradebook stays the only record."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from graders.classroom import batch
from graders.classroom.gradebook import Gradebook
from tests.corpus import BASE, mutant

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'gradkit[scale]')")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


def test_a_batch_runs_on_a_dask_scheduler(tmp_path: Path, cluster):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ada.py").write_text(BASE.read_text())
    (subs / "bob.py").write_text(mutant("pow_no_minus_one").source())
    (subs / "cy.ipynb").write_text("not json")
    options = batch.Options(outdir=tmp_path / "out", executor="dask",
                            scheduler=cluster.scheduler_address, progress=False)
    report = batch.run([subs], options)
    assert (report.graded, report.ungradable, report.errors) == (2, 1, 0)
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        grades = {row["student"]: row for row in csv.DictReader(handle)}
    assert grades["ada"]["total"] == grades["ada"]["max_score"]
    assert float(grades["bob"]["pow"]) < 2 and grades["bob"]["tanh"] == "2"
    again = batch.run([subs], options)
    assert (again.graded, again.unchanged) == (0, 3)
    with Gradebook(tmp_path / "out") as book:
        assert sorted(student for student, _, _ in book.gradings()) == ["ada", "bob", "cy"]


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path):
    from graders.classroom import executors
    (tmp_path / "a.py").write_text(BASE.read_text())
    options = batch.Options(outdir=tmp_path / "out", executor="dask",
                            scheduler="tcp://127.0.0.1:9", progress=False)
    with pytest.raises(executors.ExecutorError, match="cannot reach the Dask scheduler"):
        batch.run([tmp_path / "a.py"], options)
