# ruff: noqa
# hostile: the gradient is True instead of a number
# where: tanh
# modes: strong
self.grad = True
return
