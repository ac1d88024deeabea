"""One module per CLI verb; each exposes `add_parser(subparsers)` and `run(args) -> int`.

`options.py` defines the flags several verbs share, once.
"""

# Each verb with its one-line help: the top-level parser lists them without importing the
# modules, and only the called verb's module is imported (its parser is the only one built).
VERBS = {
    "grade": "grade a submission (.ipynb or .py), or a whole class",
    "ops": "list an assignment's graded ops, derivatives and probe domains",
    "export": "write a batch's grades as a Canvas, Moodle or plain CSV import file",
    "regrade": "regrade a batch's stored submissions and show what changes",
    "course": "write an nbgrader assignment from a config",
    "demo": "train a small MLP with the reference engine and print the loss",
    "gradescope": "build or run a Gradescope autograder",
    "classroom": "set up a GitHub Classroom template repository",
}


class UsageError(Exception):
    """A mistake in how the command was called; reported in one line, exit status 2."""
