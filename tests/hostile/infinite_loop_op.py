# ruff: noqa
# hostile: an infinite loop inside exp's _backward (a cycle in a hand-made topo sort looks alike)
# where: exp
# modes: strong weak container nowall user
while True:
    pass
