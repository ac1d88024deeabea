"""`gradkit classroom init REPO`: make a student template repository grade itself on every push.

Writes `.github/workflows/classroom.yml` (the template in `graders/templates/`, with the
notebook and the assignment filled in) and `.github/gradkit/`: gradkit's own wheel (the grader
the instructor tested, installed by the workflow from the repository itself, so no package
index, no network path to a course server and no version drift across a term) and, for an
assignment config, that file. docs/ci.md says why the wheel is vendored.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from graders.commands import VERBS, UsageError, options
from graders.commands.distribution import WheelError, own_wheel

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "gradkit-classroom.yml"
CONFIG_COPY = ".github/gradkit/assignment.toml"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "classroom", help=VERBS["classroom"],
        description="Write the autograding workflow and gradkit's wheel into a template "
                    "repository for GitHub Classroom (or plain GitHub Actions).")
    verbs = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = verbs.add_parser(
        "init", help="write .github/workflows/classroom.yml and .github/gradkit/ into REPO",
        description="Write the workflow that grades every push (job summary, annotations, "
                    "JUnit XML, Classroom points) and vendor this gradkit's wheel into REPO "
                    "(docs/ci.md).")
    init.add_argument("repo", metavar="REPO", help="the template repository's folder")
    options.add_config(init, "backprop: the workflow grades every push as backprop")
    init.add_argument("--notebook", metavar="NAME",
                      help="the file students hand in (default: ASSIGNMENT.ipynb)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    repo = Path(args.repo)
    if not repo.is_dir():
        raise UsageError(f"{repo}: not a folder (the template repository to set up)")
    config = args.config or "backprop"
    args.config = config
    assignment = options.assignment(args)
    vendor = repo / ".github" / "gradkit"
    vendor.mkdir(parents=True, exist_ok=True)
    if Path(config).is_file():
        shutil.copy(config, repo / CONFIG_COPY)
        config = CONFIG_COPY
    for old in vendor.glob("gradkit-*.whl"):
        old.unlink()
    try:
        wheel = own_wheel(vendor)
    except WheelError as error:
        raise UsageError(f"cannot package this gradkit: {error}") from None
    notebook = args.notebook or f"{assignment.name}.ipynb"
    text = TEMPLATE.read_text()
    text = re.sub(r"(?m)^(  NOTEBOOK: )\S+", lambda m: m[1] + notebook, text)
    text = re.sub(r"(?m)^(  ASSIGNMENT: )\S+", lambda m: m[1] + config, text)
    workflow = repo / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(text)
    print(f"wrote {workflow} (grades {notebook} as {assignment.name}) and "
          f"{wheel.relative_to(repo)}; commit both, and protect .github/ in the assignment")
    return 0
