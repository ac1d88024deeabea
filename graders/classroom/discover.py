"""Find the submissions in the paths an instructor gives, and whose each one is.

Two layouts are understood, because they are what instructors already have on disk:

* nbgrader's `submitted/<student>/<assignment>/<file>.ipynb` (the path given may be the course
  root, the `submitted` folder itself, or one student's folder inside it);
* plain folders: `<dir>/<student>.ipynb` (id = file name without suffix) or
  `<dir>/<student>/<file>.ipynb` (id = the folder name), as an LMS bulk download produces.

Everything else that looks like a submission is still returned (never silently dropped): a file
that cannot be a submission gets a `problem` so the batch can give it a row with score 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".ipynb", ".py")
SKIP_PARTS = {".ipynb_checkpoints", "__pycache__", ".git", "feedback", "autograded"}
UNSAFE_ID = re.compile(r"[^\w.@+-]+")


@dataclass(frozen=True)
class Submission:
    """One student's file to grade; `student` is unique within a batch."""

    student: str
    path: Path
    assignment: str = ""
    problem: str | None = None  # known before grading: the batch records it with score 0


def _clean(student: str) -> str:
    return UNSAFE_ID.sub("_", student).strip("_") or "unnamed"


def _candidates(folder: Path) -> list[Path]:
    """Submission-looking files under `folder`, skipping checkpoints and grader output."""
    found = []
    for path in sorted(folder.rglob("*")):
        parts = set(path.relative_to(folder).parts)
        if parts & SKIP_PARTS or any(p.startswith(".") for p in parts):
            continue
        if path.suffix in SUFFIXES and (path.is_file() or path.is_symlink()):
            found.append(path)
    return found


def _nbgrader(submitted: Path, assignment: str | None) -> list[Submission]:
    subs = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if assignment and assignment_dir.name != assignment:
                continue
            files = _candidates(assignment_dir)
            if not files:
                subs.append(Submission(_clean(student_dir.name), assignment_dir,
                                       assignment_dir.name,
                                       f"{assignment_dir}: no .ipynb or .py file submitted"))
                continue
            subs.append(_pick(_clean(student_dir.name), files, assignment_dir.name))
    return subs


def _pick(student: str, files: list[Path], assignment: str = "") -> Submission:
    """One file per student: the notebook if there is one, else the single .py file."""
    notebooks = [f for f in files if f.suffix == ".ipynb"]
    chosen = notebooks or files
    if len(chosen) > 1:
        names = ", ".join(f.name for f in chosen)
        return Submission(student, chosen[0], assignment,
                          f"{chosen[0].parent}: {len(chosen)} candidate files ({names}); "
                          "submit exactly one notebook")
    return Submission(student, chosen[0], assignment)


def _plain(folder: Path) -> list[Submission]:
    subs = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name in SKIP_PARTS:
            continue
        if path.is_dir():
            files = _candidates(path)
            if files:
                subs.append(_pick(_clean(path.name), files))
        elif path.suffix in SUFFIXES:
            subs.append(Submission(_clean(path.stem), path))
    return subs


def discover(paths: list[str | Path], *, assignment: str | None = None) -> list[Submission]:
    """All submissions under `paths`, sorted by student, with unique student ids.

    A path that does not exist becomes a submission with a problem rather than an exception,
    so one typo in a long list does not stop a batch.
    """
    subs: list[Submission] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            subs.append(Submission(_clean(path.stem), path, assignment or "",
                                   f"{path}: no such file or folder"))
        elif not path.is_dir():
            subs.append(Submission(_clean(path.stem), path, assignment or ""))
        elif (path / "submitted").is_dir():
            subs += _nbgrader(path / "submitted", assignment)
        elif path.name == "submitted":
            subs += _nbgrader(path, assignment)
        elif path.parent.name == "submitted":  # one student's folder
            subs += [s for s in _nbgrader(path.parent, assignment)
                     if s.student == _clean(path.name)]
        else:
            subs += _plain(path)
    return _unique(subs)


def _unique(subs: list[Submission]) -> list[Submission]:
    """Two files claiming one student id both get graded, under distinct ids."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for sub in subs:
        key = (sub.student, sub.assignment)
        count = seen.get(key, 0)
        seen[key] = count + 1
        if count:
            sub = Submission(f"{sub.student}~{count + 1}", sub.path, sub.assignment,
                             sub.problem)
        out.append(sub)
    return sorted(out, key=lambda s: (s.student, str(s.path)))


def shard(subs: list[Submission], spec: str | None) -> list[Submission]:
    """Submissions of shard K of N (`"3/10"`), by position in the sorted list.

    Sorting first makes the split the same on every machine of a CI matrix or Slurm array that
    sees the same files, so each submission lands in exactly one shard.
    """
    if not spec:
        return subs
    k, n = parse_shard(spec)
    return [sub for index, sub in enumerate(subs) if index % n == k - 1]


def parse_shard(spec: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec)
    if not match:
        raise ValueError(f"--shard {spec!r}: expected K/N, for example 3/10")
    k, n = int(match[1]), int(match[2])
    if not 1 <= k <= n:
        raise ValueError(f"--shard {spec!r}: K must be between 1 and N")
    return k, n
