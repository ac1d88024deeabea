# ruff: noqa
# hostile: raise KeyboardInterrupt inside tanh's _backward, hoping the check is skipped or counted as passed
# where: tanh
# hits: tanh
# modes: strong weak container nowall user
import os
import sys


class Escape(BaseException):
    pass


raise KeyboardInterrupt
