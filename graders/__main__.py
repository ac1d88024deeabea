"""`python -m graders`: the `gradkit` command, for an install whose scripts are not on PATH."""

from graders.cli import run

run()
