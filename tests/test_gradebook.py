"""The gradebook: one transaction per grade, keyed by content and grader, secret per course."""

from __future__ import annotations

import sqlite3

import pytest

from graders.classroom.gradebook import Gradebook, content_hash
from graders.classroom.records import OpRow, Row


def _row(student: str = "ada", score: float = 3.0, ops: tuple | None = None) -> Row:
    return Row(student, "", f"/s/{student}.py", "h1", "g1", 7, score, 5.0,
               ops=ops if ops is not None else (
                   OpRow("mul", 2.0, 2.0, "passed"),
                   OpRow("tanh", 1.0, 3.0, "failed", "missing_square")))


def test_a_recorded_grade_survives_reopening(tmp_path):
    with Gradebook(tmp_path) as book:
        book.record(_row())
    with Gradebook(tmp_path) as book:
        (row,) = book.rows()
        assert (row.student, row.score, row.max_score) == ("ada", 3.0, 5.0)
        assert [op.op for op in row.ops] == ["mul", "tanh"]
        assert row.ops[1].diagnosis == "missing_square"


def test_a_failed_record_leaves_nothing_half_written(tmp_path):
    with Gradebook(tmp_path) as book:
        # no points: SQLite refuses the op row, after the grades insert
        broken = _row(ops=(OpRow("mul", None, 2.0, "passed"),))
        with pytest.raises(sqlite3.IntegrityError):
            book.record(broken)
        assert list(book.rows()) == []
        assert book.gradings() == []


def test_regrading_replaces_the_row_and_keeps_the_audit_trail(tmp_path):
    with Gradebook(tmp_path) as book:
        book.record(_row(score=1.0))
        book.record(_row(score=4.0, ops=()))
        (row,) = book.rows()
        assert row.score == 4.0 and row.ops == ()
        assert len(book.gradings()) == 2


def test_current_is_keyed_by_content_and_grader(tmp_path):
    with Gradebook(tmp_path) as book:
        book.record(_row())
        assert book.current("ada", "", "h1", "g1")
        assert not book.current("ada", "", "h2", "g1")  # the file changed
        assert not book.current("ada", "", "h1", "g2")  # the grader changed
        assert not book.current("bob", "", "h1", "g1")


def test_seeds_repeat_within_a_course_and_differ_between_courses(tmp_path):
    with Gradebook(tmp_path / "a") as one, Gradebook(tmp_path / "b") as other:
        first = one.seed_for("h1", "g1")
        assert one.seed_for("h1", "g1") == first
        assert one.seed_for("h2", "g1") != first
        assert other.seed_for("h1", "g1") != first  # another secret: unpredictable points
    with Gradebook(tmp_path / "a") as again:
        assert again.seed_for("h1", "g1") == first  # the secret is kept in OUTDIR


def test_the_gradebook_is_plain_sqlite(tmp_path):
    with Gradebook(tmp_path) as book:
        book.record(_row())
    db = sqlite3.connect(tmp_path / "gradebook.sqlite")
    assert db.execute("SELECT student, score FROM grades").fetchall() == [("ada", 3.0)]


def test_content_hash_changes_with_content_and_names_unreadable_files(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("x = 1\n")
    first = content_hash(path)
    path.write_text("x = 2\n")
    assert content_hash(path) != first
    assert content_hash(tmp_path / "missing.py").startswith("unreadable-")


def test_the_grader_id_covers_the_answer_key_and_the_containment(monkeypatch):
    """A grade made under another oracle or another sandbox is never kept as unchanged."""
    from graders.classroom import seeds
    from graders.judge import oracle
    from graders.model import Limits
    from graders.spec.optable import BACKPROP

    base = seeds.grader_id(BACKPROP, Limits(), "bubblewrap+guard")
    assert seeds.grader_id(BACKPROP, Limits(), "weak-uid+guard") != base
    monkeypatch.setattr(oracle, "fingerprint", lambda assignment=None: "another answer key")
    assert seeds.grader_id(BACKPROP, Limits(), "bubblewrap+guard") != base
