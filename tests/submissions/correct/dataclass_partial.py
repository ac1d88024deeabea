"""A dataclass Value whose backward rules are methods bound with functools.partial.

Children live in a frozenset, grads start as the int 0, sub/neg/div are written with * -1 and
** -1, and backward() recurses (the harness raises the recursion limit for deep graphs).
"""
import math
from dataclasses import dataclass, field
from functools import partial


@dataclass(eq=False)
class Value:
    data: float
    _prev: frozenset = field(default_factory=frozenset)
    _op: str = ""
    grad: float = 0
    _backward: object = field(default=lambda: None, repr=False)

    @classmethod
    def of(cls, x):
        return x if isinstance(x, Value) else cls(x)

    def _make(self, data, parents, op, rule):
        out = Value(data, frozenset(parents), op)
        out._backward = partial(rule, out)
        return out

    # backward rules: each receives the output node first
    def _add_rule(self, other, out):
        self.grad += out.grad
        other.grad += out.grad

    def _mul_rule(self, other, out):
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    def _pow_rule(self, k, out):
        self.grad += k * self.data ** (k - 1) * out.grad

    def _unary_rule(self, local, out):
        self.grad += local * out.grad

    def __add__(self, other):
        other = Value.of(other)
        return self._make(self.data + other.data, (self, other), "+",
                          lambda out: self._add_rule(other, out))

    def __mul__(self, other):
        other = Value.of(other)
        return self._make(self.data * other.data, (self, other), "*",
                          lambda out: self._mul_rule(other, out))

    def __pow__(self, k):
        return self._make(self.data ** k, (self,), "pow", lambda out: self._pow_rule(k, out))

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + Value.of(other) * -1

    def __rsub__(self, other):
        return Value.of(other) + self * -1

    def __truediv__(self, other):
        return self * Value.of(other) ** -1

    def __rtruediv__(self, other):
        return Value.of(other) * self ** -1

    def tanh(self):
        t = math.tanh(self.data)
        return self._make(t, (self,), "tanh", lambda out: self._unary_rule(1 - t ** 2, out))

    def exp(self):
        e = math.exp(self.data)
        return self._make(e, (self,), "exp", lambda out: self._unary_rule(e, out))

    def relu(self):
        mask = 1.0 if self.data > 0 else 0.0
        return self._make(self.data * mask, (self,), "relu",
                          lambda out: self._unary_rule(mask, out))

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if id(node) in seen:
                return
            seen.add(id(node))
            for parent in node._prev:
                visit(parent)
            order.append(node)

        visit(self)
        self.grad = 1
        for node in reversed(order):
            node._backward()
