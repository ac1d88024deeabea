"""The reference autograd engine: micrograd's `Value`, with stricter hygiene.

It keeps micrograd's shape so the lecture maps onto it line by line: one class, one `_backward`
closure per op that *accumulates* into its inputs' `grad`, and derived ops (`-`, `/`, `__r*__`)
built from the primitives with a one-word comment. What changes, and why:

- state is float-only (`grad = 0.0`, a seed of `1.0`), so no op ever hands back an int;
- `_prev` is a tuple, not a set: a set of identity-hashed nodes makes the order of `+=` (and so
  the last bit of every gradient) change from one process to the next;
- `backward()` sorts the graph with an explicit stack, so a 100,000-node chain works where the
  recursive sort dies near Python's recursion limit of 1000;
- each `_backward` closure receives `out.grad` as its argument instead of capturing `out`:
  otherwise every node refers to itself through its own closure, and each dropped graph waits
  for Python's cycle collector (measured as most of a training step's time, see
  docs/performance.md); without the cycle, reference counting frees it at once;
- bad inputs raise `TypeError` / `ValueError` with a sentence, instead of an `assert` or a
  silent complex number; relu'(0) is stated to be 0.

The lecture's own form of the class (closures that capture `out` and take no argument, a
`(node, done)` stack in `backward()`) is the solution of `solutions/backprop/backprop.ipynb`,
because students follow the lecture video line by line. Its skeleton (forward lines,
`__init__`, `backward()`) is a template, but each op's math in it is this file's, lifted by
`graders/course/reference.py`: a primitive's `_backward(grad)` body with `grad` read as
`out.grad` (and the local `out` is made from, `e` in `exp`, as `out.data` where the lecture's
forward does not name it), a derived op's body with `_checked(x, op)` read as `x`. So keep each
op one method, its backward a `_backward` closure inside it, written as the lecture would
write it with `grad` for `out.grad` (relu's `(r > 0) * grad`, `(-self) + other`): anything
else in a body reaches the notebook as it is (tanh's `1.0 - t * t`, correctly rounded, where
the lecture's `t ** 2` goes through libm's pow). Both forms pass the same grader on every op
(tests/test_grader.py, tests/test_course.py), and tests/test_lecture_form.py checks that the
lifted class computes what this one does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Number = int | float


def _noop(grad: float) -> None:
    """Backward of a leaf: nothing flows further. Shared, so leaves cost no closure."""


class Value:
    """Stores a single scalar value and its gradient."""

    __slots__ = ("_backward", "_op", "_prev", "data", "grad", "label")

    def __init__(self, data: Number, _children: tuple[Value, ...] = (), _op: str = "",
                 label: str = "") -> None:
        if type(data) is not float:  # fast path: every op below already produces a float
            data = _to_float(data, "Value(...)")
        self.data: float = data
        self.grad: float = 0.0
        # internal variables used for autograd graph construction
        self._backward: Callable[[float], None] = _noop
        self._prev: tuple[Value, ...] = _children if type(_children) is tuple else tuple(_children)
        self._op = _op  # the op that produced this node, for graphviz / debugging / etc
        self.label = label

    # ---- primitives: each one carries real calculus -------------------------------------

    def __add__(self, other: Value | Number) -> Value:
        r"""$\partial(a+b)/\partial a = 1$, $\partial(a+b)/\partial b = 1$."""
        other = other if isinstance(other, Value) else _wrap(other, "+")
        out = Value(self.data + other.data, (self, other), "+")

        def _backward(grad: float) -> None:
            self.grad += grad
            other.grad += grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        r"""$\partial(ab)/\partial a = b$, $\partial(ab)/\partial b = a$."""
        other = other if isinstance(other, Value) else _wrap(other, "*")
        out = Value(self.data * other.data, (self, other), "*")

        def _backward(grad: float) -> None:
            self.grad += other.data * grad
            other.grad += self.data * grad

        out._backward = _backward
        return out

    def __pow__(self, other: Number) -> Value:
        r"""$\frac{d}{dx} x^n = n x^{n-1}$ for a constant exponent $n$ (int or float).

        The exponent must be a plain number: a `Value` exponent would need
        $\partial x^y / \partial y = x^y \ln x$, which this op does not track.
        A negative base with a fractional exponent has no real result, so it raises
        `ValueError` instead of Python's silent complex number.
        """
        if isinstance(other, Value):
            raise TypeError(
                "Value ** Value is not supported: the exponent must be a plain int or float "
                "constant (for a variable exponent write (y * x.log()).exp())"
            )
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            raise TypeError(
                f"Value ** {type(other).__name__} is not supported: the exponent must be a "
                f"plain int or float, got {other!r}"
            )
        if self.data < 0 and not float(other).is_integer():
            raise ValueError(
                f"Value({self.data}) ** {other}: a negative base with a fractional exponent "
                "has no real result"
            )
        out = Value(float(self.data**other), (self,), f"**{other}")

        def _backward(grad: float) -> None:
            self.grad += other * self.data ** (other - 1) * grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        r"""$\mathrm{relu}'(x) = 1$ if $x > 0$ else $0$; by convention relu'(0) = 0."""
        r = self.data if self.data > 0 else 0.0
        out = Value(r, (self,), "ReLU")

        def _backward(grad: float) -> None:
            self.grad += (r > 0) * grad

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        r"""$\tanh'(x) = 1 - \tanh^2(x)$. Uses `math.tanh`, which saturates instead of
        overflowing for large $|x|$ (the lecture's exp formula fails at $x \ge 355$)."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward(grad: float) -> None:
            self.grad += (1.0 - t * t) * grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        r"""$\frac{d}{dx} e^x = e^x$, so the backward reuses the forward result."""
        e = math.exp(self.data)
        out = Value(e, (self,), "exp")

        def _backward(grad: float) -> None:
            self.grad += e * grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        r"""$\frac{d}{dx} \ln x = 1/x$, defined for $x > 0$ only."""
        if self.data <= 0:
            raise ValueError(f"log(Value({self.data})): log is only defined for positive numbers")
        out = Value(math.log(self.data), (self,), "log")

        def _backward(grad: float) -> None:
            self.grad += grad / self.data

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        r"""$\sigma'(x) = \sigma(x)\,(1 - \sigma(x))$, with $\sigma(x) = 1 / (1 + e^{-x})$.

        The forward picks the form whose `exp` cannot overflow for either sign of $x$.
        """
        x = self.data
        if x >= 0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            z = math.exp(x)
            s = z / (1.0 + z)
        out = Value(s, (self,), "sigmoid")

        def _backward(grad: float) -> None:
            self.grad += s * (1.0 - s) * grad

        out._backward = _backward
        return out

    # ---- backpropagation -----------------------------------------------------------------

    def backward(self) -> None:
        """Set this node's grad to 1.0 and apply the chain rule to every node below it.

        Grads accumulate: call it on a freshly built graph (or zero the grads first), since a
        second call adds to what the first left behind, interior nodes included.
        """
        # topological order all of the children in the graph, with an explicit stack instead
        # of recursion: a node is pushed back under a `None` marker, above it go its inputs;
        # popping the marker means all those inputs are in `topo`, so the node goes in next
        topo: list[Value] = []
        visited: set[Value] = set()
        stack: list[Value | None] = [self]
        while stack:
            v = stack.pop()
            if v is None:
                topo.append(stack.pop())
            elif v not in visited:
                visited.add(v)
                stack.append(v)
                stack.append(None)
                stack.extend(v._prev)

        # go one variable at a time and apply the chain rule to get its gradient
        self.grad = 1.0
        for v in reversed(topo):
            v._backward(v.grad)

    # ---- derived ops: built from the primitives above ------------------------------------

    def __neg__(self) -> Value:  # -self
        return self * -1

    def __radd__(self, other: Number) -> Value:  # other + self
        return self + other

    def __sub__(self, other: Value | Number) -> Value:  # self - other
        return self + (-_checked(other, "-"))

    def __rsub__(self, other: Number) -> Value:  # other - self
        return (-self) + _checked(other, "-")

    def __rmul__(self, other: Number) -> Value:  # other * self
        return self * other

    def __truediv__(self, other: Value | Number) -> Value:  # self / other
        return self * _checked(other, "/") ** -1

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        return self ** -1 * _checked(other, "/")

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


def _to_float(x: object, where: str) -> float:
    """Accept int and float (numpy scalars included) but not bool or str: `True + Value(1)`
    is almost always a bug, and `float("3")` would hide one."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{where} needs an int, float or Value, got {type(x).__name__} {x!r}")
    return float(x)


def _checked(other: object, op: str) -> Value | Number:
    """Pass a Value or plain number through; refuse anything else before it reaches Python's
    own operators (`-"a"` would blame str, not this expression)."""
    if isinstance(other, Value):
        return other
    _to_float(other, f"Value {op} ...")
    return other


def _wrap(other: object, op: str) -> Value:
    """Turn a plain number operand into a leaf `Value`; refuse anything else by name."""
    return Value(_to_float(other, f"Value {op} ..."))
