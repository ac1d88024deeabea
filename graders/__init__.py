"""The gradkit grader: student code runs in a sandboxed child, sympy judges in the parent.

`grade(path)` is the programmatic API that the `gradkit grade` command mirrors.
"""

from kit import __version__

__all__ = ["__version__", "grade", "selfcheck"]


def __getattr__(name: str):
    # Lazy so that `import graders` stays cheap (sympy is only imported when grading).
    if name == "grade":
        from graders.api import grade

        return grade
    if name == "selfcheck":
        import graders.selfcheck  # a callable module: selfcheck(Value) and selfcheck.check

        return graders.selfcheck
    raise AttributeError(f"module 'graders' has no attribute {name!r}")
