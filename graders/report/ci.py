"""What a CI job shows: GitHub Actions job summary, annotations, JUnit XML, Classroom points.

Formats follow the runner's documented conventions (research/ecosystem.md §3): workflow commands
with `%`/CR/LF (and `:`/`,` in properties) escaped; at most 10 error annotations per step (the
runner drops the rest silently), so one per failing op, capped, with the full table in the job
summary; the Classroom runner result as compact JSON, base64, in step output `result`.

Anything the student's code controls (its printed output, exception text inside feedback) is
printed between `::stop-commands::TOKEN` and `::TOKEN::` with a random token, so it cannot issue
workflow commands (set outputs, add annotations, mask or unmask values).
"""

from __future__ import annotations

import base64
import bisect
import io
import json
import os
import re
import secrets
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree

from graders.model import Result
from graders.report import encode
from graders.report.sections import root_causes, shows_details, verdict
from graders.report.text import brief
from graders.spec import optable

MAX_ANNOTATIONS = 10


escape_data = encode.workflow_data  # the workflow-command encoders (report/encode.py)
escape_property = encode.workflow_property


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """(line in the file as GitHub numbers it, code text) for every code line of a submission.

    For a notebook, the line is the one in the .ipynb's JSON where that source line is stored,
    so an annotation lands on the student's code when the notebook is viewed as a file. Linear
    in the file's size: each file line holding one JSON string is decoded once into an index,
    and each source line takes the first indexed line after the previous one.
    """
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    if path.suffix != ".ipynb":
        return list(enumerate(raw.splitlines(), start=1))
    try:
        notebook = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    cells, source_key = _notebook_cells(notebook)
    file_lines = raw.splitlines()
    stored = _stored_strings(file_lines)
    whole = iter(n for n, line in enumerate(file_lines, start=1)
                 if re.match(rf'\s*"{source_key}": "', line))  # a source kept as one string
    out, cursor = [], 0
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        source = cell.get(source_key, "")
        code = cell.get("cell_type") == "code"
        if isinstance(source, str):  # every line of it is on one line of the file
            cursor = next((n for n in whole if n > cursor), cursor)  # markdown cells too
            out += [(cursor or 1, text) for text in source.splitlines()] if code else []
            continue
        if not code:
            continue
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        for text in (source if isinstance(source, str) else "").splitlines():
            numbers = stored.get(text, ())
            at = bisect.bisect_right(numbers, cursor)
            if text and at < len(numbers):
                cursor = numbers[at]
            out.append((cursor or 1, text))
    return out


def _notebook_cells(notebook: object) -> tuple[list, str]:
    """The cells and their source key, for nbformat 4 (`source`) and 3 (`input`)."""
    if not isinstance(notebook, dict):
        return [], "source"
    if notebook.get("nbformat") == 3:
        sheets = notebook.get("worksheets")
        cells = [cell for sheet in (sheets if isinstance(sheets, list) else [])
                 if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list)
                 for cell in sheet["cells"]]
        return cells, "input"
    cells = notebook.get("cells")
    return (cells if isinstance(cells, list) else []), "source"


def _stored_strings(file_lines: list[str]) -> dict[str, list[int]]:
    """{decoded text: [file line numbers]} for file lines that are one JSON string (a source
    line as nbformat writes it: `"text\\n",`), whichever way the writer escaped it."""
    index: dict[str, list[int]] = {}
    for number, line in enumerate(file_lines, start=1):
        literal = line.strip().removesuffix(",")
        if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
            continue
        try:
            text = json.loads(literal)
        except ValueError:
            continue
        index.setdefault(text.removesuffix("\n"), []).append(number)
    return index


def locate(result: Result, path: Path, audience: str = "student") -> dict[str, int]:
    """The file line to annotate for each op: in a .py file, the line the grader verified is
    wrong (`OpResult.wrong_line`); else its method's `def` (the last one, as the last
    definition wins); for an op failing only because of a broken primitive, that primitive's
    `def` (in a student's view, unless it is hidden); else the `class Value` line, else 1."""
    lines = _code_lines(path)
    where: dict[str, int] = {}
    class_line = next((n for n, text in reversed(lines)
                       if re.match(r"\s*class\s+Value\b", text)), 1)
    for op in result.ops:
        key = next(iter(root_causes(op, audience)), op.key)
        method = optable.ALL[key].method if key in optable.ALL else key
        pattern = re.compile(rf"\s*(?:def|class)\s+{re.escape(method)}\b")
        where[op.key] = next((n for n, text in reversed(lines) if pattern.match(text)),
                             class_line)
        found = op.wrong_line  # a .py file's line a verified edit fixes (judge/edits.py)
        if found is not None and found.cell is None and shows_details(op, audience):
            where[op.key] = found.lines[0]
    return where


_ISOLATION = {
    "bubblewrap": "Student code ran in the strong sandbox (bubblewrap).",
    "landlock": "Student code ran walled by Landlock and seccomp (bubblewrap was not available "
                "on this runner).",
    "weak": "Student code ran with **weak isolation**: the grader's audit hook was its only "
            "wall (no bubblewrap, no Landlock and seccomp on this runner).",
    "none": "No student code ran.",
}


def step_summary(result: Result, audience: str = "student") -> str:
    """GitHub-flavoured Markdown: the per-op table (well under the 1 MiB limit). GFM renders
    raw HTML, so every text goes through the Markdown encoder; `<br>` is the grader's own."""
    lines = [f"## gradkit: {result.score:g} / {result.max_score:g}", ""]
    lines += [_ISOLATION.get(result.isolation, _ISOLATION["none"]), ""]
    if result.problem:
        lines += [f"**Not graded:** {_cell(result.problem)}", ""]
    lines += ["| task | op | points | status | what to look at |",
              "| --- | --- | ---: | --- | --- |"]
    for op in result.ops:
        hint = "<br>".join(_cell(line) for line in brief(op, audience)[:3])
        icon = "✅" if op.passed else "❌"
        lines.append(f"| {op.task} | `{op.key}` | {op.points:g} / {op.max_points:g} | "
                     f"{icon} {verdict(op)} | {hint} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return encode.markdown(text[:300])


def repository_path(path: Path, environ=os.environ) -> str:
    """The submission as GitHub names a file of the repository, relative to its root: the
    Classroom workflow grades from outside the checkout and passes the absolute path."""
    workspace = environ.get("GITHUB_WORKSPACE")
    if workspace and path.is_absolute():
        try:
            return path.relative_to(workspace).as_posix()
        except ValueError:
            pass
    return str(path)


def annotations(result: Result, path: Path, cap: int = MAX_ANNOTATIONS,
                audience: str = "student", name: str | None = None) -> list[str]:
    """One `::error` per failing op, pointing at its method, at most `cap`; the file is
    named `name` (the path in the repository), else `path`."""
    where = locate(result, path, audience)
    name = str(path) if name is None else name
    out = []
    for op in result.ops:
        if op.passed:
            continue
        message = "\n".join(brief(op, audience)[:4])
        title = f"{op.key}: {op.points:g}/{op.max_points:g} points"
        out.append(f"::error file={escape_property(name)},line={where.get(op.key, 1)},"
                   f"title={escape_property(title)}::{escape_data(message)}")
    if len(out) > cap:
        extra = len(out) - cap + 1
        out = [*out[:cap - 1],
               f"::error title={escape_property('gradkit')}::{extra} more ops failed; "
               "see the job summary"]
    return out


def classroom(result: Result, path: Path, audience: str = "student",
              name: str | None = None) -> dict:
    """GitHub Classroom's runner result (autograding-grading-reporter sums `tests[].score`)."""
    where = locate(result, path, audience)
    status = "error" if result.problem else ("pass" if result.score == result.max_score
                                             else "fail")
    return {
        "version": 1,
        "status": status,
        "max_score": result.max_score,
        "tests": [{
            "name": f"{op.key}: {op.title}",
            "status": "pass" if op.passed else ("error" if result.problem else "fail"),
            "message": "\n".join(brief(op, audience)) or "passed",
            "test_code": "",
            "filename": str(path) if name is None else name,
            "line_no": where.get(op.key, 1),
            "execution_time": "",
            "score": op.points,
        } for op in result.ops],
    }


def classroom_output(result: Result, path: Path, audience: str = "student",
                     name: str | None = None) -> str:
    compact = json.dumps(classroom(result, path, audience, name), separators=(",", ":"))
    return base64.b64encode(compact.encode()).decode("ascii")


def junit_xml(result: Result, audience: str = "student") -> str:
    """xunit2-style XML: a testsuite per submission, a testcase per op. Every text and
    attribute goes through the XML encoder, so the file stays well-formed."""
    x = encode.xml_text
    failures = sum(not op.passed for op in result.ops)
    suite = ElementTree.Element("testsuite", {
        "name": "gradkit", "tests": str(len(result.ops)),
        "failures": "0" if result.problem else str(failures),
        "errors": str(len(result.ops)) if result.problem else "0",
        "time": f"{result.seconds:.3f}"})
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (("score", result.score), ("max_score", result.max_score),
                        ("seed", result.seed), ("submission", result.submission)):
        ElementTree.SubElement(properties, "property", {"name": name, "value": x(value)})
    for op in result.ops:
        case = ElementTree.SubElement(suite, "testcase", {
            "classname": x(f"gradkit.{Path(result.submission).stem}"), "name": op.key,
            "time": "0"})
        if op.passed:
            continue
        text = x("\n".join(brief(op, audience)))
        kind = "error" if result.problem else "failure"
        element = ElementTree.SubElement(case, kind, {
            "message": f"{op.key}: {op.points:g}/{op.max_points:g} points",
            "type": "gradkit." + ("ungradable" if result.problem else "wrong_gradient")})
        element.text = text
    root = ElementTree.Element("testsuites")
    root.append(suite)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(
        root, encoding="unicode") + "\n"


def write_junit(result: Result, target: str | os.PathLike, audience: str = "student") -> None:
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text(junit_xml(result, audience), encoding="utf-8")


def _append(target: str | None, text: str) -> None:
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text)


def github(result: Result, path: Path, *, environ=os.environ, stream: TextIO,
           audience: str = "student") -> None:
    """Everything a GitHub Actions step shows: the report (student-controlled text fenced off
    from the runner, and free of terminal escapes), annotations, the job summary and the step
    outputs, all in `audience`'s view (a student reads every one of them)."""
    from graders.report.terminal import render

    token = secrets.token_hex(16)
    buffer = io.StringIO()
    render(result, file=buffer, audience=audience)
    stream.write(f"::stop-commands::{token}\n")
    if result.output:
        stream.write("--- what your code printed ---\n"
                     + encode.terminal(result.output.rstrip("\n")) + "\n")
    stream.write(buffer.getvalue())
    stream.write(f"::{token}::\n")
    name = repository_path(path, environ)
    for line in annotations(result, path, audience=audience, name=name):
        stream.write(line + "\n")
    stream.write(f"::notice title=gradkit::Points {result.score:g}/{result.max_score:g}\n")
    stream.flush()
    _append(environ.get("GITHUB_STEP_SUMMARY"), step_summary(result, audience))
    _append(environ.get("GITHUB_OUTPUT"),
            f"result={classroom_output(result, path, audience, name)}\n"
            f"score={result.score:g}\nmax-score={result.max_score:g}\n")
