"""`gradkit course new NAME --config FILE`: an nbgrader assignment written from a config.

The instructor declares ops in a config (docs/assignments.md); this writes the nbgrader source
notebook for them, in nbgrader's layout under the course root:

    ROOT/source/NAME/NAME.ipynb     the backprop notebook with every declared op added: its
                                    forward code given, a `_backward` stub naming its task,
                                    the solution sympy derived (edit it freely), a hidden grade
                                    cell per task and the self-check cell
    ROOT/source/NAME/course.toml    the config, read by the self-check, the grade cells and
                                    autograde (which reads this source copy, never a student's)
    ROOT/nbgrader_config.py         gradkit's nbgrader settings, unless the course has one

Then `nbgrader generate_assignment NAME` releases it, as for the built-in assignments.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from graders.commands import VERBS, UsageError, options

NBGRADER_CONFIG = '''"""nbgrader settings for a gradkit course (written by `gradkit course new`)."""

from graders.course.nbgrader_setup import configure

c = get_config()  # noqa: F821 - provided by traitlets when it runs this file
configure(c)
'''


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "course", help=VERBS["course"],
        description="Course tooling. `course new NAME --config FILE` writes the nbgrader "
                    "source notebook (and the config beside it) for an assignment whose ops "
                    "a config declares.")
    verbs = parser.add_subparsers(dest="course_verb", metavar="VERB", required=True)
    new = verbs.add_parser(
        "new", help="write ROOT/source/NAME/NAME.ipynb from a config",
        description=__doc__.split("\n\n")[0])
    new.add_argument("name", metavar="NAME", help="the nbgrader assignment id (a folder name)")
    new.add_argument("--config", metavar="FILE",
                     help="the .toml/.json config that declares the assignment's ops "
                          "(required; docs/course.md)")
    new.add_argument("--root", type=Path, default=Path("."),
                     help="the nbgrader course folder (default: the current folder)")
    new.add_argument("--force", action="store_true",
                     help="replace an existing source notebook of that name")
    new.set_defaults(run=run)


def _check_name(name: str) -> None:
    if not name or name.startswith(".") or any(c in name for c in "/\\ "):
        raise UsageError(f"assignment name {name!r}: use a plain folder name, e.g. backprop-plus")


def run(args: argparse.Namespace) -> int:
    from graders.course import authoring
    from graders.course.nbgrader_autograde import CONFIG_NAME
    from graders.spec import optable

    _check_name(args.name)
    if not args.config:
        raise UsageError("course new needs --config FILE: the config that declares the ops")
    config = Path(args.config)
    if not config.is_file():
        raise UsageError(f"--config {config}: no such file (course new reads a .toml or "
                         f".json config; built-in assignments are in solutions/ already)")
    assignment = options.assignment(args)
    if not any(assignment.op(key).kind == "op" for key in assignment.ops):
        raise UsageError(f"{config}: course new writes assignments built on "
                         f"'{optable.BACKPROP.name}' (a Value class); this config's base has "
                         f"no ops to differentiate")
    folder = args.root / "source" / args.name
    notebook = folder / f"{args.name}.ipynb"
    if notebook.exists() and not args.force:
        raise UsageError(f"{notebook} exists; pass --force to replace it")
    folder.mkdir(parents=True, exist_ok=True)
    nb = authoring.backprop(assignment, config=CONFIG_NAME)
    import nbformat

    nbformat.validate(nb)
    notebook.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    if config.resolve() != (folder / CONFIG_NAME).resolve():
        shutil.copyfile(config, folder / CONFIG_NAME)
    written = [notebook, folder / CONFIG_NAME]
    settings = args.root / "nbgrader_config.py"
    if not settings.exists():
        settings.write_text(NBGRADER_CONFIG, encoding="utf-8")
        written.append(settings)
    for path in written:
        print(f"wrote {path}")
    tasks = authoring.course.tasks_of(assignment)
    print(f"{assignment.name}: {len(tasks)} tasks, "
          f"{sum(t.points for t in tasks):g} points; next: "
          f"cd {args.root} && nbgrader generate_assignment {args.name}")
    return 0
