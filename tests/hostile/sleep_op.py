# ruff: noqa
# hostile: sleeps inside exp's _backward (RLIMIT_CPU alone never ends a sleep)
# where: exp
# modes: strong weak container nowall user
import time

time.sleep(3600)
