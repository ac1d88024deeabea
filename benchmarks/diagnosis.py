"""Measure the diagnosis: on the mutant corpus, how often the report names the right mistake.

Every one-mistake mutant in `tests/corpus.py` is graded at several seeds; a mutant counts as
diagnosed at a seed when the op it breaks fails and its diagnosis names the catalogued mistake
the mutant was made with, and it loses points on that op alone, besides the lecture's example
when the example uses the op (under the default own-code credit rule every other op is checked
with the grader's versions of the ops it calls; the example is end to end). Every correct
submission is graded too, and any diagnosis there (or any failing op) is a wrong diagnosis.
Run: `python benchmarks/diagnosis.py [--seeds N] [--limit N]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graders.api import grade
from tests import corpus


def named(result, key: str) -> str | None:
    op = next((op for op in result.ops if op.key == key), None)
    if op is None or op.passed or not op.diagnosis:
        return None
    return op.diagnosis.key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per submission")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="grade only the first N mutants and N correct submissions (a "
                             "smoke run, as the test suite's; tests/test_diagnosis.py checks "
                             "the whole corpus): the figures are then not the corpus's")
    args = parser.parse_args(argv)
    seeds = range(1, args.seeds + 1)
    mutants, correct = corpus.MUTANTS[:args.limit], corpus.CORRECT[:args.limit]
    hits = total = only_own = 0
    misses, spread = [], []
    with tempfile.TemporaryDirectory() as folder:
        for mutant in mutants:
            path = Path(folder) / f"{mutant.name}.py"
            path.write_text(mutant.source())
            for seed in seeds:
                result = grade(path, seed=seed)
                got = named(result, mutant.breaks)
                total += 1
                lost = {op.key for op in result.ops if op.points < op.max_points}
                example = {"reference_example"} \
                    if mutant.breaks in corpus.REFERENCE_USES else set()
                if mutant.breaks in lost and lost <= {mutant.breaks} | example:
                    only_own += 1
                else:
                    spread.append(f"{mutant.name} seed {seed}: lost points on "
                                  f"{', '.join(sorted(lost))}")
                if got == mutant.mistake:
                    hits += 1
                else:
                    misses.append(f"{mutant.name} seed {seed}: named {got!r}, "
                                  f"want {mutant.mistake!r}")
    wrong = []
    for path in correct:
        for seed in seeds:
            result = grade(path, seed=seed)
            wrong += [f"{path.name} seed {seed}: {op.key} {op.status} "
                      f"{(op.diagnosis or {}).get('key')}"
                      for op in result.ops if op.diagnosis or not op.passed]
    for line in misses + spread + wrong:
        print(line)
    print(f"named the right op and mistake: {hits}/{total} mutant gradings "
          f"({100 * hits / max(total, 1):.1f}%), {len(mutants)} mutants x "
          f"{len(seeds)} seeds")
    print(f"points lost only on the op the mistake is in (and the example, when it uses the "
          f"op): {only_own}/{total} mutant gradings")
    print(f"wrong diagnoses on correct code: {len(wrong)} "
          f"({len(correct)} submissions x {len(seeds)} seeds)")
    return 0 if not misses and not wrong and not spread else 1


if __name__ == "__main__":
    raise SystemExit(main())
