"""Write the course's nbgrader source notebooks (`solutions/`) from Python.

The notebooks are generated so that nothing in them is typed twice: task ids, titles and points
come from the op table (assignment 2) and `graders.course` (assignments 1 and 3), the lecture's
reference program and its printed numbers from the table and the oracle, the four samples from
`kit.data`. Run `python -m graders.course.authoring` after changing any of those, then
`nbgrader generate_assignment` to refresh `assignments/` (tests/test_course.py checks both).

Every answer is a function or method, so a solution region ends in `return` and is followed by
the stub's `raise NotImplementedError("not implemented: task 2.3, tanh backward")`: nbgrader
replaces the region with "# YOUR CODE HERE" (see nbgrader_config.py) and the task's own raise
is what the student meets.
"""

from __future__ import annotations

import hashlib
import sys
import textwrap
from pathlib import Path

import nbformat

from graders import course
from graders.course import Task
from graders.judge import programs as checks
from graders.spec import optable

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


# --- cells ---------------------------------------------------------------------------------


def _id(text: str, salt: str) -> str:
    return hashlib.sha1(f"{salt}\n{text}".encode()).hexdigest()[:12]


# A list put into an indented md(f"""...""") block: each line at the block's indentation, so the
# dedent leaves prose as prose (a line at column 0 would make the rest a code block).
LIST_BREAK = "\n" + " " * 8


def md(text: str) -> nbformat.NotebookNode:
    text = textwrap.dedent(text).strip()
    return nbformat.v4.new_markdown_cell(text, id=_id(text, "md"))


def code(text: str) -> nbformat.NotebookNode:
    text = textwrap.dedent(text).strip()
    return nbformat.v4.new_code_cell(text, id=_id(text, "code"))


def _meta(grade_id: str, *, solution: bool, grade: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution,
            "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def answer(grade_id: str, text: str) -> nbformat.NotebookNode:
    """A cell the student edits: holds solution regions made by `todo`."""
    cell = code(text)
    cell.metadata = _meta(grade_id, solution=True, grade=False)
    return cell


def grade_cell(item: Task, config: str | None = None) -> nbformat.NotebookNode:
    """A locked grade cell worth the task's points; the check itself is hidden. `config` is the
    assignment config beside the notebook, for a course from `gradkit course new`."""
    call = f"{item.key!r}, globals()" + (f", config={config!r}" if config else "")
    cell = code(f"""
        # Task {item.task}, {item.title}: {item.points:g} point(s), checked by hidden tests.
        ### BEGIN HIDDEN TESTS
        from graders import course
        course.grade({call})
        ### END HIDDEN TESTS
    """)
    cell.metadata = _meta(f"grade_{item.key}", solution=False, grade=True, points=item.points)
    return cell


def todo(item: Task, solution: str, what: str | None = None, *, indent: int = 0,
         returns: bool = False) -> str:
    """A solution region, then the stub's raise naming the task (see the module docstring)."""
    body = textwrap.dedent(solution).strip()
    if not returns:
        body += "\nreturn"
    message = f"not implemented: task {item.task}, {what or item.title}"
    text = f"### BEGIN SOLUTION\n{body}\n### END SOLUTION\nraise NotImplementedError({message!r})"
    return textwrap.indent(text, " " * indent).lstrip()


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": dict(KERNELSPEC),
                   "language_info": {"name": "python"}}
    return nb


def selfcheck_cell(call: str) -> nbformat.NotebookNode:
    """The one-line self-check, kept harmless where `graders` is not installed (the grader's
    sandbox runs notebooks without packages: this cell must not cost anything there)."""
    return code(f"""
        try:
            from graders import {call.split('(')[0].split('.')[0]}
        except ImportError:
            print("the self-check needs gradkit, the course's wheel: pip install "
                  "gradkit-*.whl (in a GitHub Classroom repository: "
                  "pip install .github/gradkit/gradkit-*.whl); see docs/course.md")
        else:
            {call}
    """)


# --- assignment 1: derivatives -------------------------------------------------------------


def derivatives() -> nbformat.NotebookNode:
    t = {item.key: item for item in course.tasks("derivatives")}
    slope, abc, errors = t["slope"], t["slopes_abc"], t["slope_errors"]
    a, b, c = checks.ABC_AT
    cells = [
        md(f"""
        # Assignment 1: what a derivative measures

        Before any neural network there is one question: if I nudge an input a little, how much
        does the output move, and in which direction? That ratio, for a nudge so small it
        hardly matters how small, is the derivative. In this notebook you measure it with plain
        arithmetic, no calculus rules needed.

        Tasks: **{slope.task}** ({slope.points:g} pts), **{abc.task}** ({abc.points:g} pts),
        **{errors.task}** ({errors.points:g} pts). Each task is a function; replace the
        `raise NotImplementedError(...)` line with your code. The last cell checks your work.
        """),
        code(f"""
        def f(x):
            return {checks.F_SOURCE}

        f({checks.F_AT})
        """),
        md(f"""
        ## Task {slope.task}: rise over run

        Move from `x` to `x + h` and see how far `f` moved: `f(x + h) - f(x)`. Dividing by the
        step `h` turns that into a rate, the slope of the line through the two points. As `h`
        shrinks, that line turns into the tangent, and the rate into the derivative.

        Write `slope(f, x, h)` that returns this forward-difference slope for any function `f`.
        For our `f` at `x = {checks.F_AT:g}` it should come out close to 14.
        """),
        answer("slope", f"""
        def slope(f, x, h):
            \"\"\"The forward-difference slope of f at x with step h.\"\"\"
            {todo(slope, "return (f(x + h) - f(x)) / h", "slope(f, x, h)", indent=12,
                  returns=True)}
        """),
        code(f"slope(f, {checks.F_AT}, 1e-6)"),
        grade_cell(slope),
        md(f"""
        ## Task {abc.task}: one output, three inputs

        Now `d = {checks.ABC_SOURCE}` depends on three numbers. Nudge one of them at a time,
        keep the others fixed, and you get three slopes: how sensitive `d` is to `a`, to `b`
        and to `c`. Think about the signs before you compute them: at
        `a = {a:g}, b = {b:g}, c = {c:g}`, does making `a` a little bigger raise `d` or lower it?

        Write `slopes_abc(a, b, c, h)` returning the tuple `(dd_da, dd_db, dd_dc)`.
        """),
        answer("slopes_abc", f"""
        def slopes_abc(a, b, c, h):
            \"\"\"The slopes of d = {checks.ABC_SOURCE} with respect to a, b and c.\"\"\"
            {todo(abc, '''
            d = a * b + c
            return ((a + h) * b + c - d) / h, (a * (b + h) + c - d) / h, (a * b + c + h - d) / h
            ''', "slopes_abc(a, b, c, h)", indent=12, returns=True)}
        """),
        code(f"slopes_abc({a}, {b}, {c}, 1e-4)"),
        grade_cell(abc),
        md(f"""
        ## Task {errors.task}: how small is small enough?

        Two errors pull in opposite directions. A big `h` measures the slope of a chord, not the
        tangent (the *truncation* error; for our parabola it is exactly proportional to `h`).
        A tiny `h` makes `f(x + h) - f(x)` the difference of two nearly equal floats, and most
        of its digits are rounding noise (the *rounding* error, which grows as `h` shrinks).

        The exact slope of `f` at 3 is 14 (you can get it by hand: the derivative of
        {checks.F_SOURCE} is 6x - 4). Write `slope_errors(hs)` that returns, for each step in
        `hs`, how far `slope(f, 3.0, h)` is from 14. Then look at the table: where is the error
        smallest, and why not at the smallest `h`?
        """),
        answer("slope_errors", f"""
        def slope_errors(hs):
            \"\"\"|slope(f, 3, h) - 14| for every h in hs.\"\"\"
            {todo(errors, "return [abs(slope(f, 3.0, h) - 14.0) for h in hs]",
                  "slope_errors(hs)", indent=12, returns=True)}
        """),
        code("""
        hs = [10.0 ** -k for k in range(1, 16)]
        for h, error in zip(hs, slope_errors(hs)):
            print(f"h = {h:8.0e}   error = {error:.3e}")
        """),
        grade_cell(errors),
        md("## Check your work\n\nThis runs the same checks as the grader and lists each task."),
        selfcheck_cell('course.selfcheck("derivatives", globals())'),
    ]
    return notebook(cells)


# --- assignment 2: backprop ----------------------------------------------------------------

_BACKWARD = {
    "add": """
        self.grad += out.grad
        other.grad += out.grad""",
    "mul": """
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad""",
    "pow": "self.grad += other * self.data ** (other - 1) * out.grad",
    "relu": "self.grad += (out.data > 0) * out.grad",
    "tanh": "self.grad += (1 - t ** 2) * out.grad",
    "exp": "self.grad += out.data * out.grad",
}
# Ops the lecture builds from others: (what it computes, the solution's body). The method each
# one defines is the table's (`OpSpec.method`).
_DERIVED = {
    "neg": ("-self", "return self * -1"),
    "sub": ("self - other", "return self + (-other)"),
    "truediv": ("self / other", "return self * other ** -1"),
    "radd": ("other + self", "return self + other"),
    "rsub": ("other - self", "return (-self) + other"),
    "rmul": ("other * self", "return self * other"),
    "rtruediv": ("other / self", "return self ** -1 * other"),
}


def _value_class(declared: tuple[optable.OpSpec, ...] = (), solutions: dict | None = None) -> str:
    """The class students complete; `declared` ops (a config's) are added from their sympy
    formulas, each as its own method or as a branch of the base method it shares."""
    def back(key: str) -> str:
        return todo(_task(key), _BACKWARD[key], f"{key} backward", indent=12)

    def derived(key: str) -> str:
        comment, body = _DERIVED[key]
        spec = optable.op(key)
        signature = f"{spec.method}(self{', other' if 'other' in comment else ''})"
        return (f"    def {signature}:  # {comment}\n        "
                + todo(_task(key), body, f"{key} ({comment})", indent=8, returns=True))

    backward_body = """
        topo, visited = [], set()
        stack = [(self, False)]
        while stack:  # depth-first, with a stack instead of recursion (deep graphs)
            node, children_done = stack.pop()
            if children_done:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
    """
    derived_methods = "\n\n".join(derived(key) for key in _DERIVED)
    text = f'''import math


class Value:
    """A number that remembers how it was computed, so gradients can flow back through it."""

    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None  # a leaf passes nothing further back
        self._prev = tuple(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"Value(data={{self.data}}, grad={{self.grad}})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            {back("add")}

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            {back("mul")}

        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only int or float exponents"
        out = Value(self.data ** other, (self,), f"**{{other}}")

        def _backward():
            {back("pow")}

        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "ReLU")

        def _backward():
            {back("relu")}

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            {back("tanh")}

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            {back("exp")}

        out._backward = _backward
        return out

{derived_methods}

    def backward(self):
        """Seed this node's grad with 1 and run every _backward, each after all its users."""
        {todo(_task("backward"), backward_body, "backward()", indent=8)}
'''
    return _with_declared(text, declared, solutions or {})


def _with_declared(text: str, declared: tuple[optable.OpSpec, ...], solutions: dict) -> str:
    from graders.course import methods

    for spec in declared:
        item = Task("", spec.task, spec.key, spec.title, spec.points)
        _, solution = methods.forward_and_solution(spec, solutions.get(spec.key, ""))
        head = f"    def {spec.method}(self, other):\n"
        if head in text:  # the base has this method: the declared op is a branch of it
            stub = todo(item, solution, f"{spec.key} backward", indent=16)
            text = text.replace(head, head + methods.branch(spec, stub), 1)
        else:
            stub = todo(item, solution, f"{spec.key} backward", indent=12)
            text = text.replace("    def backward(self):",
                                methods.method(spec, stub) + "\n    def backward(self):", 1)
    return text


def _task(key: str) -> Task:
    return course.task(key)


def backprop(assignment: optable.Assignment = optable.BACKPROP,
             config: str | None = None) -> nbformat.NotebookNode:
    """Assignment 2, or an assignment built on it from a config (`gradkit course new`): the
    config's declared ops join the class, and its grade and self-check cells read `config`
    (the file's name beside the notebook)."""
    from graders.judge import oracle
    items = course.tasks_of(assignment)
    declared = tuple(spec for spec in assignment.declared if spec.key in assignment.ops)
    reference = oracle.load().reference
    printed = [f"{float(reference.exact_fraction(name)):.4f}" for name in optable.REFERENCE_PRINTED]
    shown = {name: "g.data" if name == "g" else name for name in optable.REFERENCE_PRINTED}
    first, *after = (f"print(f'{{{shown[name]}:.4f}}')" for name in optable.REFERENCE_PRINTED)
    example = "\n".join([
        *(f"{name} = Value({value})" for name, value in optable.REFERENCE_INPUTS.items()),
        *optable.REFERENCE_PROGRAM, first, "g.backward()", *after])
    by_task: dict[str, list[Task]] = {}
    for item in items:
        by_task.setdefault(item.task, []).append(item)
    task_list = LIST_BREAK.join(
        f"- **{number}**: " + "; ".join(f"{i.title} ({i.points:g} pt)" for i in group)
        for number, group in by_task.items())
    cells = [
        md(f"""
        # Assignment 2: backpropagation, one op at a time

        A neural network is a big expression, and training it needs the derivative of one
        number (the loss) with respect to every input of that expression. Backpropagation gets
        all of them in one backward sweep, by the chain rule, if every operation knows one
        small thing: how to pass the gradient of its output back to its inputs.

        Below is a `Value` class whose *forward* computations are done. Your job is every
        `_backward` (and the ops built from others, and `backward()` itself):

        {task_list}

        Each stub raises `NotImplementedError` naming its task. Run the self-check cell after
        the class at any time: it lists each op as passed, wrong or not implemented.
        """),
        md("""
        ## The rules you need

        Each op made `out` from its inputs. When `_backward` runs, `out.grad` already holds
        dL/d(out), the gradient of the final result with respect to `out`. The chain rule
        says each input gets **the local derivative times `out.grad`**:

        - `a + b`: d(out)/da = 1, so `a` gets `out.grad` as it is (addition hands the gradient
          on unchanged); the same for `b`.
        - `a * b`: d(out)/da = b, so `a` gets `b.data * out.grad`, and `b` gets
          `a.data * out.grad`.
        - `a ** k` (k a plain number): k·a^(k-1). `tanh(a)`: 1 - tanh(a)², and you already have
          tanh(a): it is the output `t`. `exp(a)`: exp(a) itself, the output again.
          `relu(a)`: 1 where the output is positive, else 0.

        And one rule that catches everyone: **accumulate, never assign**. Write
        `self.grad += ...`, not `self.grad = ...`. A value used twice (`a + a`, or a weight
        that feeds two neurons) receives a gradient along each use, and the contributions add
        up (the multivariable chain rule). With `=` the second use silently erases the first.

        Subtraction, division and the "reflected" ops (`2 * a` calls `a.__rmul__(2)`) need no
        calculus of their own: write them with the ops above and their gradients come free.
        """),
        answer("value_class", _value_class(declared)),
        md("Run this after every change to the class: same checks as the grader, in your "
           "kernel."),
        selfcheck_cell(f"selfcheck(Value, config={config!r})" if config else "selfcheck(Value)"),
        md("""
        ## Looking at a graph

        The lecture's first expression: `L = (a*b + c) * f`. Run `L.backward()` and check the
        gradients against your own reasoning: dL/dd = f, dL/df = d, and `a` gets
        f·b through the product in the middle. The picture (if graphviz is installed) shows
        each node's data and grad.
        """),
        code("""
        try:
            from kit.viz import draw_dot
        except ImportError:  # the picture is optional; nothing else needs it
            draw_dot = None

        a = Value(2.0, label="a")
        b = Value(-3.0, label="b")
        c = Value(10.0, label="c")
        f = Value(-2.0, label="f")
        e = a * b; e.label = "e"
        d = e + c; d.label = "d"
        L = d * f; L.label = "L"
        L.backward()
        print("a.grad", a.grad, " b.grad", b.grad, " c.grad", c.grad, " f.grad", f.grad)
        draw_dot(L) if draw_dot else None
        """),
        md("""
        ## Use a node twice

        `b = a + a` is `2a`, so db/da = 2. If your `__add__` assigns instead of accumulating,
        you will see 1 here: the second edge overwrote the first.
        """),
        code("""
        a = Value(3.0)
        b = a + a
        b.backward()
        print("a.grad =", a.grad, "(should be 2.0)")
        """),
        md("""
        ## A neuron

        Two inputs, two weights, a bias, squashed by tanh: the building block of assignment 3.
        The bias below is chosen so the output is exactly 1/√2, and then
        do/dn = 1 - o² = 0.5.
        """),
        code("""
        x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
        w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
        bias = Value(6.8813735870195432, label="b")
        n = x1 * w1 + x2 * w2 + bias; n.label = "n"
        o = n.tanh(); o.label = "o"
        o.backward()
        print(f"o = {o.data:.4f}  n.grad = {n.grad:.4f}  w1.grad = {w1.grad:.4f}  "
              f"w2.grad = {w2.grad:.4f}")
        draw_dot(o) if draw_dot else None
        """),
        md(f"""
        ## Task {_task("reference_example").task}: the reference example

        This is the example from micrograd's README, using every op. With a correct class it
        prints **{printed[0]}**, then **{printed[1]}** and **{printed[2]}** (g, dg/da and
        dg/db). The grader also runs it at other inputs, against sympy.
        """),
        code(example),
        md("## Grading\n\nOne cell per op, worth the points listed at the top. They are "
           "checked by hidden tests when your notebook is graded."),
        *[grade_cell(item, config) for item in items],
    ]
    return notebook(cells)


# --- assignment 3: mlp ---------------------------------------------------------------------


def mlp() -> nbformat.NotebookNode:
    t = {item.key: item for item in course.tasks("mlp")}
    neuron, params, grad, training, zero = (t[k] for k in
                                            ("neuron", "parameters", "loss_gradient",
                                             "training", "zero_grad"))
    count = checks.expected_count(3, (4, 4, 1))
    summary = LIST_BREAK.join(f"- **{i.task}**: {i.title} ({i.points:g} pts)"
                              for i in t.values())
    cells = [
        md(f"""
        # Assignment 3: a small neural network, trained

        With a `Value` that backpropagates, a neural network is a few classes of plain Python:
        a neuron is a weighted sum squashed by tanh, a layer is several neurons reading the
        same inputs, an MLP is layers in a row. Training is a loop: predict, measure the loss,
        backpropagate, nudge every parameter against its gradient.

        This notebook uses the kit's reference `Value` (yours from assignment 2 works too).

        {summary}
        """),
        code("""
        import random

        from kit.data import four_samples
        from kit.engine import Value
        """),
        md(f"""
        ## Task {neuron.task}: a neuron

        A neuron with `nin` inputs owns `nin` weights and one bias, all `Value`s started at
        random in [-1, 1]. Called on inputs `x`, it returns tanh(w·x + b). Its parameters are
        its weights followed by its bias, **in that order** (the grader relies on it).
        """),
        answer("neuron", f"""
        class Neuron:
            def __init__(self, nin):
                self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
                self.b = Value(random.uniform(-1, 1))

            def __call__(self, x):
                {todo(neuron, '''
                act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
                return act.tanh()''', "Neuron.__call__", indent=16, returns=True)}

            def parameters(self):
                {todo(neuron, "return self.w + [self.b]", "Neuron.parameters", indent=16,
                      returns=True)}
        """),
        code("Neuron(2)([2.0, 3.0])"),
        grade_cell(neuron),
        md(f"""
        ## Task {params.task}: layers, the network, and its parameters

        A `Layer(nin, nout)` is `nout` neurons that all see the same `nin` inputs; calling it
        returns the list of their outputs (or the single output, when `nout` is 1: handy for
        the last layer). `MLP(nin, nouts)` chains layers: `MLP(3, [4, 4, 1])` is 3 inputs, two
        hidden layers of 4, one output. `parameters()` collects every weight and bias, layer by
        layer. Count them by hand first: each neuron has one weight per input plus a bias. For
        `MLP(3, [4, 4, 1])` you should get {count}.
        """),
        answer("layers", f"""
        class Layer:
            def __init__(self, nin, nout):
                self.neurons = [Neuron(nin) for _ in range(nout)]

            def __call__(self, x):
                {todo(params, '''
                outs = [n(x) for n in self.neurons]
                return outs[0] if len(outs) == 1 else outs''', "Layer.__call__", indent=16,
                      returns=True)}

            def parameters(self):
                {todo(params, "return [p for n in self.neurons for p in n.parameters()]",
                      "Layer.parameters", indent=16, returns=True)}


        class MLP:
            def __init__(self, nin, nouts):
                sizes = [nin] + list(nouts)
                self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

            def __call__(self, x):
                {todo(params, '''
                for layer in self.layers:
                    x = layer(x)
                return x''', "MLP.__call__", indent=16, returns=True)}

            def parameters(self):
                {todo(params, "return [p for layer in self.layers for p in layer.parameters()]",
                      "MLP.parameters", indent=16, returns=True)}
        """),
        code("""
        model = MLP(3, [4, 4, 1])
        len(model.parameters())
        """),
        grade_cell(params),
        md(f"""
        ## Task {grad.task}: one number for how wrong we are

        The lecture's four samples: each `x` has three features and a target of +1 or -1.
        The loss is the sum over samples of (prediction - target)², zero only when every
        prediction hits its target. Write `loss(ypred, ys)`. Because it is built from `Value`
        ops, `loss(...).backward()` gives every parameter its gradient; the grader compares
        those gradients with sympy's on a small network.
        """),
        answer("loss", f"""
        def loss(ypred, ys):
            \"\"\"Sum of squared errors between predictions (Values) and targets (numbers).\"\"\"
            {todo(grad, "return sum((yp - y) ** 2 for yp, y in zip(ypred, ys))",
                  "loss(ypred, ys)", indent=12, returns=True)}
        """),
        code("""
        xs, ys = four_samples()
        ypred = [model(x) for x in xs]
        loss(ypred, ys)
        """),
        grade_cell(grad),
        md(f"""
        ## Tasks {training.task} and {zero.task}: training, and the bug in the lecture

        One step: predict every sample, compute the loss, **zero every parameter's grad**, call
        `backward()`, then move each parameter a little against its gradient,
        `p.data -= lr * p.grad`. Write `train(model, xs, ys, steps, lr)` that does `steps`
        steps and returns the list of losses (plain numbers, `loss.data`), one per step.

        Why zero the grads? `backward()` *adds* into `.grad` (that is what made `a + a`
        right). Forget to reset, and step 2 moves by the gradients of steps 1 and 2 together,
        step 3 by three of them: the steps grow by themselves. The lecture's first training
        loop had exactly this bug, and it seemed to train *faster*, which is what makes it
        hard to spot. Task {zero.task} checks that your loop does not have it.
        """),
        answer("train", f"""
        def train(model, xs, ys, steps, lr):
            \"\"\"Gradient descent on the squared-error loss; returns the loss of every step.\"\"\"
            {todo(training, '''
            losses = []
            for _ in range(steps):
                out = loss([model(x) for x in xs], ys)
                for p in model.parameters():
                    p.grad = 0.0
                out.backward()
                for p in model.parameters():
                    p.data -= lr * p.grad
                losses.append(out.data)
            return losses''', f"train(model, xs, ys, steps, lr); zeroing the grads in it is task "
                  f"{zero.task}", indent=12, returns=True)}
        """),
        code("""
        random.seed(1337)
        model = MLP(3, [4, 4, 1])
        losses = train(model, xs, ys, 40, 0.05)
        print(f"loss: {losses[0]:.4f} -> {losses[-1]:.4f}")
        [round(model(x).data, 3) for x in xs]
        """),
        grade_cell(training),
        grade_cell(zero),
        md("## Check your work\n\nThe same checks as the grader, task by task."),
        selfcheck_cell('course.selfcheck("mlp", globals())'),
    ]
    return notebook(cells)


BUILDERS = {"derivatives": derivatives, "backprop": backprop, "mlp": mlp}


def path_for(assignment: str, root: Path = SOLUTIONS) -> Path:
    """nbgrader's layout: <source dir>/<assignment>/<assignment>.ipynb."""
    return root / assignment / f"{assignment}.ipynb"


def render(assignment: str) -> str:
    """The source notebook's exact file text (what `write` puts on disk)."""
    nb = BUILDERS[assignment]()
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def write(root: Path = SOLUTIONS) -> list[Path]:
    written = []
    for assignment in course.ASSIGNMENTS:
        path = path_for(assignment, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(assignment), encoding="utf-8")
        written.append(path)
    return written


def main() -> int:
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
