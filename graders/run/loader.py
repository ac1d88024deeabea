"""Turn a submission file into the code cells a fresh kernel would run, or say why it cannot.

This runs in the trusted parent on untrusted bytes, so it only reads and parses (with a size cap
and no symlinks); nothing here executes the student's code. IPython magics and `!` shell lines
are replaced by `pass` so line numbers still match what the student sees.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from graders.model import valid_text

MAX_FILE_BYTES = 64 * 1024 * 1024  # a notebook with its stored outputs (plots are large)
MAX_CODE_BYTES = 8 * 1024 * 1024  # the code that will run: what the limit is about
SAFE_CELL_MAGICS = {"time", "timeit", "capture", "prun"}  # run the body, drop the magic line
LINE_MAGIC = re.compile(r"^(\s*)(?:[%!]|\w+\s*=\s*[%!]).*$")
HELP_LINE = re.compile(r"^(\s*)[\w.]+\?{1,2}\s*$")
GRADE_CALL = re.compile(r"course\.grade\(\s*['\"](\w+)['\"]")


class SubmissionError(Exception):
    """The submission cannot be run at all; the message names the file and the problem (as
    valid UTF-8: a file name need not be)."""

    def __init__(self, message: str) -> None:
        super().__init__(valid_text(message))


@dataclass(frozen=True)
class Cell:
    index: int  # 1-based position among all cells of the notebook (the one a student counts)
    source: str


@dataclass(frozen=True)
class Program:
    path: Path
    kind: str  # "notebook" or "python"
    cells: tuple[Cell, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    grade_ids: tuple[str, ...] = ()  # nbgrader's grade cell ids (metadata), or course.grade keys

    def task_keys(self) -> tuple[str, ...]:
        """The task keys the notebook's grade cells name (`grade_<key>` or `course.grade('key'`),
        which say what assignment it is; the cells are read, never run, to find them."""
        keys = [gid.removeprefix("grade_") for gid in self.grade_ids]
        for cell in self.cells:
            keys += GRADE_CALL.findall(cell.source)
        return tuple(dict.fromkeys(keys))

    def to_json(self) -> dict:
        return {"cells": [{"index": c.index, "source": c.source} for c in self.cells]}


def open_regular(path: Path, shown_as: Path | None = None) -> int:
    """An fd for `path` if it is a regular file within the size cap, else SubmissionError.

    Checked without following a symlink, and opened non-blocking and re-checked on the fd, so
    a FIFO, a device (a symlink to /dev/zero) or a file swapped in between is refused without
    a read that could hang or never end. Errors name `shown_as` when given (the file as the
    student submitted it, when a copy of it is read).
    """
    name = shown_as or path
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise SubmissionError(f"{name}: no such file") from None
    except OSError as error:
        raise SubmissionError(f"{name}: cannot be read ({error.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise SubmissionError(f"{name}: is a symbolic link; submit the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise SubmissionError(f"{name}: not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise SubmissionError(f"{name}: {info.st_size} bytes, over the {MAX_FILE_BYTES} byte "
                              "limit for a submission file")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise SubmissionError(f"{name}: cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SubmissionError(f"{name}: not a regular file")
    return fd


def read_bytes(path: Path, shown_as: Path | None = None) -> bytes:
    """A submission file's bytes (a regular file, within the size cap)."""
    with os.fdopen(open_regular(path, shown_as), "rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


def decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SubmissionError(
            f"{path}: not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}); "
            "save the file as UTF-8"
        ) from None


def strip_magics(index: int, source: str, notes: list[str]) -> str:
    """Neutralise IPython syntax, keeping every line where it was."""
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].strip()[2:].split()[0] if lines[first].strip()[2:] else ""
        if magic in SAFE_CELL_MAGICS:
            lines[first] = ""
        else:
            notes.append(f"cell {index}: skipped a %%{magic} cell (cell magics are not run)")
            return "\n" * (len(lines) - 1)
    for number, line in enumerate(lines):
        match = LINE_MAGIC.match(line) or HELP_LINE.match(line)
        if match:
            notes.append(f"cell {index}, line {number + 1}: skipped `{line.strip()[:60]}` "
                         "(shell commands and magics are never run)")
            lines[number] = f"{match.group(1)}pass"
    return "\n".join(lines)


def _grade_id(cell: dict) -> str | None:
    meta = cell.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    if isinstance(nbgrader, dict) and nbgrader.get("grade") and \
            isinstance(nbgrader.get("grade_id"), str):
        return valid_text(nbgrader["grade_id"][:100])
    return None


def _is_solution(cell: dict) -> bool:
    meta = cell.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    return isinstance(nbgrader, dict) and nbgrader.get("solution") is True


def _v3_cells(path: Path, worksheets: object) -> list:
    """The cells of an nbformat-3 notebook's worksheets, refusing any other shape."""
    if not isinstance(worksheets, list):
        raise SubmissionError(f"{path}: not a notebook: 'worksheets' is not a list")
    cells = []
    for number, sheet in enumerate(worksheets, start=1):
        inner = sheet.get("cells", []) if isinstance(sheet, dict) else None
        if not isinstance(inner, list):
            raise SubmissionError(f"{path}: not a notebook: worksheet {number} has no cell list")
        cells += inner
    return cells


def cells_from_notebook(path: Path, text: str) -> tuple[list[tuple[int, str]], list[str]]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        what = "truncated JSON" if error.pos >= len(text.rstrip()) else "invalid JSON"
        raise SubmissionError(
            f"{path}: not a notebook: {what} at line {error.lineno}, column {error.colno} "
            f"({error.msg})"
        ) from None
    except RecursionError:
        raise SubmissionError(f"{path}: not a notebook: JSON nested too deeply") from None
    except ValueError as error:  # an integer past Python's digit limit, and the like
        raise SubmissionError(f"{path}: not a notebook: {str(error)[:120]}") from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise SubmissionError(f"{path}: not a notebook: JSON without an 'nbformat' field")
    major = raw.get("nbformat")
    if major == 3 and type(major) is int:
        cells = _v3_cells(path, raw.get("worksheets", []))
        source_key = "input"
    elif major == 4 and type(major) is int:
        cells, source_key = raw.get("cells", []), "source"
    else:
        raise SubmissionError(f"{path}: unsupported nbformat {major!r} (3 and 4 are supported)")
    if not isinstance(cells, list):
        raise SubmissionError(f"{path}: not a notebook: 'cells' is not a list")
    found, grade_ids = [], []
    for position, cell in enumerate(cells, start=1):
        if isinstance(cell, dict) and _grade_id(cell):
            grade_ids.append(_grade_id(cell))
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if _grade_id(cell) and not _is_solution(cell):
            # An instructor's locked grade cell: its check is the parent's job, not the
            # student's code. Kept empty, so the cells keep the numbers a student sees.
            found.append((position, ""))
            continue
        source = cell.get(source_key, "")
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        if not isinstance(source, str):
            raise SubmissionError(f"{path}: cell {position}: source is not text")
        found.append((position, valid_text(source)))  # a `\ud800` escape in the JSON
    return found, grade_ids


def load(path: str | os.PathLike, shown_as: str | os.PathLike | None = None) -> Program:
    """Read a `.ipynb` (nbformat 3 or 4) or `.py` submission into runnable cells; every error
    names `shown_as` when given (a stored copy read for a regrade, nbgrader's temporary file),
    else `path`."""
    path = Path(path)
    name = Path(shown_as) if shown_as else path
    text = decode(name, read_bytes(path, name))
    if "\x00" in text:
        raise SubmissionError(f"{name}: contains NUL bytes; not a text file")
    looks_like_json = text.lstrip().startswith("{")
    grade_ids: list[str] = []
    if path.suffix == ".ipynb" or (path.suffix != ".py" and looks_like_json):
        kind = "notebook"
        raw_cells, grade_ids = cells_from_notebook(name, text)
    elif path.suffix == ".py":
        kind, raw_cells = "python", [(1, text)]
    else:
        raise SubmissionError(f"{name}: not a notebook (.ipynb) or Python file (.py)")
    notes: list[str] = []
    cells = tuple(
        Cell(index, strip_magics(index, source, notes)) for index, source in raw_cells
    )
    code = sum(len(cell.source.encode("utf-8")) for cell in cells)
    if code > MAX_CODE_BYTES:
        raise SubmissionError(f"{name}: {code} bytes of code, over the {MAX_CODE_BYTES} byte "
                              "limit (stored outputs do not count)")
    if not any(cell.source.strip() for cell in cells):
        raise SubmissionError(f"{name}: no code to run (the {kind} has no code cells)")
    return Program(path=path, kind=kind, cells=cells, notes=tuple(notes),
                   grade_ids=tuple(grade_ids))
