# ruff: noqa
# hostile: os._exit(0) at import, after Value is defined, hoping "no failure" reads as a pass
# where: end
# hits: all
# modes: strong weak container nowall user
import os
import sys


class Escape(BaseException):
    pass


os._exit(0)
