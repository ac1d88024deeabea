# ruff: noqa
# hostile: the gradient is float('inf') instead of a number
# where: tanh
# modes: strong weak container nowall user
self.grad = float('inf')
return
