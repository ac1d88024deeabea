# ruff: noqa
# hostile: the gradient is float('inf') instead of a number
# where: tanh
# modes: strong weak container nowall
self.grad = float('inf')
return
