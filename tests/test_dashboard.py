"""OUTDIR/summary.html, the class dashboard (issue 16): its numbers are grades.csv's, its
charts are inline SVG (what they draw: tests/test_charts.py), and it reads on a laptop and on a
phone; its students table puts the student cut off by a hang first (issue 28). The feedback
pages a batch hands back, and the grades and feedback it exports to the LMS."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.canvas_stub import TOKEN, CanvasStub, running
from tests.conftest import gradkit, gradkit_replayed
from tests.corpus import BASE, MUTANTS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> Path:
    """Two honest students, one per mutant for six mutants (two share one), a broken file."""
    folder = tmp_path_factory.mktemp("class")
    students = folder / "students"
    students.mkdir()
    (students / "ann.py").write_text(BASE.read_text())
    (students / "ben.py").write_text(BASE.read_text() + "\n# mine\n")
    for index, mutant in enumerate(MUTANTS[:6]):
        (students / f"m{index}.py").write_text(mutant.source())
    (students / "twin.py").write_text(MUTANTS[0].source() + "\n# a copy\n")
    (students / "zed.ipynb").write_text("{ truncated")
    done = gradkit_replayed("grade", str(students), "--out", str(folder / "out"), "-j", "2",
                            "--no-progress")
    assert done.returncode == 0, done.stderr
    return folder / "out"


def _grades(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_the_dashboard_numbers_are_the_gradebooks(graded_class: Path) -> None:
    page = (graded_class / "summary.html").read_text()
    grades = _grades(graded_class)
    broken = [s for s, row in grades.items() if row["problem"]]
    assert f"Class summary: {len(grades)} submissions, {len(broken)} not gradable" in page
    assert broken == ["zed"] and "zed" in page.split("Not gradable", 1)[1]
    assert page.count("<svg") == 2  # the histogram and the pass rates
    for op in ("add", "mul", "tanh"):
        graded = [row for row in grades.values() if not row["problem"]]
        full = [row for row in graded if row[op] and float(row[op]) == max(
            float(r[op]) for r in graded if r[op])]
        # the ops table gives each op's pass rate as "P% (passed/graded)"
        cell = re.search(rf"<td>{op}</td><td>\d+% \((\d+)/(\d+)\)</td>", page)
        assert cell and int(cell.group(2)) == len(graded)
        assert int(cell.group(1)) <= len(full)
    # the twin shares m0's mistake: the dashboard counts both under one diagnosis
    assert "<th>for example</th>" in page
    counts = [int(n) for n in re.findall(r"</code></td><td>(\d+)</td>", page)]
    assert counts and max(counts) >= 2
    from graders import __version__
    from graders.classroom.gradebook import Gradebook

    with Gradebook(graded_class) as book:
        seeds = sorted({row.seed for row in book.rows() if row.seed is not None})
    run = page.split("<h2>Run</h2>", 1)[1]
    assert f"grader {__version__};" in run and f"seeds {seeds[0]}, {seeds[1]}," in run
    from graders.run.sandbox import planned_isolation

    assert f"isolation {planned_isolation(None)};" in run, run


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("width", (1280, 390))
def test_the_dashboard_reads_at_laptop_and_phone_width(graded_class: Path, width: int):
    page = graded_class / "summary.html"
    shot = page.with_name(f"summary-{width}.png")
    with tempfile.TemporaryDirectory() as profile:
        flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 f"--user-data-dir={profile}", f"--window-size={width},1400",
                 "--enable-logging=stderr", "--v=0"]
        # The page with a line that measures it, shot and read in one start of Chromium.
        probe = page.with_name("probe.html")
        probe.write_text(page.read_text().replace("</body>", (
            "<script>document.body.setAttribute('data-overflow', "
            "document.documentElement.scrollWidth - innerWidth)</script></body>")))
        run = subprocess.run([*flags, f"--screenshot={shot}", "--dump-dom", probe.as_uri()],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0
        assert [line for line in run.stderr.splitlines() if "CONSOLE" in line] == []
        dom = run.stdout
    assert shot.stat().st_size > 20_000
    overflow = re.search(r'data-overflow="(-?\d+)"', dom)
    assert overflow and int(overflow.group(1)) <= 0


# --- export to the LMS ---------------------------------------------------------------------

ROSTER = ("student,name,canvas_id,sis_user_id,sis_login_id,section,email,idnumber\n"
          "ann,Ann Lee,101,S101,alee,A,ann@uni.edu,9001\n"
          "m0,Mo Zero,102,S102,mzero,A,mo@uni.edu,9002\n"
          "zed,Zed Q,103,S103,zq,B,zed@uni.edu,9003\n"
          "nia,Nia Absent,104,S104,nabs,B,nia@uni.edu,9004\n")


def _export(out: Path, tmp_path: Path, to: str) -> tuple[subprocess.CompletedProcess, list]:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    target = tmp_path / f"{to}.csv"
    done = gradkit("export", str(out), "--to", to, "--roster", str(roster), "--out",
                   str(target), "--column", "Backprop (4242)")
    assert done.returncode == 0, done.stderr
    with open(target, newline="") as handle:
        return done, list(csv.reader(handle))


def test_canvas_export_has_canvas_columns_points_possible_and_every_roster_student(
        graded_class: Path, tmp_path: Path) -> None:
    done, rows = _export(graded_class, tmp_path, "canvas")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Backprop (4242)"]
    grades = _grades(graded_class)
    assert rows[1][0] == "Points Possible" and float(rows[1][5]) == float(
        grades["ann"]["max_score"])
    by_id = {row[1]: row for row in rows[2:]}
    assert set(by_id) == {"101", "102", "103", "104"}
    assert float(by_id["101"][5]) == float(grades["ann"]["total"])
    assert float(by_id["102"][5]) == float(grades["m0"]["total"])
    assert by_id["104"][5] == ""  # no submission: listed, not dropped
    assert "no submission: nia" in done.stdout
    assert "not in the roster: ben" in done.stdout and "not gradable: zed" in done.stdout


def test_moodle_export_identifies_students_by_email_and_id_number(graded_class, tmp_path):
    _done, rows = _export(graded_class, tmp_path, "moodle")
    assert rows[0] == ["Email address", "ID number", "Backprop (4242)"]
    assert [row[0] for row in rows[1:]] == ["ann@uni.edu", "mo@uni.edu", "zed@uni.edu",
                                            "nia@uni.edu"]
    assert rows[-1][2] == ""


def test_a_roster_without_student_ids_is_refused_in_one_line(graded_class, tmp_path):
    roster = tmp_path / "bad.csv"
    roster.write_text("name,email\nAnn,ann@uni.edu\n")
    done = gradkit("export", str(graded_class), "--to", "canvas", "--roster", str(roster))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "student" in done.stderr


# --- posting to Canvas (against a local stub of its API) ------------------------------------

def _upload(out: Path, tmp_path: Path, stub, *extra: str, token: str = TOKEN):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER + "kit,Kit NoId,,S105,kno,B,kit@uni.edu,9005\n")
    env = {**os.environ, "CANVAS_API_TOKEN": token}
    return gradkit("export", str(out), "--to", "canvas", "--roster", str(roster), "--out",
                   str(tmp_path / "canvas.csv"), "--upload", "--canvas-url", stub.url,
                   "--course", str(stub.course), "--canvas-assignment",
                   str(stub.assignment), *extra, env=env)


def test_upload_posts_each_graded_roster_students_grade_to_their_canvas_id(
        graded_class: Path, tmp_path: Path) -> None:
    grades = _grades(graded_class)
    with running(CanvasStub(points_possible=float(grades["ann"]["max_score"]))) as stub:
        done = _upload(graded_class, tmp_path, stub)
    assert done.returncode == 0, done.stderr
    assert stub.tokens and set(stub.tokens) == {TOKEN}
    assert len(stub.updates) == 1 and stub.queries == 2  # waited for Canvas's job to finish
    # ann and m0 get their totals, zed (not gradable) 0; nia (no submission) is not posted
    assert {user: float(grade) for user, grade in stub.updates[0].items()} == {
        "101": float(grades["ann"]["total"]), "102": float(grades["m0"]["total"]),
        "103": 0.0}
    assert "posted 3 grades to Canvas assignment 'Backprop' (completed)" in done.stdout
    assert "not posted: nia (no submission" in done.stdout
    assert "kit" not in stub.updates[0] and "note:" not in done.stdout
    assert stub.comments == [{}]  # feedback is posted only when asked (--comment)
    assert (tmp_path / "canvas.csv").is_file()  # the import file is written as well


def test_upload_notes_a_canvas_assignment_out_of_other_points(graded_class, tmp_path):
    with running(CanvasStub(points_possible=100.0)) as stub:
        done = _upload(graded_class, tmp_path, stub)
    assert done.returncode == 0, done.stderr
    assert "the Canvas assignment is out of 100 points" in done.stdout


@pytest.mark.parametrize(("change", "says"), [
    ({"token": "wrong"}, "the token in CANVAS_API_TOKEN was refused"),
    ({"token": ""}, "no Canvas token: set CANVAS_API_TOKEN"),
    ({"assignment": 1}, "course 77, assignment 1 does not exist"),
    ({"fail_job": True}, "Canvas could not apply the grades: user 104 is not in the course"),
])
def test_an_upload_canvas_refuses_is_one_line_and_the_file_is_still_written(
        graded_class, tmp_path, change, says):
    with running(CanvasStub(fail_job=change.get("fail_job", False))) as stub:
        asked = ("--canvas-assignment", str(change["assignment"])) if "assignment" in change \
            else ()  # the last --canvas-assignment wins
        done = _upload(graded_class, tmp_path, stub, *asked, token=change.get("token", TOKEN))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr
    assert "canvas.csv was written" in done.stderr
    if "fail_job" not in change:
        assert stub.updates == []  # nothing was posted


def test_upload_needs_canvas_and_says_which_flags_are_missing(graded_class, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    moodle = gradkit("export", str(graded_class), "--to", "moodle", "--roster", str(roster),
                     "--upload")
    assert moodle.returncode == 2 and "--upload posts to Canvas" in moodle.stderr
    bare = gradkit("export", str(graded_class), "--to", "canvas", "--roster", str(roster),
                   "--upload", "--course", "7")
    assert bare.returncode == 2
    assert "--upload needs --canvas-url, --canvas-assignment" in bare.stderr
    forgot = gradkit("export", str(graded_class), "--to", "canvas", "--roster", str(roster),
                     "--canvas-url", "https://canvas.example.edu")
    assert forgot.returncode == 2 and "--canvas-url is for posting to Canvas: add --upload" \
        in forgot.stderr


def test_a_canvas_gradebook_used_as_the_roster_says_which_column_to_add(graded_class,
                                                                      tmp_path):
    roster = tmp_path / "canvas-export.csv"
    roster.write_text("Student,ID,SIS User ID\nAnn Lee,101,S101\n")
    done = gradkit("export", str(graded_class), "--to", "canvas", "--roster", str(roster))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "add a lower-case 'student' column" in done.stderr


@pytest.mark.parametrize(("canvas_id", "says"), [
    ("102", "canvas_id 102 is also m0's"),
    ("101.0", "canvas_id '101.0' is not a Canvas user id"),
])
def test_a_roster_whose_canvas_ids_would_misplace_grades_is_refused(graded_class, tmp_path,
                                                                    canvas_id, says):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER.replace("zed,Zed Q,103,", f"zed,Zed Q,{canvas_id},"))
    with running(CanvasStub()) as stub:
        done = gradkit("export", str(graded_class), "--to", "canvas", "--roster", str(roster),
                       "--upload", "--canvas-url", stub.url, "--course", str(stub.course),
                       "--canvas-assignment", str(stub.assignment),
                       env={**os.environ, "CANVAS_API_TOKEN": TOKEN})
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "roster line 4" in done.stderr and says in done.stderr, done.stderr
    assert stub.updates == []


def test_a_large_class_is_posted_in_bulk_updates_canvas_takes(monkeypatch):
    from graders.classroom import canvas_upload
    from graders.classroom.records import RosterEntry, Row

    monkeypatch.setattr(canvas_upload, "CHUNK", 2)
    rows = [Row(f"s{i}", "", f"s{i}.py", "h", "g", 1, float(i), 10.0, None, "", 0.0)
            for i in range(5)]
    roster = [RosterEntry(f"s{i}", canvas_id=str(200 + i)) for i in range(5)]
    with running(CanvasStub()) as stub:
        done = canvas_upload.upload(canvas_upload.grade_data(rows, roster), url=stub.url,
                                    token=TOKEN, course=stub.course,
                                    assignment=stub.assignment, sleep=lambda _s: None)
    assert [len(update) for update in stub.updates] == [2, 2, 1]
    assert {k: v for u in stub.updates for k, v in u.items()} == {
        str(200 + i): f"{i:g}" for i in range(5)}
    assert done.state == "completed"


def test_a_canvas_site_that_never_answers_is_an_error_not_a_hang(monkeypatch):
    import socket
    import threading

    from graders.classroom import canvas_upload

    monkeypatch.setattr(canvas_upload, "REQUEST_SECONDS", 0.5)
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never replies
    raised: list[Exception] = []

    def post() -> None:
        try:
            canvas_upload.upload(canvas_upload.Upload(posted={"101": "3"}),
                                 url=f"http://127.0.0.1:{silent.getsockname()[1]}",
                                 token=TOKEN, course=77, assignment=4242)
        except canvas_upload.UploadError as error:
            raised.append(error)

    worker = threading.Thread(target=post, daemon=True)
    worker.start()
    worker.join(60)  # without a request timeout this never ends: the test fails, not hangs
    silent.close()
    assert not worker.is_alive() and len(raised) == 1
    assert re.search(r"cannot reach Canvas at .*Timeout", str(raised[0])), raised


def test_export_names_the_grade_column_after_the_assignment_in_every_layout(graded_class,
                                                                            tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    for to in ("canvas", "moodle", "csv"):
        target = tmp_path / f"{to}.csv"
        done = gradkit_replayed("export", str(graded_class), "--to", to, "--roster",
                                str(roster), "--out", str(target))
        assert done.returncode == 0, done.stderr
        header = target.read_text().splitlines()[0].split(",")
        assert "backprop" in header and "gradkit" not in header and "score" not in header, \
            (to, header)
        assert "column 'backprop'" in done.stdout


# --- feedback pages, handed back from a batch ------------------------------------------------

def test_a_batch_writes_every_students_feedback_page_and_an_index(graded_class: Path) -> None:
    from graders.classroom.gradebook import Gradebook

    index = (graded_class / "feedback.html").read_text()
    with Gradebook(graded_class) as book:
        rows = list(book.rows())
    assert len(rows) == 10
    for row in rows:
        page = graded_class / "results" / f"{row.student}.html"
        text = graded_class / "results" / f"{row.student}.md"
        assert f"score {row.score:g} / {row.max_score:g}" in page.read_text()
        assert f"**score {row.score:g} / {row.max_score:g}**" in text.read_text()
        assert f'<a href="results/{row.student}.html">{row.student}</a>' in index
        assert f'href="results/{row.student}.md"' in index
        # the student's own file name, not the instructor's folder
        assert f"<div>{Path(row.path).name}</div>" in page.read_text()
        assert row.problem or str(graded_class.parent) not in page.read_text()
    assert "not gradable" in index.split(">zed<", 1)[1].split("</tr>", 1)[0]
    assert index.startswith("<!DOCTYPE html>") and "<script" not in index


def test_a_feedback_page_is_the_students_view_with_hidden_checks_hidden(tmp_path) -> None:
    import json

    from graders.classroom import storing
    from graders.classroom.gradebook import Gradebook
    from graders.classroom.records import Graded, Job
    from graders.spec import assignments
    from tests.test_hidden_and_totals import _result_with_hidden_exp_and_relu

    job = Job("hana", "", str(tmp_path / "hana.py"), assignments.DEFAULT, "h1", 7, "g")
    with Gradebook(tmp_path) as book:
        storing.store(book, tmp_path / "results", job,
                      Graded(_result_with_hidden_exp_and_relu()), keep_copy=False)
    page = (tmp_path / "results" / "hana.html").read_text()
    text = (tmp_path / "results" / "hana.md").read_text()
    assert "hidden check: details are not shown" in page
    for shown in (page, text):
        assert "CLUSTER-MESSAGE" not in shown and "catalogue key" not in shown
    data = json.loads((tmp_path / "results" / "hana.json").read_text())
    assert data["extra_data"]["feedback"] == {"html": page, "markdown": text}


def _copy(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    return copy


def test_a_rerun_and_a_regrade_keep_the_feedback_pages_in_step(graded_class, tmp_path):
    out = _copy(graded_class, tmp_path)
    students = graded_class.parent / "students"
    first = (out / "results" / "ann.html").read_text()
    (out / "results" / "ann.html").write_text("stale")
    (out / "results" / "m1.md").unlink()
    applied = gradkit_replayed("regrade", str(out), "--apply")
    assert applied.returncode == 0, applied.stderr
    assert (out / "results" / "ann.html").read_text() == first  # from the generation's text
    assert (out / "results" / "m1.md").is_file()
    # a resubmission: the rerun grades it again and its page says the new grade
    moved = tmp_path / "students"
    shutil.copytree(students, moved)
    (moved / "ann.py").write_text(MUTANTS[0].source() + "\n# resubmitted\n")
    rerun = gradkit_replayed("grade", str(moved), "--out", str(out), "--no-progress")
    assert rerun.returncode == 0, rerun.stderr
    grades = _grades(out)
    assert grades["ann"]["total"] == grades["m0"]["total"] != grades["ben"]["total"]
    page = (out / "results" / "ann.html").read_text()
    assert f"score {grades['ann']['total']} / {grades['ann']['max_score']}" in page
    restored = gradkit_replayed("regrade", str(out), "--restore", "1")
    assert restored.returncode == 0, restored.stderr
    assert (out / "results" / "ann.html").read_text() == first


def test_upload_with_comment_posts_each_students_feedback_with_their_grade(graded_class,
                                                                           tmp_path):
    grades = _grades(graded_class)
    with running(CanvasStub(points_possible=float(grades["ann"]["max_score"]))) as stub:
        done = _upload(graded_class, tmp_path, stub, "--comment")
    assert done.returncode == 0, done.stderr
    results = graded_class / "results"
    assert stub.comments == [{"101": (results / "ann.md").read_text(),
                              "102": (results / "m0.md").read_text(),
                              "103": (results / "zed.md").read_text()}]
    assert set(stub.updates[0]) == set(stub.comments[0])  # each with its grade
    assert "with 3 feedback comments" in done.stdout
    refused = gradkit_replayed("export", str(graded_class), "--to", "canvas", "--roster",
                               str(tmp_path / "roster.csv"), "--comment")
    assert refused.returncode == 2 and "--comment is for posting to Canvas" in refused.stderr


# --- the students table: who is in trouble ---------------------------------------------------

def _trouble_rows() -> list:
    from graders.classroom.records import OpRow, Row

    def row(student, score=23.0, ops=(), flags=(), problem=None):
        return Row(student, "", f"/s/{student}.py", f"h-{student}", "g", 1, score, 25.0,
                   problem, ops=tuple(ops), flags=tuple(flags))

    def wrong(op, cluster, evidence, diagnosis=None):
        return OpRow(op, 0.0, 2.0, "failed", diagnosis, cluster, evidence)

    shared = "at x=0.5, out.grad=1: x.grad = 0.4, right: 0.786448"
    stub = "at x=1, out.grad=1: raises NotImplementedError, right: x.grad = 1"
    return [row("top", 25.0), row("ana", 24.0),
            row("m1", ops=[wrong("tanh", "tanh:aaaa1111", shared, "input_for_output")]),
            row("m2", ops=[wrong("tanh", "tanh:aaaa1111", shared, "input_for_output")]),
            row("solo", ops=[wrong("mul", "mul:bbbb2222", "at x=1: x.grad = 3, right: 2")]),
            row("s1", ops=[wrong("relu", "relu:cccc3333", stub)]),
            row("s2", ops=[wrong("relu", "relu:cccc3333", stub)]),
            row("nia", flags=["numerical derivative: exp"]),
            row("zed", 0.0, problem="zed.ipynb: not a notebook"),
            row("hana", 24.5, flags=["cell 7 interrupted", "time limit hit: relu"])]


def _trouble_page() -> str:
    from graders.classroom import dashboard, summary
    from graders.spec.optable import BACKPROP

    rows = _trouble_rows()
    return dashboard.page(rows, summary.summarize(rows, BACKPROP)[0], isolation="weak-user",
                          grader="x")


def test_the_students_table_puts_the_student_cut_off_by_a_hang_first_in_red() -> None:
    page = _trouble_page()
    table = page.split("<h2>Students</h2>", 1)[1].split("</table>", 1)[0]
    order = re.findall(r'data-student="([^"]+)"', table)
    assert order[:2] == ["hana", "zed"] and order[-1] == "top"  # then flags, then low scores
    assert '<tr class="hung" data-student="hana"' in table and table.count('class="hung"') == 1
    assert "1 cut off by a hang" in page.split("<h2>Students</h2>", 1)[0]
    flags = dict(re.findall(r'data-student="([^"]+)" data-score="[^"]*" data-flags="([^"]*)"',
                            table))
    assert flags["hana"] == "cell interrupted|time limit hit|weak isolation"
    assert flags["zed"] == "not gradable"  # it never ran: no isolation to flag
    assert flags["nia"] == "numerical derivative|weak isolation"
    assert flags["m1"] == "weak isolation|cluster" and flags["solo"] == "weak isolation"


def test_mistakes_are_words_and_shared_answers_are_shared_with_their_right_value() -> None:
    from graders.judge.diagnosis import describe

    page = _trouble_page()
    assert "input_for_output" not in page
    mistakes = page.split("Most common mistakes", 1)[1].split("<h2>", 1)[0]
    assert f"<td>{describe('tanh', 'input_for_output')[0]}</td>" in mistakes
    shared = page.split("Wrong answers the class shares", 1)[1].split("<h2>", 1)[0]
    assert "tanh:aaaa1111" in shared
    assert "mul:bbbb2222" not in shared  # one student is not a class
    assert "relu:cccc3333" not in shared  # an untouched stub is no wrong answer
    assert "<td>x.grad = 0.786448</td>" in shared


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_the_students_table_sorts_and_filters_in_the_browser_on_a_phone(tmp_path) -> None:
    probe = tmp_path / "summary.html"
    probe.write_text(_trouble_page().replace("</body>", """<script>
var only = document.getElementById('only');
only.value = 'time limit hit'; only.dispatchEvent(new Event('change'));
var shown = Array.prototype.filter.call(document.querySelectorAll('.students tbody tr'),
  function (r) { return !r.hidden; }).map(function (r) { return r.dataset.student; });
only.value = ''; only.dispatchEvent(new Event('change'));
document.querySelectorAll('.students th button')[1].click();
var sorted = Array.prototype.map.call(document.querySelectorAll('.students tbody tr'),
  function (r) { return r.dataset.student; });
document.body.setAttribute('data-result', JSON.stringify({shown: shown, sorted: sorted,
  count: document.getElementById('count').textContent,
  overflow: document.documentElement.scrollWidth - innerWidth}));
</script></body>"""))
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                              "--no-first-run", f"--user-data-dir={profile}",
                              "--window-size=390,1400", "--enable-logging=stderr", "--v=0",
                              "--dump-dom", probe.as_uri()],
                             capture_output=True, text=True, timeout=120)
    assert [line for line in run.stderr.splitlines() if "CONSOLE" in line] == []
    import html
    import json

    found = re.search(r'data-result="([^"]+)"', run.stdout)
    assert found, run.stdout[-500:]
    result = json.loads(html.unescape(found.group(1)))
    assert result["shown"] == ["hana"]
    assert result["sorted"][0] == "zed" and result["sorted"][-1] == "top"  # lowest score first
    assert result["count"] == "10 shown" and result["overflow"] <= 0
