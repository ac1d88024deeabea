"""Write a file so that a reader sees the old content or the new, never half, never a link."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from graders.model import valid_text


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write through a temporary file in the same folder and a rename; refuse a symlink. The
    text is written as valid UTF-8 whatever it holds (a lone surrogate becomes U+FFFD), and a
    failed write leaves no temporary file behind."""
    path = Path(path)
    if path.is_symlink():
        raise OSError(f"{path}: refusing to write through a symbolic link")
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=directory, prefix=f".{path.name}.",
                                     delete=False, encoding="utf-8") as handle:
        temporary = handle.name
        try:
            handle.write(valid_text(text))
        except BaseException:
            handle.close()
            os.unlink(temporary)
            raise
    try:
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """A JSON file (results.json and the batch's results files), written atomically."""
    return write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
