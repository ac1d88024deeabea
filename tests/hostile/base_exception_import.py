# ruff: noqa
# hostile: raise Escape('done') at import, after Value is defined, hoping "no failure" reads as a pass
# where: end
# modes: strong weak container nowall user
import os
import sys


class Escape(BaseException):
    pass


raise Escape('done')
