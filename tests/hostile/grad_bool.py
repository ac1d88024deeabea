# ruff: noqa
# hostile: the gradient is True instead of a number
# where: tanh
# modes: strong weak container nowall
self.grad = True
return
