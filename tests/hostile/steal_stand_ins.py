# ruff: noqa
# hostile: keeps the grader's stand-in ops (own-code credit puts correct versions of other ops
# on the class while an op is checked) and their rules (found through frames), then answers
# tanh's checks with the grader's tanh; the planner asks every op before any rule for it exists
# where: end
# modes: strong weak container nowall user
# shows: harvest ran
import sys as _sys

_KEPT = {}


def _harvest():
    for name, method in list(Value.__dict__.items()):
        if "_reference_method" in getattr(method, "__qualname__", "") and name not in _KEPT:
            _KEPT[name] = method
    frame = _sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, dict) and isinstance(value.get("primitives"), dict):
                for key, rule in value["primitives"].items():
                    _KEPT.setdefault("rule:" + key, rule)
        frame = frame.f_back


_own_add, _own_mul, _own_tanh = Value.__add__, Value.__mul__, Value.tanh


def _add(self, other):
    _harvest()
    return _own_add(self, other)


def _mul(self, other):
    _harvest()
    return _own_mul(self, other)


def _tanh(self):
    _harvest()
    if "tanh" in _KEPT:
        return _KEPT["tanh"](self)
    rule = _KEPT.get("rule:tanh")
    out = _own_tanh(self)
    if rule is not None:
        import math as _math

        class _M:
            def __getattr__(self, name):
                return float if name == "mpf" else getattr(_math, name)

        def _backward():
            self.grad += eval(rule["grads"]["x"], {"mpmath": _M()}, {"x": self.data}) * out.grad
        out._backward = _backward
    return out


Value.__add__, Value.__mul__, Value.tanh = _add, _mul, _tanh
print("harvest ran")
