"""`gradkit gradescope build|run`: the same grader as an autograder zip for Gradescope.

`build` writes `setup.sh` (installs the bundled gradkit source into a venv and warms the oracle
cache at image build time), `run_autograder` (calls `run`), `gradkit.json` (the assignment as a
config table, built in or from a course.toml, with its hidden ops; the seed secret) and
`gradkit-src/` (this exact grader), so Gradescope grades with what the instructor tested
locally. `run` grades the one submission in `<root>/submission` and always writes
`<root>/results/results.json`, whatever goes wrong (Gradescope's best practice).

The root is `/autograder`, or `$GRADKIT_AUTOGRADER_ROOT` (tests emulate the layout in a temporary
folder). Seeds follow `graders.classroom.seeds`: a regrade of the same file uses the same probe
points, and the secret sits in `/autograder/source`, which the sandboxed student code cannot see.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import time
import zipfile
from dataclasses import replace
from pathlib import Path

from graders.commands import UsageError, options

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
SOURCE_PARTS = ("kit", "graders")
SOURCE_FILES = ("pyproject.toml", "README.md", "LICENSE")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
python3 -m venv /opt/gradkit
/opt/gradkit/bin/pip install --quiet /autograder/source/gradkit-src
# Check once, at build time, that the oracle derives (each run derives it again, in memory).
/opt/gradkit/bin/python -c "from graders.judge import oracle; oracle.load()"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it always writes results/results.json.
ROOT="${GRADKIT_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADKIT_PYTHON:-/opt/gradkit/bin/python}"
cd "$ROOT" || exit 1
exec "$PYTHON" -m graders gradescope run --root "$ROOT"
"""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "gradescope", help="build or run a Gradescope autograder",
        description="Package gradkit as a Gradescope autograder (build), or grade inside "
                    "Gradescope's /autograder layout (run).")
    verbs = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = verbs.add_parser("build", help="write autograder.zip for an assignment")
    options.add_config(build, positional=True)
    build.add_argument("--out", default="autograder.zip", metavar="ZIP",
                       help="where to write the zip (default autograder.zip)")
    build.add_argument("--notebook", metavar="NAME",
                       help="the file name students upload (default: the only .ipynb/.py)")
    build.add_argument("--hidden", default="", metavar="OP,OP",
                       help="ops whose results students see only later")
    build.add_argument("--hidden-visibility", choices=VISIBILITIES, default="after_published",
                       help="when hidden ops become visible (default after_published)")
    options.add_limits(build, op_timeout_only=True)
    run_parser = verbs.add_parser("run", help="grade /autograder/submission (used by "
                                               "run_autograder)")
    run_parser.add_argument("--root", default=None,
                            help="the autograder root (default $GRADKIT_AUTOGRADER_ROOT "
                                 "or /autograder)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        return build(args)
    root = Path(args.root or os.environ.get("GRADKIT_AUTOGRADER_ROOT") or "/autograder")
    return run_autograder(root)


def _source_root() -> Path:
    return Path(__file__).resolve().parents[2]


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

    config = {"assignment": to_data(assignment), "notebook": args.notebook,
              "hidden_visibility": args.hidden_visibility,
              "op_timeout": limits.group_seconds if args.op_timeout is not None else None,
              "secret": os.urandom(32).hex(), "gradkit": __version__}
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder; give a .zip file name")
    source = _source_root()
    if not (source / "pyproject.toml").exists():
        raise UsageError("build needs gradkit's source tree (pyproject.toml next to graders/); "
                         "run it from a checkout of the course repository")
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "setup.sh", SETUP_SH, executable=True)
        _add(archive, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add(archive, "gradkit.json", json.dumps(config, indent=2) + "\n")
        for name in SOURCE_FILES:
            if (source / name).exists():
                archive.write(source / name, f"gradkit-src/{name}")
        for part in SOURCE_PARTS:
            for path in sorted((source / part).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, f"gradkit-src/{path.relative_to(source)}")
    temporary.replace(out)
    print(f"wrote {out}: assignment {assignment.name}, gradkit {__version__}"
          + (f", hidden until {args.hidden_visibility}: {', '.join(assignment.hidden)}"
             if assignment.hidden else ""))
    return 0


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
        data = {"score": 0, "output": f"The autograder failed: {type(error).__name__}: "
                                      f"{error}. Please tell your instructor.",
                "tests": [], "visibility": "visible"}
    write_json_atomic(target, data)
    print(f"gradkit: score {data['score']:g}; wrote {target}")
    return 0


def _grade_in_layout(root: Path) -> dict:
    from graders.api import grade, unscored
    from graders.classroom import seeds
    from graders.classroom.gradebook import content_hash
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
        seed = seeds.seed(bytes.fromhex(config["secret"]), content_hash(path),
                          seeds.grader_id(assignment, limits, planned_isolation(None)))
        result = grade(path, assignment=assignment, seed=seed, limits=limits)
    return gradescope(result, hidden_visibility=config.get("hidden_visibility",
                                                          "after_published"))

