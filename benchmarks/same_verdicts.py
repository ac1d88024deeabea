"""Two installed graders give the same verdicts: a speed change must change no grade.

    python benchmarks/same_verdicts.py OLD_VENV NEW_VENV [--seed 12345]

Grades the corpus (every one-mistake mutant of tests/corpus.py, the honest styles of
tests/submissions/correct/, tests/submissions/shapes/ and the example notebooks) with both
venvs' `gradkit grade FILE --seed SEED --results r.json`, and compares each results.json's
verdicts (the score, every test's name, score and status, the flags) and, apart, its text.
`benchmarks/bench_cpu.py` leaves the two venvs in /tmp/gradkit-bench-cpu (venv-baseline,
venv-this). Prints one line per submission; exits 1 when any verdict differs.

The text may differ where the verdict does not: a class whose `_backward` assigns (`=`) where
it should accumulate prints reference-example grads that depend on the order of its `set` of
children, and that order follows memory addresses, which any change to the child moves.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from corpus import CORRECT, MUTANTS  # noqa: E402


def corpus(folder: Path) -> list[Path]:
    """The submissions, written into `folder` under names that say what each is."""
    for mutant in MUTANTS:
        (folder / f"mutant_{mutant.name}.py").write_text(mutant.source())
    for honest in CORRECT:
        shutil.copy(honest, folder / f"honest_{honest.name}")
    for shape in sorted((ROOT / "tests" / "submissions" / "shapes").glob("*.py")):
        shutil.copy(shape, folder / f"shape_{shape.name}")
    for notebook in sorted((ROOT / "examples" / "submissions").glob("*.ipynb")):
        shutil.copy(notebook, folder / notebook.name)
    return sorted(folder.iterdir())


def verdicts(venv: Path, submission: Path, seed: int, scratch: Path) -> tuple[tuple, tuple]:
    """(the verdicts, the texts) of one grade."""
    results = scratch / "r.json"
    results.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    subprocess.run([str(venv / "bin" / "gradkit"), "grade", str(submission), "--seed",
                    str(seed), "--results", str(results)], env=env, cwd=scratch,
                   capture_output=True, timeout=600)
    data = json.loads(results.read_text())
    tests = tuple((t.get("name"), t.get("score"), t.get("status")) for t in data["tests"])
    texts = tuple(t.get("output") for t in data["tests"])
    return (data["score"], tests, tuple(data["extra_data"].get("flags") or ())), texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="a venv with the grader before the change")
    parser.add_argument("new", type=Path, help="a venv with the grader after it")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="gradkit-verdicts-"))
    (scratch / "subs").mkdir()
    differ = worded = 0
    submissions = corpus(scratch / "subs")
    for submission in submissions:
        (old, old_text) = verdicts(args.old, submission, args.seed, scratch)
        (new, new_text) = verdicts(args.new, submission, args.seed, scratch)
        differ += old != new
        worded += old == new and old_text != new_text
        shown = "same" if old == new else "DIFFERS"
        text = "" if old_text == new_text else "  (text differs)"
        print(f"{shown}  {submission.name}  {new[0]:g}{text}")
    print(f"{differ} of {len(submissions)} submissions graded differently; {worded} more "
          "with the same verdicts and other text")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
