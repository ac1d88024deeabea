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

import hashlib
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from graders.model import valid_text

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
    renamed: str | None = None  # why the id is not the name on disk (see `assign_ids`)


def _clean(student: str) -> str:
    return UNSAFE_ID.sub("_", student).strip("_") or "unnamed"


def _candidates(folder: Path) -> list[Path]:
    """Submission-looking files under `folder`, skipping checkpoints, grader output and hidden
    folders. Walked with an explicit stack (a folder nested thousands deep is only deep, not a
    crash) and never through a symlinked folder (no loops); a file is only looked at, never
    opened: a FIFO or a symlink named `x.ipynb` is returned for the loader to refuse."""
    found = []
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name in SKIP_PARTS:
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            elif Path(entry.name).suffix in SUFFIXES:
                found.append(Path(entry.path))
    return sorted(found)


def _nbgrader(submitted: Path, assignment: str | None) -> list[Submission]:
    subs = []
    for student_dir in _folders(submitted):
        for assignment_dir in _folders(student_dir):
            if assignment and assignment_dir.name != assignment:
                continue
            files = _candidates(assignment_dir)
            if not files:
                subs.append(Submission(student_dir.name, assignment_dir,
                                       assignment_dir.name,
                                       f"{assignment_dir}: no .ipynb or .py file submitted"))
                continue
            subs.append(_pick(student_dir.name, files, assignment_dir.name))
    return subs


def _folders(parent: Path) -> list[Path]:
    """The real (not symlinked) folders in `parent`, sorted."""
    try:
        return sorted(Path(e.path) for e in os.scandir(parent) if e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def _pick(student: str, files: list[Path], assignment: str = "") -> Submission:
    """One file per student: the notebook if there is one, else the single .py file."""
    notebooks = [f for f in files if f.suffix == ".ipynb"]
    chosen = notebooks or files
    if len(chosen) > 1:
        names = ", ".join(f.name[:80] for f in chosen[:5])
        if len(chosen) > 5:
            names += f", and {len(chosen) - 5} more"
        return Submission(student, chosen[0], assignment,
                          f"{chosen[0].parent}: {len(chosen)} candidate files ({names}); "
                          "submit exactly one notebook")
    return Submission(student, chosen[0], assignment)


def _plain(folder: Path) -> list[Submission]:
    subs = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name in SKIP_PARTS:
            continue
        if path.is_dir() and not path.is_symlink():
            files = _candidates(path)
            if files:
                subs.append(_pick(path.name, files))
        elif path.suffix in SUFFIXES:
            subs.append(Submission(path.stem, path))
    return subs


def discover(paths: list[str | Path], *, assignment: str | None = None) -> list[Submission]:
    """All submissions under `paths`, sorted by student, with unique student ids.

    A path that does not exist becomes a submission with a problem rather than an exception
    (for library callers; `gradkit grade` refuses such a path before grading anything).
    """
    subs: list[Submission] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            subs.append(Submission(path.stem, path, assignment or "",
                                   f"{path}: no such file or folder"))
        elif not path.is_dir():
            subs.append(Submission(path.stem, path, assignment or ""))
        elif (path / "submitted").is_dir():
            subs += _nbgrader(path / "submitted", assignment)
        elif path.name == "submitted":
            subs += _nbgrader(path, assignment)
        elif path.parent.name == "submitted":  # one student's folder
            subs += [s for s in _nbgrader(path.parent, assignment) if s.student == path.name]
        else:
            subs += _plain(path)
    return assign_ids([_as_text(sub) for sub in subs])


def _as_text(sub: Submission) -> Submission:
    """Names on disk need not be UTF-8 (Python keeps such bytes as lone surrogates): the
    assignment and the problem are text every writer can carry. The path stays as it is, to
    open the file."""
    return replace(sub, assignment=valid_text(sub.assignment),
                   problem=valid_text(sub.problem) if sub.problem else sub.problem)


def _tag(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:6]


def assign_ids(subs: list[Submission]) -> list[Submission]:
    """Give each submission its id by one stable rule; an id never goes to another file.

    - A name that is already a clean id (letters, digits, `_ . @ + -`) is the id.
    - A name that needed cleaning gets the cleaned form plus `~` and a tag of the original
      name (`bob!smith` -> `bob_smith~1a2b3c`): it cannot take `bob_smith` from a real Bob,
      and `~` is never in a clean name, so no name can claim a tagged id either.
    - Ids that are equal ignoring case (`Alice`, `alice`: one file on a case-insensitive file
      system), or equal outright (the same name in two folders given), each get a tag of their
      path instead: every one is graded, none overwrites another, whatever the order.

    Each changed id carries `renamed`, the reason, which the batch reports.
    """
    named = []
    for sub in subs:
        clean = _clean(sub.student)
        if clean != sub.student:
            sub = replace(sub, student=f"{clean}~{_tag(sub.student)}",
                          renamed=f"{sub.student!r} has characters an id cannot carry")
        named.append(sub)
    groups: dict[tuple[str, str], list[int]] = {}
    for index, sub in enumerate(named):
        groups.setdefault((sub.student.casefold(), sub.assignment), []).append(index)
    for members in groups.values():
        if len(members) < 2:
            continue
        names = valid_text(", ".join(sorted({str(named[i].path) for i in members})))
        for index in members:
            sub = named[index]
            named[index] = replace(sub, student=f"{sub.student}~{_tag(str(sub.path))}",
                                   renamed=f"{len(members)} submissions claim the id "
                                           f"{sub.student!r} ({names})")
    return sorted(named, key=lambda s: (s.student, str(s.path)))


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
