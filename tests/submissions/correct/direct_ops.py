"""Every op with its own closure, children in a list, Kahn's algorithm for backward()."""
import math
from collections import deque


class Value:
    __slots__ = ("data", "grad", "_children", "_op", "_backward")

    def __init__(self, data, children=(), op=""):
        self.data = data
        self.grad = 0
        self._children = list(children)
        self._op = op
        self._backward = lambda: None

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = self._lift(other)
        out = Value(self.data + other.data, [self, other], "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        other = self._lift(other)
        out = Value(self.data - other.data, [self, other], "-")

        def _backward():
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __rsub__(self, other):
        return self._lift(other) - self

    def __mul__(self, other):
        other = self._lift(other)
        out = Value(self.data * other.data, [self, other], "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        other = self._lift(other)
        out = Value(self.data / other.data, [self, other], "/")

        def _backward():
            self.grad += out.grad / other.data
            other.grad += -self.data / other.data**2 * out.grad

        out._backward = _backward
        return out

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __neg__(self):
        out = Value(-self.data, [self], "neg")

        def _backward():
            self.grad -= out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        out = Value(self.data**k, [self], f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(0.0, self.data), [self], "relu")

        def _backward():
            if self.data > 0:
                self.grad += out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), [self], "tanh")

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), [self], "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), [self], "log")

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def sigmoid(self):
        s = 1 / (1 + math.exp(-self.data))
        out = Value(s, [self], "sigmoid")

        def _backward():
            self.grad += s * (1 - s) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        # Kahn's algorithm: count how many parents each node has, release a node when all
        # of its parents have passed their gradient down.
        parents = {}
        seen = {id(self)}
        queue = deque([self])
        while queue:
            node = queue.popleft()
            for child in node._children:
                parents[id(child)] = parents.get(id(child), 0) + 1
                if id(child) not in seen:
                    seen.add(id(child))
                    queue.append(child)
        self.grad = 1
        ready = deque([self])
        while ready:
            node = ready.popleft()
            node._backward()
            for child in node._children:
                parents[id(child)] -= 1
                if parents[id(child)] == 0:
                    ready.append(child)
