"""`gradkit gradescope build|run`: the same grader as an autograder zip for Gradescope.

`build` writes `setup.sh` (installs the bundled wheel, the grader core only, into a venv at
image build time), `run_autograder` (calls `run`), `gradkit.json` (the assignment as a config
table, built in or from a course.toml, with its hidden ops; the seed secret) and gradkit's own
wheel (this exact grader, from any install: `commands/distribution.py`), so Gradescope grades
with what the instructor tested locally. `test` runs a zip as Gradescope would, in an emulated
layout, and checks its results.json against Gradescope's format. `run` grades the one
submission in `<root>/submission` and always writes
`<root>/results/results.json`, whatever goes wrong (Gradescope's best practice).

The root is `/autograder`, or `$GRADKIT_AUTOGRADER_ROOT` (tests emulate the layout in a temporary
folder). Seeds follow `graders.classroom.seeds`: a regrade of the same file uses the same probe
points, and the secret sits in `/autograder/source`, which the sandboxed student code cannot see.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

from graders.atomic import open_atomic
from graders.commands import VERBS, UsageError, options
from graders.commands.distribution import WheelError, own_wheel

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image: the grader core only (the
# wheel in this zip and its three dependencies), no Jupyter, no nbgrader.
# `gradkit gradescope test` runs it too, with GRADKIT_AUTOGRADER_ROOT and GRADKIT_VENV set to
# an emulated layout and GRADKIT_NO_APT=1.
set -euo pipefail
ROOT="${GRADKIT_AUTOGRADER_ROOT:-/autograder}"
VENV="${GRADKIT_VENV:-/opt/gradkit}"
if [ -z "${GRADKIT_NO_APT:-}" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
fi
# Gradescope's image has no venv yet; `gradkit gradescope test --venv DIR` reuses one.
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "$ROOT"/source/gradkit-*.whl
# The packages student code may import (the assignment's `packages`, numpy by default), at the
# versions the instructor built with, beside the grader: the sandbox shows the child those.
REQUIREMENTS=$("$VENV/bin/python" -I -c 'import json, sys
print(" ".join(json.load(open(sys.argv[1])).get("requirements", [])))' "$ROOT/source/gradkit.json")
if [ -n "$REQUIREMENTS" ]; then  # one word per requirement (numpy==2.4.6): split on purpose
    "$VENV/bin/pip" install --quiet --disable-pip-version-check $REQUIREMENTS
fi
# Check once, at build time, that the installed answer key is the one the code pins.
"$VENV/bin/python" -c "from graders.judge import oracle; oracle.load()"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it always writes results/results.json.
ROOT="${GRADKIT_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADKIT_VENV:-/opt/gradkit}/bin/python"
cd "$ROOT" || exit 1
# -I: no current folder on sys.path and no PYTHON* variables, so nothing beside the submission
# can stand in for the grader.
exec "$PYTHON" -I -m graders gradescope run --root "$ROOT"
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "gradescope", help=VERBS["gradescope"],
        description="Package gradkit as a Gradescope autograder (build), or grade inside "
                    "Gradescope's /autograder layout (run).")
    verbs = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = verbs.add_parser(
        "build", help="write autograder.zip for an assignment",
        description="Write a Gradescope autograder zip for ASSIGNMENT: setup.sh (installs "
                    "this gradkit's own wheel, the core only), run_autograder and "
                    "gradkit.json (the assignment, hidden ops, a fresh course secret).")
    options.add_config(build, None, positional=True)
    build.add_argument("--out", default="autograder.zip", metavar="ZIP",
                       help="where to write the zip (default autograder.zip)")
    build.add_argument("--notebook", metavar="NAME",
                       help="the file name students upload (default: the only .ipynb/.py)")
    build.add_argument("--hidden", default="", metavar="OP,OP",
                       help="ops whose results students see only later")
    build.add_argument("--hidden-visibility", choices=VISIBILITIES, default="after_published",
                       help="when hidden ops become visible (default after_published)")
    options.add_limits(build, op_timeout_only=True)
    test = verbs.add_parser(
        "test", help="run an autograder.zip as Gradescope would, and check its results.json",
        description="Unpack ZIP into an emulated /autograder layout in a temporary folder, run "
                    "its setup.sh into a fresh venv (no apt-get) and its run_autograder on "
                    "SUBMISSION, then check results/results.json against Gradescope's format.")
    test.add_argument("zip", metavar="ZIP", help="the autograder zip to try")
    test.add_argument("submission", metavar="SUBMISSION",
                      help="a file, or a folder of files, as a student would upload")
    test.add_argument("--results", default="results.json", metavar="PATH",
                      help="keep the results.json the run wrote here (default results.json "
                           "in the current folder), to read what the student would")
    test.add_argument("--venv", metavar="DIR",
                      help="install into this venv (kept; made if missing) instead of a "
                           "throwaway one, to try several submissions quickly")
    run_parser = verbs.add_parser(
        "run", help="grade /autograder/submission (used by run_autograder)",
        description="Grade the one submission in ROOT/submission as the zip's gradkit.json "
                    "says and write ROOT/results/results.json, whatever goes wrong (a 0 with "
                    "the reason). The zip's run_autograder calls it inside Gradescope; "
                    "instructors try a zip with `gradkit gradescope test` instead.")
    run_parser.add_argument("--root", default=None,
                            help="the autograder root (default $GRADKIT_AUTOGRADER_ROOT "
                                 "or /autograder)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        return build(args)
    if args.action == "test":
        return test_zip(Path(args.zip), Path(args.submission),
                        Path(args.venv) if args.venv else None, Path(args.results))
    root = Path(args.root or os.environ.get("GRADKIT_AUTOGRADER_ROOT") or "/autograder")
    return run_autograder(root)


def requirements(assignment) -> list[str]:
    """pip requirements for the assignment's packages, pinned to the versions installed here
    (the instructor's, which their checks ran against): `numpy==2.4.6`. A package is named by
    its import name (PIL), installed by its distribution's (pillow)."""
    from importlib.metadata import packages_distributions, version

    found = packages_distributions()
    pinned = []
    for name in assignment.packages:
        for dist in found.get(name, [])[:1]:
            pinned.append(f"{dist}=={version(dist)}")
    return pinned


def build(args: argparse.Namespace) -> int:
    from graders.spec.assignments import to_data

    assignment = options.assignment(args)
    hidden = [key.strip() for key in args.hidden.split(",") if key.strip()]
    unknown = [key for key in hidden if key not in assignment.ops]
    if unknown:
        raise UsageError(f"--hidden {','.join(unknown)}: not graded in {assignment.name} "
                         f"(its ops: {', '.join(assignment.ops)})")
    assignment = replace(assignment, hidden=tuple(dict.fromkeys((*assignment.hidden, *hidden))))
    limits = options.limits(args)
    from kit import __version__

    config = {"assignment": to_data(assignment), "requirements": requirements(assignment),
              "notebook": args.notebook,
              "hidden_visibility": args.hidden_visibility,
              "op_timeout": limits.group_seconds if args.op_timeout is not None else None,
              "secret": os.urandom(32).hex(), "gradkit": __version__}
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder; give a .zip file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            wheel = own_wheel(Path(scratch))
        except WheelError as error:
            raise UsageError(f"cannot package this gradkit: {error}") from None
        with open_atomic(out, "wb") as handle, \
                zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            _add(archive, "setup.sh", SETUP_SH, executable=True)
            _add(archive, "run_autograder", RUN_AUTOGRADER, executable=True)
            _add(archive, "gradkit.json", json.dumps(config, indent=2) + "\n")
            archive.write(wheel, wheel.name)
    print(f"wrote {out}: assignment {assignment.name}, gradkit {__version__}"
          + (f", hidden until {args.hidden_visibility}: {', '.join(assignment.hidden)}"
             if assignment.hidden else ""))
    return 0


ZIP_ENTRIES = ("setup.sh", "run_autograder", "gradkit.json")


def _step(step: str, root: Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run one of the zip's scripts as Gradescope does."""
    return subprocess.run(["bash", str(root / "source" / step)], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_zip(archive: Path, submission: Path, venv: Path | None = None,
             keep: Path = Path("results.json")) -> int:
    """Exit 0 when the zip sets up, grades `submission` and writes a valid results.json,
    which is kept as `keep` and shown test by test with the text a student reads."""
    from graders.report.gradescope import validate

    if not archive.is_file():
        raise UsageError(f"{archive}: no such zip")
    if not submission.exists():
        raise UsageError(f"{submission}: no such file or folder")
    with tempfile.TemporaryDirectory(prefix="gradkit-gradescope-") as scratch:
        root = Path(scratch) / "autograder"
        try:
            with zipfile.ZipFile(archive) as zipped:
                names = set(zipped.namelist())
                zipped.extractall(root / "source")
        except zipfile.BadZipFile:
            raise UsageError(f"{archive}: not a zip file") from None
        missing = [name for name in ZIP_ENTRIES if name not in names]
        if missing or not any(name.endswith(".whl") for name in names):
            raise UsageError(f"{archive}: not a gradkit autograder (missing "
                             f"{', '.join(missing) or 'the wheel'})")
        (root / "submission").mkdir()
        (root / "results").mkdir()
        if submission.is_dir():
            shutil.copytree(submission, root / "submission", dirs_exist_ok=True)
        else:
            shutil.copy(submission, root / "submission" / submission.name)
        env = {**os.environ, "GRADKIT_AUTOGRADER_ROOT": str(root),
               "GRADKIT_VENV": str(venv or root / "venv"), "GRADKIT_NO_APT": "1"}
        env.pop("PYTHONPATH", None)  # the zip's grader only, never the caller's
        for step, cwd in (("setup.sh", root / "source"), ("run_autograder", root)):
            started = time.monotonic()
            done = _step(step, root, cwd, env)
            print(f"{step}: exit {done.returncode} in {time.monotonic() - started:.1f} s")
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
                print(tail)
                return 1
        results = root / "results" / "results.json"
        try:
            data = json.loads(results.read_text())
        except (OSError, ValueError) as error:
            print(f"results.json: missing or not JSON ({error})")
            return 1
        try:
            shutil.copyfile(results, keep)
            print(f"results.json: kept as {keep}")
        except OSError as error:
            print(f"results.json: cannot keep it as {keep}: {error}")
    problems = validate(data)
    failed = (data.get("extra_data") or {}).get("autograder_error") \
        if isinstance(data, dict) else None
    if failed:  # a valid file, but every student would get 0 and this message
        problems.append(f"the autograder failed, not the submission: {failed}")
    for problem in problems:
        print(f"results.json: {problem}")
    if problems:
        return 1
    print("\n".join(described(data)))
    return 0


def described(data: dict) -> list[str]:
    """A valid results.json as the student would read it: the score, the top-level output,
    then each test's line and, indented under it, its own text (the diagnosis, the probe)."""
    tests = data.get("tests", [])
    total = sum(test.get("max_score", 0) for test in tests)
    lines = [f"results.json: valid Gradescope format; score {data.get('score', 0):g} / "
             f"{total:g} over {len(tests)} tests"]
    lines += [f"  {line}" for line in str(data.get("output") or "").splitlines()]
    for test in tests:
        lines.append(f"  {test.get('number', ''):>5} {test.get('name', '')[:48]:48} "
                     f"{test.get('score', 0):g}/{test.get('max_score', 0):g} "
                     f"{test.get('visibility', 'visible')}")
        lines += [f"        {line}" for line in str(test.get("output") or "").splitlines()]
    return lines


def _add(archive: zipfile.ZipFile, name: str, text: str, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def _submission(folder: Path, wanted: str | None) -> tuple[Path | None, str | None]:
    """The file to grade, or why there is none, in words for the student."""
    if wanted and (folder / wanted).is_file():
        return folder / wanted, None
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".ipynb", ".py")
                   and p.is_file() and ".ipynb_checkpoints" not in p.parts)
    notebooks = [p for p in files if p.suffix == ".ipynb"] or files
    if not notebooks:
        named = f" named {wanted}" if wanted else ""
        return None, f"no notebook{named} (.ipynb or .py) found in your submission"
    if len(notebooks) > 1:
        names = ", ".join(p.name for p in notebooks)
        return None, (f"{len(notebooks)} files could be your submission ({names}); "
                      f"upload only {wanted or 'your notebook'}")
    return notebooks[0], None


def run_autograder(root: Path) -> int:
    """Grade `<root>/submission`, write `<root>/results/results.json`. Never fails silently."""
    from graders.atomic import write_json_atomic

    target = root / "results" / "results.json"
    try:
        data = _grade_in_layout(root)
    except Exception as error:  # the student still gets a result and a readable reason
        data = _autograder_error(error)
    try:
        write_json_atomic(target, data)
    except Exception as error:  # the grade could not be written as it is: its reason can
        data = _autograder_error(error)
        write_json_atomic(target, data)
    print(f"gradkit: score {data['score']:g}; wrote {target}")
    return 0


def _autograder_error(error: Exception) -> dict:
    """results.json when the autograder itself failed: 0, and one line the student can pass
    on to the instructor."""
    text = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    return {"score": 0, "output": f"The autograder failed: {text}. Please tell your instructor.",
            "tests": [], "visibility": "visible", "extra_data": {"autograder_error": text}}


def _grade_in_layout(root: Path) -> dict:
    from graders.api import unscored
    from graders.classroom import seeds
    from graders.classroom.gradebook import content_hash
    from graders.classroom.grading import grade
    from graders.classroom.records import Job
    from graders.model import Limits
    from graders.report.gradescope import gradescope
    from graders.run.sandbox import planned_isolation
    from graders.spec.assignments import from_data

    source = root / "source" / "gradkit.json"
    config = json.loads(source.read_text())
    assignment = from_data(config["assignment"], source)
    limits = Limits(group_seconds=config["op_timeout"]) if config.get("op_timeout") else Limits()
    path, problem = _submission(root / "submission", config.get("notebook"))
    if path is None:
        result = unscored(root / "submission", assignment, problem)
    else:
        digest = content_hash(path)
        grader = seeds.grader_id(assignment, limits, planned_isolation(None))
        seed = seeds.seed(bytes.fromhex(config["secret"]), digest, grader)
        result = grade(Job("", "", str(path), assignment, digest, seed, grader, limits)).result
    return gradescope(result, hidden_visibility=config.get("hidden_visibility",
                                                          "after_published"))

