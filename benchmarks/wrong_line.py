"""Measure the line that is wrong: on the mutant corpus, how often the report names the line.

Every one-mistake mutant in `tests/corpus.py` is graded at several seeds; a mutant counts as
located at a seed when the op it breaks carries a `wrong_line` whose lines are all among the
lines the mutant changed (a named line anywhere else is a wrong line). Submissions where no
single line can be named are graded too, and any line named there is wrong: every correct
submission, and every pair of mutants of one op whose edits touch different lines (two
mistakes in one op: no single edit fixes it).
Run: `python benchmarks/wrong_line.py [--seeds N] [--limit N]`.

`--cpu N` measures instead what the search costs (benchmarks/cputime.py, the median of N
`gradkit grade` runs each): a correct submission and a failing one (three ops wrong: two with
one mistake, one with two), graded with `wrong_line = "line"` (the default) and `"off"`.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graders.api import grade
from tests import corpus


def changed_lines(source: str) -> set[int]:
    """The lines of `source` (1-based) that differ from the corpus's honest base."""
    base = corpus.BASE.read_text().splitlines()
    matcher = difflib.SequenceMatcher(a=base, b=source.splitlines(), autojunk=False)
    return {line + 1 for tag, _, _, j1, j2 in matcher.get_opcodes() if tag != "equal"
            for line in range(j1, j2)}


def two_mistakes(mutants=corpus.MUTANTS) -> list[corpus.Mutant]:
    """Two mistakes in one op, on two lines: of two mutants of one op that each change the
    same two lines (one per input), the first's edit of one line and the second's of the other
    (`self.grad += 1.0` beside `other.grad = 1.0 * out.grad`). No single edit fixes them."""
    pairs = []
    for first, second in combinations(mutants, 2):
        if first.breaks != second.breaks or len(first.edits) != 2 or len(second.edits) != 2 \
                or [old for old, _ in first.edits] != [old for old, _ in second.edits]:
            continue
        for one, other in ((first, second), (second, first)):
            pairs.append(corpus.Mutant(f"{one.name}/{other.name}", first.breaks, "",
                                       (one.edits[0], other.edits[1])))
    return pairs


def failing_source() -> str:
    """Three ops wrong: `add` and `tanh` with one mistake each, `mul` with two."""
    source = corpus.mutant("add_no_upstream").source()
    source = source.replace(corpus.TANH, "self.grad -= (1 - t**2) * out.grad")
    source = source.replace(corpus.MUL_SELF, "self.grad = other.data * out.grad")
    return source.replace(corpus.MUL_OTHER, "other.grad += other.data * out.grad")


def cpu(repeats: int) -> None:
    """The median CPU of a grade with the search on and off, correct and failing code."""
    import statistics

    from benchmarks.cputime import measure

    with tempfile.TemporaryDirectory() as folder:
        files = {"correct": Path(folder) / "correct.py", "failing": Path(folder) / "failing.py"}
        files["correct"].write_text(corpus.BASE.read_text())
        files["failing"].write_text(failing_source())
        for setting in ("line", "off"):
            (Path(folder) / f"{setting}.toml").write_text(f'wrong_line = "{setting}"\n')
        for name, path in files.items():
            runs: dict[str, list] = {"off": [], "line": []}
            for _ in range(repeats):  # interleaved, so a busy machine weighs on both alike
                for setting, kept in runs.items():
                    kept.append(measure([sys.executable, "-m", "graders", "grade", str(path),
                                         "--seed", "1", "--config",
                                         str(Path(folder) / f"{setting}.toml"),
                                         "--results", str(Path(folder) / "r.json")]))
            said = [f"{setting}: {statistics.median(r.cpu for r in kept):.3f} s CPU, "
                    f"{statistics.median(r.wall for r in kept):.3f} s wall ({kept[0].method})"
                    for setting, kept in runs.items()]
            print(f"{name}: " + "; ".join(said))


def line_of(result, key: str):
    op = next((op for op in result.ops if op.key == key), None)
    return None if op is None or op.passed else op.wrong_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per submission")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="grade only the first N of each kind of submission (a smoke run): "
                             "the figures are then not the corpus's")
    parser.add_argument("--cpu", type=int, metavar="N",
                        help="measure the CPU a grade's search costs instead (N runs each)")
    args = parser.parse_args(argv)
    if args.cpu:
        cpu(args.cpu)
        return 0
    seeds = range(1, args.seeds + 1)
    mutants = corpus.MUTANTS[:args.limit]
    pairs, correct = two_mistakes()[:args.limit], corpus.CORRECT[:args.limit]
    located = total = 0
    missed, wrong = [], []
    with tempfile.TemporaryDirectory() as folder:
        for mutant in mutants:
            path = Path(folder) / f"{mutant.name}.py"
            source = mutant.source()
            path.write_text(source)
            mutated = changed_lines(source)
            for seed in seeds:
                line = line_of(grade(path, seed=seed), mutant.breaks)
                total += 1
                if line is None:
                    missed.append(f"{mutant.name} seed {seed}: no line named")
                elif set(line.lines) <= mutated:
                    located += 1
                else:
                    wrong.append(f"{mutant.name} seed {seed}: named {line.where()}, the "
                                 f"mutant changed lines {sorted(mutated)}")
        unnamed = 0
        for pair in pairs:
            path = Path(folder) / "pair.py"
            path.write_text(pair.source())
            for seed in seeds:
                unnamed += 1
                result = grade(path, seed=seed)
                wrong += [f"{pair.name} seed {seed}: named {op.wrong_line.where()} for "
                          f"{op.key}" for op in result.ops if op.wrong_line]
    for path in correct:
        for seed in seeds:
            unnamed += 1
            result = grade(path, seed=seed)
            wrong += [f"{path.name} seed {seed}: named {op.wrong_line.where()} for {op.key}"
                      for op in result.ops if op.wrong_line]
    for line in missed + wrong:
        print(line)
    print(f"named the mutated line: {located}/{total} one-mistake mutant gradings "
          f"({100 * located / max(total, 1):.1f}%), {len(mutants)} mutants x {len(seeds)} "
          "seeds")
    print(f"lines named wrongly: {len(wrong)} (mutants, {len(pairs)} two-mistake "
          f"submissions and {len(correct)} correct ones, {unnamed} gradings of the last two)")
    return 0 if not wrong else 1


if __name__ == "__main__":
    raise SystemExit(main())
