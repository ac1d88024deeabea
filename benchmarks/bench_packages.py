"""What allowing numpy costs a child that does not import it, and what importing it costs.

    python benchmarks/bench_packages.py [--repeats 15] [--json out.json]

Starts sandboxed children (graders/run/sandbox.Child) over a one-cell program and times each
from the start until its `loaded` record (the harness, the guard, the cell), then ends it;
on each path this machine has (`bubblewrap`; `no bubblewrap`: Landlock + seccomp), for:

- `packages = []`: the standard library only (what the child was before numpy);
- `numpy allowed`: the same cell, numpy bound and mapped but not imported; the harness never
  imports it for the student, so this should cost only the extra binds or Landlock rules;
- `numpy imported`: a cell that runs `import numpy`.

Prints a Markdown table of medians (wall milliseconds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graders.model import Limits
from graders.run import sandbox

CASES = {"packages = []": ((), "x = 1"),
         "numpy allowed": (("numpy",), "x = 1"),
         "numpy imported": (("numpy",), "import numpy as np\nx = np.tanh(0.5)")}


def start_to_loaded(strong: bool, allowed: tuple[str, ...], source: str) -> float:
    """Seconds from starting a child to its `loaded` record."""
    program = {"cells": [{"index": 1, "source": source}], "methods": [], "cell_seconds": 30}
    started = time.perf_counter()
    child = sandbox.Child(program, Limits(), strong=strong, allowed=allowed)
    try:
        for record in child.records(time.monotonic() + 60):
            if record.get("kind") == "loaded":
                assert all(cell["status"] == "ok" for cell in record["cells"]), record
                return time.perf_counter() - started
    finally:
        child.kill()
    raise RuntimeError("no loaded record")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    paths = {"no bubblewrap": False}
    if sandbox.bwrap_path():
        paths = {"bubblewrap": True, **paths}
    figures: dict[str, dict[str, float]] = {}
    for path, strong in paths.items():
        samples: dict[str, list[float]] = {case: [] for case in CASES}
        for _ in range(args.repeats):  # interleaved: drift hits every case alike
            for case, (allowed, source) in CASES.items():
                samples[case].append(start_to_loaded(strong, allowed, source))
        figures[path] = {case: 1000 * statistics.median(values)
                         for case, values in samples.items()}
    print("| path | " + " | ".join(CASES) + " |")
    print("| --- |" + " --- |" * len(CASES))
    for path, row in figures.items():
        print(f"| {path} | " + " | ".join(f"{row[case]:.0f} ms" for case in CASES) + " |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
