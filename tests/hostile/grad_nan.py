# ruff: noqa
# hostile: the gradient is float('nan') instead of a number
# where: tanh
# modes: strong weak container
self.grad = float('nan')
return
