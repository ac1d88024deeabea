# ruff: noqa
# hostile: the gradient is float('nan') instead of a number
# where: tanh
# modes: strong weak container nowall user
self.grad = float('nan')
return
