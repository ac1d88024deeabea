# ruff: noqa
# hostile: the gradient is '0.4199743416140261' instead of a number
# where: tanh
# modes: strong weak container nowall user
self.grad = '0.4199743416140261'
return
