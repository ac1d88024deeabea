"""Write a file so that a reader sees the old content or the new, never half, never a link.

Every file gradkit writes for someone else to read (results, reports, the gradebook's exports,
an autograder zip) goes through here: the content is written to a temporary file in the same
folder and renamed over the target, which refuses to be a symbolic link, and a failed write
leaves the old file and no temporary one behind. `open_atomic` gives a handle (for csv.writer,
zipfile, json.dump), `write_text_atomic` writes a string, `copy_atomic` copies bytes.
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from graders.model import valid_text

# A lone surrogate (text from a submission) becomes U+FFFD as it is written, as `valid_text`
# makes it, so a text handle never fails half way through a file.
_REPLACE = "gradkit-replacement-character"
codecs.register_error(_REPLACE, lambda error: ("\ufffd".encode() * (error.end - error.start),
                                                error.end))


class Discarded(Exception):
    """Raise inside `open_atomic` to leave the target as it was (nothing is renamed)."""


@contextmanager
def open_atomic(path: str | os.PathLike, mode: str = "w", *, newline: str | None = None,
                keep: Callable[[Path], bool] | None = None) -> Iterator[IO[Any]]:
    """A handle on a temporary file beside `path`, renamed over `path` when the block ends
    without an exception. `mode` is "w" (text, UTF-8, lone surrogates written as U+FFFD;
    `newline` as `open`'s, "" for csv) or "wb". `keep`, if given, is asked with the finished
    temporary file's path whether to rename it (say, when its bytes hash as expected); when it
    says no, or the block raises `Discarded`, the target is left as it was. The file is made
    0644, and a symbolic link at `path` is refused, never written through."""
    if mode not in ("w", "wb"):
        raise ValueError(f"open_atomic: mode {mode!r} is not 'w' or 'wb'")
    path = Path(path)
    if path.is_symlink():
        raise OSError(f"{path}: refusing to write through a symbolic link")
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    text = {"encoding": "utf-8", "errors": _REPLACE, "newline": newline} if mode == "w" else {}
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(mode, dir=directory, prefix=f".{path.name}.",
                                         delete=False, **text) as handle:
            temporary = Path(handle.name)
            try:
                yield handle
            except Discarded:
                return
        if keep is None or keep(temporary):
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)  # gone already once renamed


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write `text` atomically (`open_atomic`). The text is written as valid UTF-8 whatever it
    holds (a lone surrogate becomes U+FFFD), and a failed write leaves no temporary file."""
    with open_atomic(path) as handle:
        handle.write(valid_text(text))
    return Path(path)


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """A JSON file (results.json and the batch's results files), written atomically."""
    return write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def copy_atomic(source: str | os.PathLike | IO[bytes], path: str | os.PathLike, *,
                keep: Callable[[Path], bool] | None = None) -> bool:
    """Copy the bytes of `source` (a path, or a binary file open for reading) to `path`
    atomically; with `keep`, only if it approves the copy (`open_atomic`). True when `path`
    now holds the copy."""
    kept = []

    def approve(temporary: Path) -> bool:
        kept.append(keep is None or keep(temporary))
        return kept[0]

    with open_atomic(path, "wb", keep=approve) as target:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as data:
                shutil.copyfileobj(data, target)
        else:
            shutil.copyfileobj(source, target)
    return bool(kept and kept[0])
