# ruff: noqa
# hostile: the gradient is a float subclass whose comparisons, arithmetic and repr all lie
# where: tanh
# modes: strong weak container nowall user


class Liar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __le__(self, other): return True
    def __gt__(self, other): return False
    def __ge__(self, other): return True
    def __sub__(self, other): return Liar(0.0)
    def __rsub__(self, other): return Liar(0.0)
    def __abs__(self): return Liar(0.0)
    def __float__(self): return 0.0
    def __repr__(self): return "0.0"
    def __str__(self): return "0.0"
    __hash__ = float.__hash__


self.grad = Liar(self.grad + (1 - t) * out.grad)
return
