"""`from graders import selfcheck; selfcheck(Value)`: the notebook's one-line self-check.

A public path, kept for notebooks and scripts (`graders.selfcheck.check(Value)` returns the
report as data). The code lives in `graders/course/kernel_check.py`; this module is callable so
that the one-liner works whether or not anything imported it as a module first.
"""

from __future__ import annotations

import sys
import types

from graders.course.kernel_check import (
    ERROR,
    NOT_IMPLEMENTED,
    PASSED,
    WRONG,
    Report,
    Row,
    check,
    selfcheck,
    status_of,
)

__all__ = ["ERROR", "NOT_IMPLEMENTED", "PASSED", "WRONG", "Report", "Row", "check",
           "selfcheck", "status_of"]


class _CallableModule(types.ModuleType):
    def __call__(self, cls: object, **options) -> None:
        selfcheck(cls, **options)


sys.modules[__name__].__class__ = _CallableModule
