# ruff: noqa
# hostile: os._exit(0) inside tanh's _backward, hoping the check is skipped or counted as passed
# where: tanh
# hits: tanh
# modes: strong weak container nowall user
import os
import sys


class Escape(BaseException):
    pass


os._exit(0)
