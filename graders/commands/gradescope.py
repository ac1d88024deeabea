"""`gradkit gradescope build|run`: the same grader as an autograder zip for Gradescope.

`build` writes `setup.sh` (installs the bundled gradkit source into a venv and warms the oracle
cache at image build time), `run_autograder` (calls `run`), `gradkit.json` (assignment, hidden ops,
seed secret) and `gradkit-src/` (this exact grader), so Gradescope grades with what the
instructor tested locally. `run` grades the one submission in `<root>/submission` and always
writes `<root>/results/results.json`, whatever goes wrong (Gradescope's best practice).

The root is `/autograder`, or `$GRADKIT_AUTOGRADER_ROOT` (tests emulate the layout in a temporary
folder). Seeds are HMAC(secret, content hash): a regrade of the same file uses the same probe
points, and the secret sits in `/autograder/source`, which the sandboxed student code cannot see.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import stat
import time
import zipfile
from pathlib import Path

from graders.cli import UsageError

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
# Derive the sympy oracle now, so no submission pays for it.
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
    build.add_argument("assignment", metavar="ASSIGNMENT", help="assignment name, e.g. backprop")
    build.add_argument("--out", default="autograder.zip", metavar="ZIP",
                       help="where to write the zip (default autograder.zip)")
    build.add_argument("--notebook", metavar="NAME",
                       help="the file name students upload (default: the only .ipynb/.py)")
    build.add_argument("--hidden", default="", metavar="OP,OP",
                       help="ops whose results students see only later")
    build.add_argument("--hidden-visibility", choices=VISIBILITIES, default="after_published",
                       help="when hidden ops become visible (default after_published)")
    build.add_argument("--op-timeout", type=float, default=None, metavar="SECONDS",
                       help="time for one op's checks (default 10)")
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


def find_assignment(name: str):
    """An Assignment defined in the op table, by its name."""
    from graders.spec import optable
    known = {value.name: value for value in vars(optable).values()
             if isinstance(value, optable.Assignment)}
    if name not in known:
        raise UsageError(f"unknown assignment {name!r}; known: {', '.join(sorted(known))}")
    return known[name]


def _source_root() -> Path:
    return Path(__file__).resolve().parents[2]


def build(args: argparse.Namespace) -> int:
    assignment = find_assignment(args.assignment)
    hidden = [key.strip() for key in args.hidden.split(",") if key.strip()]
    unknown = [key for key in hidden if key not in assignment.ops]
    if unknown:
        raise UsageError(f"--hidden {','.join(unknown)}: not graded in {assignment.name} "
                         f"(its ops: {', '.join(assignment.ops)})")
    if args.op_timeout is not None and args.op_timeout <= 0:
        raise UsageError("--op-timeout must be more than 0 seconds")
    from kit import __version__

    config = {"assignment": assignment.name, "notebook": args.notebook, "hidden": hidden,
              "hidden_visibility": args.hidden_visibility, "op_timeout": args.op_timeout,
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
          + (f", hidden until {args.hidden_visibility}: {', '.join(hidden)}" if hidden else ""))
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
    from graders.report.gradescope import write_json_atomic

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
    from graders.api import grade
    from graders.classroom.gradebook import content_hash
    from graders.judge.scoring import unscored
    from graders.report.gradescope import Result, gradescope
    from graders.run.sandbox import Limits

    config = json.loads((root / "source" / "gradkit.json").read_text())
    assignment = find_assignment(config["assignment"])
    limits = Limits(group_seconds=config["op_timeout"]) if config.get("op_timeout") else Limits()
    path, problem = _submission(root / "submission", config.get("notebook"))
    if path is None:
        result = Result(submission=str(root / "submission"), problem=problem)
        result.ops = unscored(assignment, problem)
    else:
        mac = hmac.new(bytes.fromhex(config["secret"]), content_hash(path).encode(),
                       hashlib.sha256)
        seed = int.from_bytes(mac.digest()[:6], "big")
        result = grade(path, assignment=assignment, seed=seed, limits=limits)
    data = gradescope(result)
    hidden = set(config.get("hidden") or ())
    for test in data["tests"]:
        if test["tags"][0].removeprefix("op:") in hidden:
            test["visibility"] = config.get("hidden_visibility", "after_published")
    return data

