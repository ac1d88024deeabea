"""One module per CLI verb; each exposes `add_parser(subparsers)` and `run(args) -> int`.

`options.py` defines the flags several verbs share, once.
"""

VERBS = ("grade", "ops", "export", "regrade", "course", "demo", "gradescope", "classroom")


class UsageError(Exception):
    """A mistake in how the command was called; reported in one line, exit status 2."""
