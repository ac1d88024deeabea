"""Measure the trusted parent's own work on big hostile submissions: it must be linear in size.

A submission up to the loader's limits (64 MiB file, 8 MiB of code) passes every sandbox limit,
so whatever the parent does with its text (load it, hash it, find each op's line for the CI
annotations, write every report) must cost time proportional to its size, never more. This
grades nothing in a child: it times the parent-side steps on notebooks of 1, 2, 4 and 8 MiB made
of the lines that used to be slow (comments with non-ASCII characters, which a line search keyed
on ASCII-escaped JSON never found), plus plain Python files, and reports seconds per MiB at each
size. Linear means the per-MiB time at 8 MiB stays within a small factor of the 1 MiB one.

Run: `python benchmarks/bench_parent.py [--sizes 1 2 4 8]`.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graders.api import unscored
from graders.classroom.gradebook import content_hash
from graders.report import ci, html, markdown, terminal
from graders.report.gradescope import gradescope
from graders.run.loader import SubmissionError, load
from graders.spec.assignments import BUILTIN

LINE = "# ünïcödé comment line that a student pasted from somewhere — " + "x" * 40


def notebook(size: int) -> str:
    lines = [LINE + f" {n}\n" for n in range(size // (len(LINE.encode()) + 10))]
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["class Value:\n", "    pass\n", *lines]}
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]},
                      indent=1, ensure_ascii=False)


def parent_steps(path: Path) -> float:
    """Everything the parent does with a submission's text, outside the child."""
    started = time.perf_counter()
    content_hash(path)
    try:
        load(path)
    except SubmissionError:
        pass  # refusing a file over the code limit is parent work too
    result = unscored(str(path), BUILTIN["backprop"], f"{path}: example problem")
    ci.annotations(result, path)
    ci.classroom(result, path)
    ci.junit_xml(result)
    ci.step_summary(result)
    markdown.page_markdown(result)
    html.page(result)
    json.dumps(gradescope(result))
    terminal.render(result, file=io.StringIO())
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 2, 4, 8],
                        help="submission sizes in MiB (default 1 2 4 8; fractions for a smoke "
                             "run, as the test suite's)")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mib in args.sizes:
            for suffix in (".ipynb", ".py"):
                path = Path(tmp) / f"big{suffix}"
                size = int(mib * (1 << 20))
                text = notebook(size)
                if suffix == ".py":
                    text = "class Value:\n    pass\n" + (LINE + "\n") * (size // len(LINE))
                path.write_text(text, encoding="utf-8")
                seconds = min(parent_steps(path) for _ in range(3))
                real = path.stat().st_size / (1 << 20)
                rows.append((suffix, mib, real, seconds, seconds / real))
    print(f"{'kind':7} {'MiB':>5} {'seconds':>8} {'s/MiB':>8} {'vs first':>9}")
    first = {}
    for suffix, _mib, real, seconds, per in rows:
        first.setdefault(suffix, per)
        print(f"{suffix:7} {real:5.1f} {seconds:8.3f} {per:8.4f} {per / first[suffix]:8.2f}x")
    worst = max(per / first[suffix] for suffix, _, _, _, per in rows)
    print(f"worst per-MiB ratio against the smallest size: {worst:.2f}x (linear: close to 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
