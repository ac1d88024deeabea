"""Mistakes the class shares (issue 16): a synthetic class of 60+ submissions from the mutant
corpus, grouped by their answers at the class-wide probe points, then one cluster named in the
config and read by every member on the next run."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from graders.classroom import batch, dashboard
from graders.classroom.gradebook import Gradebook
from graders.spec import assignments
from tests.corpus import BASE, CORRECT, MUL_SELF, MUTANTS, TANH
from tests.fake_grader import replay_grade

pytestmark = pytest.mark.slow

# Wrong answers the catalogue has no name for, each written twice in different words.
UNCATALOGUED = {
    "mul_plus_one": ((MUL_SELF, "self.grad += (other.data + 1) * out.grad"),),
    "mul_plus_one_again": ((MUL_SELF, "self.grad += out.grad * (1.0 + other.data)"),),
    "tanh_cube": ((TANH, "self.grad += (1 - t**3) * out.grad"),),
    "tanh_cube_again": ((TANH, "self.grad += (1 - t * t * t) * out.grad"),),
}
BEHAVIOUR = {"mul_plus_one": "mul+1", "mul_plus_one_again": "mul+1", "tanh_cube": "tanh^3",
             "tanh_cube_again": "tanh^3"}


def _edited(edits) -> str:
    text = BASE.read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def synthetic_class(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """Honest styles, two copies of every mutant (one reworded by a comment), the uncatalogued
    answers, malformed files; returns (students, OUTDIR, student -> behaviour)."""
    folder = tmp_path_factory.mktemp("synthetic")
    students = folder / "students"
    students.mkdir()
    behaviour: dict[str, str] = {}
    for path in CORRECT:
        (students / f"honest_{path.stem}.py").write_text(path.read_text())
    for m in MUTANTS:
        (students / f"{m.name}_a.py").write_text(m.source())
        (students / f"{m.name}_b.py").write_text(f"# {m.name}, my own copy\n" + m.source())
        behaviour[f"{m.name}_a"] = behaviour[f"{m.name}_b"] = m.name
    for name, edits in UNCATALOGUED.items():
        (students / f"{name}.py").write_text(_edited(edits))
        behaviour[name] = BEHAVIOUR[name]
    (students / "broken_syntax.py").write_text("class Value:\n    def __init__(self\n")
    (students / "truncated.ipynb").write_text('{"cells": [')
    out = folder / "out"
    report = batch.run([students], batch.Options(outdir=out, jobs=2, progress=False,
                                                  grader=replay_grade))
    assert report.found >= 60 and report.errors == 0
    return students, out, behaviour


def _ops(out: Path) -> dict[str, dict[str, dict]]:
    with Gradebook(out) as book:
        return {row.student: {op.op: op for op in row.ops} for row in book.rows()}


def test_each_behaviour_is_one_cluster_and_no_cluster_mixes_two(synthetic_class):
    _, out, behaviour = synthetic_class
    ops = _ops(out)
    by_cluster: dict[str, set[str]] = defaultdict(set)
    of_behaviour: dict[tuple[str, str], set[str]] = defaultdict(set)
    for student, kind in behaviour.items():
        for key, op in ops[student].items():
            if op.status != "passed" and key != "reference_example":  # end to end: one
                assert op.cluster, (student, key)  # cause's cluster is on that cause's row
                assert op.cluster.startswith(f"{key}:")
                by_cluster[op.cluster].add(kind)
                of_behaviour[kind, key].add(op.cluster)
    assert all(len(kinds) == 1 for kinds in by_cluster.values()), by_cluster
    assert all(len(ids) == 1 for ids in of_behaviour.values()), of_behaviour
    honest = [s for s in ops if s.startswith("honest_")]
    assert honest and all(op.cluster is None for s in honest for op in ops[s].values())
    # purity and count, as the dashboard reports them
    found = dashboard.clusters(list(Gradebook(out).rows()))
    primary = {(m.name, m.breaks) for m in MUTANTS}
    own = [c.id for c in found if (next(iter(by_cluster[c.id])), c.op) in primary]
    assert len(own) == len(set(own)) == len(MUTANTS)  # one per mutant, on the op it breaks
    assert all(len(c.members) == 2 for c in found if c.id in own)
    # each says one wrong number and the right one (a wrong forward value too)
    forward = ops["rsub_wrong_forward_a"]["rsub"].evidence
    assert "the forward value is" in forward and ", right: " in forward
    assert all(", right: " in c.evidence for c in found), [c.evidence for c in found]


def test_the_dashboard_lists_shared_clusters_with_the_uncatalogued_ones(synthetic_class):
    _, out, _ = synthetic_class
    page = (out / "summary.html").read_text()
    section = page.split("Wrong answers the class shares", 1)[1].split("Not gradable", 1)[0]
    ops = _ops(out)
    mul_id = ops["mul_plus_one"]["mul"].cluster
    assert mul_id == ops["mul_plus_one_again"]["mul"].cluster
    row = re.search(rf"<code>{re.escape(mul_id)}</code></td><td>(\d+)</td><td>([^<]*)</td>",
                    section)
    assert row and row.group(1) == "2" and row.group(2) == "not in the catalogue"
    # the dashboard's numbers are grades.csv's
    with open(out / "grades.csv", newline="") as handle:
        grades = list(csv.DictReader(handle))
    assert f"Class summary: {len(grades)} submissions, 2 not gradable" in page


def test_a_named_cluster_reaches_every_member_on_the_next_run(synthetic_class, tmp_path):
    students, out, _ = synthetic_class
    ops = _ops(out)
    mul_id = ops["mul_plus_one"]["mul"].cluster
    tanh_id = ops["tanh_cube"]["tanh"].cluster
    config = tmp_path / "course.toml"
    config.write_text(f'base = "backprop"\n'
                      f'[cluster."{mul_id}"]\nmessage = "Drop the +1: d(xy)/dx is y."\n'
                      f'key = "plus_one"\n'
                      f'[cluster."{tanh_id}"]\nmessage = "tanh\'s derivative squares t."\n'
                      f'x = "g + u*(1 - tanh(x)**3)"\n')
    named = assignments.from_file(config)
    # The next run, graded for real, of the clusters' members and everyone who could be told
    # by mistake: every honest style and each other wrong mul and tanh (cluster ids are the
    # answers' own, the same in any class).
    classmates = tmp_path / "classmates"
    classmates.mkdir()
    for path in students.iterdir():
        if path.stem in BEHAVIOUR or path.stem.startswith("honest_") or (
                path.stem.startswith(("mul_", "tanh_")) and path.stem.endswith("_a")):
            (classmates / path.name).write_bytes(path.read_bytes())
    again = tmp_path / "out"
    batch.run([classmates], batch.Options(outdir=again, jobs=2, progress=False,
                                          assignment=named))
    for student, key, message in (("mul_plus_one", "mul", "Drop the +1"),
                                  ("mul_plus_one_again", "mul", "Drop the +1"),
                                  ("tanh_cube", "tanh", "squares t"),
                                  ("tanh_cube_again", "tanh", "squares t")):
        results = json.loads((again / "results" / f"{student}.json").read_text())
        text = json.dumps(results)
        assert message in text, (student, key)
    after = _ops(again)
    assert after["mul_plus_one"]["mul"].diagnosis == "plus_one"
    assert after["tanh_cube_again"]["tanh"].diagnosis == f"cluster_{tanh_id[-8:]}"
    # points do not move: a name is feedback, not a grade
    assert [after["mul_plus_one"][k].points for k in after["mul_plus_one"]] == \
        [ops["mul_plus_one"][k].points for k in ops["mul_plus_one"]]
    # nobody outside the clusters is told
    others = [s for s in after if not s.startswith(("mul_plus_one", "tanh_cube"))]
    assert all("Drop the +1" not in (again / "results" / f"{s}.json").read_text()
               for s in others)


def test_a_cluster_config_is_refused_in_one_line(tmp_path):
    config = tmp_path / "course.toml"
    for body, expected in (('[cluster."mul:xyz"]\nmessage = "m"\n', "OP:8 hex digits"),
                           ('[cluster."mul:1a2b3c4d"]\n', "message is missing"),
                           ('[cluster."mul:1a2b3c4d"]\nmessage = "m"\nz = "g"\n',
                            "unknown setting 'z'"),
                           ('[cluster."relu:1a2b3c4d"]\nmessage = "m"\ny = "g"\n',
                            "no Value input y"),
                           ('[cluster."backward:1a2b3c4d"]\nmessage = "m"\nx = "g"\n',
                            "message only")):
        config.write_text(body)
        with pytest.raises(assignments.ConfigError) as error:
            assignments.from_file(config)
        assert str(error.value).startswith(str(config)) and expected in str(error.value)
        assert "\n" not in str(error.value)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _csv_lines(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _copy_outdir(out: Path, tmp_path: Path) -> Path:
    """The graded class moved to another folder (the rows still name the old one's results
    files: a regrade writes under the OUTDIR it is given)."""
    import shutil

    target = tmp_path / "graded"
    shutil.copytree(out, target)
    return target


def test_a_regrade_after_a_points_change_changes_exactly_the_expected_students(
        synthetic_class, tmp_path):
    from tests.conftest import gradkit_replayed as gradkit

    _, out, _ = synthetic_class
    graded = _copy_outdir(out, tmp_path)
    total = len(_csv_rows(graded / "grades.csv"))
    before = (graded / "grades.csv").read_text()
    same = gradkit("regrade", str(graded), "-j", "2")
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith(f"regrade (generation 2, staged): 0 of {total} students "
                                  "change score, 0 more"), same.stdout  # reproducible
    config = tmp_path / "points.toml"
    config.write_text('base = "backprop"\n[points]\nexp = 4\n')
    staged = gradkit("regrade", str(graded), "--config", str(config), "-j", "2")
    assert staged.returncode == 0, staged.stderr
    assert (graded / "grades.csv").read_text() == before  # nothing until --apply
    ops = _ops(graded)
    expected = sorted(s for s, row in ops.items() if "exp" in row and row["exp"].status ==
                      "passed")
    changes = _csv_rows(graded / "regrade" / "diff.csv")
    assert sorted(r["student"] for r in changes if r["old_score"] != r["new_score"]) == expected
    # one group, its change said once (issue 28: not a line per student)
    assert f"  {len(expected)} students (score +2 each): " in staged.stdout, staged.stdout
    assert staged.stdout.count("exp: 2/2 -> 4/4: worth 4 points instead of 2") == 1
    assert {r["op"] for r in changes} == {"exp"}
    applied = gradkit("regrade", str(graded), "--config", str(config), "--apply")
    assert applied.returncode == 0, applied.stderr
    after = {r["student"]: r for r in _csv_rows(graded / "grades.csv")}
    assert after["exp_no_upstream_a"]["exp"] == "0"
    assert after["honest_lecture_style"]["exp"] == "4"
    restored = gradkit("regrade", str(graded), "--restore", "1")
    assert restored.returncode == 0, restored.stderr
    assert (graded / "grades.csv").read_text() == before


def test_canvas_and_moodle_files_from_the_synthetic_class(synthetic_class, tmp_path):
    from tests.conftest import gradkit_replayed as gradkit

    _, out, _ = synthetic_class
    students = sorted(r["student"] for r in _csv_rows(out / "grades.csv"))
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "name", "canvas_id", "sis_user_id", "sis_login_id",
                         "section", "email"])
        for index, student in enumerate([*students, "absent"]):
            writer.writerow([student, f"Student {index}", 1000 + index, f"S{index}",
                             f"login{index}", "A", f"s{index}@uni.example"])
    canvas = gradkit("export", str(out), "--to", "canvas", "--roster", str(roster),
                     "--column", "Backprop (4242)", "--out", str(tmp_path / "c.csv"))
    assert canvas.returncode == 0, canvas.stderr
    assert "no submission: absent" in canvas.stdout
    lines = _csv_lines(tmp_path / "c.csv")
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                        "Backprop (4242)"]
    assert lines[1][0].strip() == "Points Possible" and len(lines) == 2 + len(students) + 1
    totals = {r["student"]: r["total"] for r in _csv_rows(out / "grades.csv")}
    by_id = {line[1]: line[5] for line in lines[2:]}
    for index, student in enumerate(students):
        assert float(by_id[str(1000 + index)]) == float(totals[student])
    assert by_id[str(1000 + len(students))] == ""  # the absent student: listed, no grade
    moodle = gradkit("export", str(out), "--to", "moodle", "--roster", str(roster),
                     "--out", str(tmp_path / "m.csv"))
    assert moodle.returncode == 0, moodle.stderr
    rows = _csv_lines(tmp_path / "m.csv")
    assert rows[0][0] == "Email address" and len(rows[0]) == 2  # no idnumber in this roster
    assert [row[0] for row in rows[1:]] == [f"s{i}@uni.example" for i in
                                            range(len(students) + 1)]
    assert [float(row[1]) for row in rows[1:-1]] == [float(totals[s]) for s in students]
    assert rows[-1][1] == ""
