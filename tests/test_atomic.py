"""graders/atomic.py: every file gradkit writes for a reader is the old content or the new."""

from __future__ import annotations

import csv
import io
import os

import pytest

from graders.atomic import Discarded, copy_atomic, open_atomic, write_text_atomic


def test_a_csv_is_written_through_a_handle_and_renamed_once_whole(tmp_path):
    target = tmp_path / "grades.csv"
    with open_atomic(target, newline="") as handle:
        csv.writer(handle).writerows([["student", "note"], ["ann", "odd \ud800 text"]])
        assert not target.exists()  # nothing visible until the block ends
    assert target.read_bytes() == "student,note\r\nann,odd \ufffd text\r\n".encode()
    assert oct(target.stat().st_mode & 0o777) == "0o644" and os.listdir(tmp_path) == [
        "grades.csv"]


def test_a_failed_or_discarded_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = write_text_atomic(tmp_path / "summary.md", "old\n")
    with pytest.raises(RuntimeError), open_atomic(target) as handle:
        handle.write("half")
        raise RuntimeError
    with open_atomic(target) as handle:
        handle.write("not wanted")
        raise Discarded
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["summary.md"]


def test_a_copy_is_kept_only_when_approved(tmp_path):
    source = tmp_path / "a.py"
    source.write_bytes(b"print(1)\n")
    assert copy_atomic(source, tmp_path / "kept.py")
    assert (tmp_path / "kept.py").read_bytes() == b"print(1)\n"
    assert not copy_atomic(io.BytesIO(b"changed"), tmp_path / "b.py",
                           keep=lambda copy: copy.read_bytes() == b"print(1)\n")
    assert sorted(os.listdir(tmp_path)) == ["a.py", "kept.py"]


def test_a_symlink_is_never_written_through(tmp_path):
    (tmp_path / "real").write_text("real")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for write in (lambda: write_text_atomic(tmp_path / "link", "x"),
                  lambda: copy_atomic(io.BytesIO(b"x"), tmp_path / "link")):
        with pytest.raises(OSError, match="symbolic link"):
            write()
    assert (tmp_path / "real").read_text() == "real"
