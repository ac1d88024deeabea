# ruff: noqa
# hostile: the gradient is True instead of a number
# where: tanh
# modes: strong weak container nowall user
self.grad = True
return
