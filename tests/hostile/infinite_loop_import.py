# ruff: noqa
# hostile: hangs at the top level, after Value is defined
# where: end
# hits: all
# modes: strong weak container nowall user
while True:
    pass
