"""Where a batch's gradings run: in this process, a local pool of processes, or a Dask cluster.

Every executor has one job: call `fn(job)` for each job and yield `(job, outcome)` as each one
finishes, in whatever order. Jobs and outcomes are picklable records (`records.Job`,
`records.Graded`), so the batch's parent stays the only writer of the gradebook whatever runs the
gradings. A job whose worker failed yields `records.WorkerFailed` instead of raising, so the
batch can still give it a row.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from graders.classroom.records import Graded, Job, WorkerFailed

Outcome = Graded | WorkerFailed
Fn = Callable[[Job], Graded]


class ExecutorError(Exception):
    """The executor cannot start (no such scheduler, dask missing): a usage problem."""


def _error(error: BaseException) -> WorkerFailed:
    return WorkerFailed(f"{type(error).__name__}: {error}")


def inline(fn: Fn, jobs: Iterable[Job]) -> Iterator[tuple[Job, Outcome]]:
    """One at a time in this process (`-j 1`): no start-up cost, easiest to debug."""
    for job in jobs:
        try:
            yield job, fn(job)
        except Exception as error:  # a grader bug costs one submission, not the batch
            yield job, _error(error)


def local(fn: Fn, jobs: Iterable[Job], workers: int) -> Iterator[tuple[Job, Outcome]]:
    """A pool of `workers` processes. forkserver, not fork: the parent runs a progress thread,
    and forking a threaded process can deadlock the child. If a worker dies (the pool breaks),
    the jobs that were in flight are retried once in a fresh pool, then recorded as errors."""
    pending = list(jobs)
    deaths: dict[int, int] = {}
    context = multiprocessing.get_context("forkserver")
    while pending:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        queue = iter(pending)
        futures: dict[Future, Job] = {}
        finished: set[int] = set()
        suspects: list[Job] = []
        try:
            for job in queue:  # 2 per worker in flight: little to cancel on Ctrl-C
                futures[pool.submit(fn, job)] = job
                if len(futures) >= 2 * workers:
                    break
            while futures and not suspects:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    job = futures.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        suspects.append(job)
                        continue
                    except Exception as error:
                        outcome = _error(error)
                    finished.add(id(job))
                    yield job, outcome
                if not suspects:
                    for job in queue:
                        futures[pool.submit(fn, job)] = job
                        break
        finally:
            pool.shutdown(wait=not suspects, cancel_futures=True)
        suspects += futures.values()
        pending = [job for job in pending if id(job) not in finished]
        for job in suspects:
            deaths[id(job)] = deaths.get(id(job), 0) + 1
            if deaths[id(job)] > 1:
                pending.remove(job)
                yield job, WorkerFailed("the grading worker process died on this submission")


def dask(fn: Fn, jobs: Iterable[Job], scheduler: str) -> Iterator[tuple[Job, Outcome]]:
    """Submit every job to an existing Dask cluster at `scheduler` (`tcp://host:8786`, or a
    `distributed.Client`/`LocalCluster` object for tests). Workers need gradkit installed."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ExecutorError("--executor dask needs dask.distributed: "
                            "pip install 'gradkit[scale]'") from None
    try:
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler, timeout=10)
    except OSError as error:
        raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    owned = client is not scheduler
    try:
        jobs = list(jobs)
        futures = {client.submit(fn, job, pure=False, key=f"gradkit-{index}-{job.student}"):
                   job for index, job in enumerate(jobs)}
        for future in as_completed(futures):
            job = futures[future]
            try:
                outcome = future.result()
            except Exception as error:
                outcome = _error(error)
            yield job, outcome
    finally:
        if owned:
            client.close()
