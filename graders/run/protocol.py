"""The wire protocol between the parent and the sandboxed child, as one table of data.

The child (`harness.py`, stdlib only) cannot import this module, so this is the description
both sides are tested against: `tests/test_protocol.py` checks that the planner's payloads carry
exactly the keys the harness reads, and that the child's records carry only the keys listed
here. `python -m graders.docgen` writes the table into docs/architecture.md.

Transport: the child gets `program.json` as a file; check groups arrive as JSON lines on one
pipe (PLAN_FD) and records leave as JSON lines on another (RESULT_FD), each line capped at 1 MiB
and parsed strictly (no NaN). stdout and stderr are only ever shown to people, never parsed.
"""

from __future__ import annotations

# (direction, message, key, meaning). "check:KIND" rows are one check of a group, by kind.
MESSAGES: tuple[tuple[str, str, str, str], ...] = (
    ("file", "program.json", "cells", "[{index, source}]: the code cells, in notebook order"),
    ("file", "program.json", "methods", "method names to look for on `Value` (the table's)"),
    ("file", "program.json", "cell_seconds", "a top-level cell past this is interrupted"),
    ("file", "program.json", "skip", "[{index, line}]: cells an earlier child interrupted; only "
                                     "their top-level statements before `line` run (0: none), "
                                     "so no child waits on the same hang twice"),
    ("file", "program.json", "writable", "{path, files}: the one folder student code may "
                                         "write, and how many files"),
    ("file", "program.json", "guard", "install the audit-hook guard before the cells run"),
    ("file", "program.json", "packages", "{name: folder}: the assignment's installed packages "
                                         "(numpy) student code may import, each at its real "
                                         "folder or file, read-only"),
    ("parent → child", "group", "group", "the op key: the checks of one op, asked together"),
    ("parent → child", "group", "cases", "the checks, each as a `check:KIND` row below"),
    ("parent → child", "group", "primitives", "the `check:op` `primitives` every case of the "
                                              "group shares, sent once for all of them"),
    ("parent → child", "group", "patch", "{method, source}: for this group only, `Value`'s "
                                         "method is this edit of the submission's own "
                                         "(judge/edits.py: is this the line that is wrong?)"),
    ("parent → child", "quit", "", "no more groups: exit"),
    ("parent → child", "check:*", "id", "check id, echoed in the answer"),
    ("parent → child", "check:*", "kind", "`op`, `backward`, `reference` or `program`: the "
                                          "runner"),
    ("parent → child", "check:op", "build", "the op as an expression over the leaves (`x * y`)"),
    ("parent → child", "check:op", "leaves", "{symbol: number}: inputs made `Value`s"),
    ("parent → child", "check:op", "consts", "{symbol: number}: plain-number operands"),
    ("parent → child", "check:op", "pre", "{symbol: number}: each input's grad before"),
    ("parent → child", "check:op", "upstream", "the output's grad (out.grad) to propagate"),
    ("parent → child", "check:op", "fd", "{symbol: step}: also evaluate forward at x ± step"),
    ("parent → child", "check:op", "own_backward", "also build the op afresh and call the "
                                                  "student's own backward() on it"),
    ("parent → child", "check:op", "primitives", "{op: {method, symbols, inputs, value, "
                                                "grads}}: the grader's whole ops standing in "
                                                "for these methods, present or not (the "
                                                "checked op's own code, checked alone)"),
    ("parent → child", "check:backward", "graphs", "graph specs (judge/graphs.py) to build, "
                                                  "each with the grader's closures"),
    ("parent → child", "check:backward", "repeat", "zero the first graph's grads, run again"),
    ("parent → child", "check:reference", "a", "the lecture program's input a"),
    ("parent → child", "check:reference", "b", "the lecture program's input b"),
    ("parent → child", "check:reference", "program", "the lecture's lines, run with `Value`"),
    ("parent → child", "check:program", "program", "grader lines run beside the notebook's "
                                                   "names (a course task, judge/programs.py)"),
    ("parent → child", "check:program", "inputs", "{name: data} the lines and reports use"),
    ("parent → child", "check:program", "report", "{name: expression}: what to report"),
    ("child → parent", "hello", "python", "sys.version, before any student code"),
    ("child → parent", "cell", "index", "this top-level cell starts now (for cell timeouts)"),
    ("child → parent", "loaded", "cells", "[{index, status, line, error, function}] per "
                                         "cell; status `ok`, `error`, `syntax` or "
                                         "`interrupted` (`line`: the top-level line it was "
                                         "stopped at; `function`: the submission's innermost "
                                         "function then running)"),
    ("child → parent", "loaded", "value", "what `Value` is: the `loaded.value` rows"),
    ("child → parent", "loaded.value", "found", "a name `Value` exists"),
    ("child → parent", "loaded.value", "is_class", "and it is a class"),
    ("child → parent", "loaded.value", "kind", "its type's name when it is not a class"),
    ("child → parent", "loaded.value", "module",
     "the class's `__module__`, or the module of a failed import bound to `Value`"),
    ("child → parent", "loaded.value", "own", "its methods were defined in the submission's cells"),
    ("child → parent", "loaded.value", "cell", "the first cell that defines its methods"),
    ("child → parent", "loaded.value", "files", "where its methods' code comes from (3 at most)"),
    ("child → parent", "loaded.value", "methods", "which of program.json's `methods` it has"),
    ("child → parent", "loaded.value", "similar", "when `Value` is missing: classes named like "
                                                 "it in another case (`value`)"),
    ("child → parent", "loaded", "stand_ins", "display-only modules imported as stand-ins"),
    ("child → parent", "answer:*", "id", "the check answered"),
    ("child → parent", "answer:*", "error", "`Type: message` when the student's code raised "
                                          "(an op's answer still carries `out` when only its "
                                          "closures raised)"),
    ("child → parent", "answer:*", "cell", "the student's cell where it raised"),
    ("child → parent", "answer:*", "line", "the line in that cell"),
    ("child → parent", "answer:op", "out", "the output's data"),
    ("child → parent", "answer:op", "grads", "{symbol: grad} after the closures ran"),
    ("child → parent", "answer:op", "ops", "labels (`_op`) of the nodes the build made"),
    ("child → parent", "answer:op", "fd", "{symbol: [f(x+h), f(x-h)]}"),
    ("child → parent", "answer:op", "stood_in", "the ops of `primitives` the check called"),
    ("child → parent", "answer:op", "own_backward", "what the student's backward() raised on "
                                                   "the op's node (absent: it ran)"),
    ("child → parent", "answer:op", "moved", "[symbol]: inputs whose `_backward` the forward "
                                         "replaced while the output kept a new node's"),
    ("child → parent", "answer:op", "numeric", "{near, complex, calls, via, step}: while the "
                                           "op's closures ran, calls of a function at a point "
                                           "near (not at) an input's value, or at a complex "
                                           "one; `step`: the smallest |point - x|; absent "
                                           "when none"),
    ("child → parent", "answer:op", "flags", "flag attributes (`requires_grad`, ...) that are "
                                         "False on a plain `Value(x)`"),
    ("child → parent", "answer:backward", "graphs", "per graph, {node: grad} of reported nodes"),
    ("child → parent", "answer:backward", "flags", "as for answer:op"),
    ("child → parent", "answer:reference", "g", "g.data"),
    ("child → parent", "answer:reference", "a.grad", "a.grad after g.backward()"),
    ("child → parent", "answer:reference", "b.grad", "b.grad after g.backward()"),
    ("child → parent", "answer:program", "values", "{name: number or list of numbers}"),
    ("child → parent", "done", "group, cpu", "every check of this group was answered; the "
     "child's CPU seconds so far (a claim, read only by benchmarks)"),
)


def keys(message: str) -> set[str]:
    """The keys a message carries (a `check:KIND` or `answer:KIND` includes the `*` rows)."""
    family = message.split(":")[0]
    return {key for _, name, key, _ in MESSAGES
            if key and (name == message or name == f"{family}:*")}


def markdown() -> str:
    lines = ["| direction | message | key | meaning |", "| --- | --- | --- | --- |"]
    lines += [f"| {direction} | `{message}` | {f'`{key}`' if key else ''} | {meaning} |"
              for direction, message, key, meaning in MESSAGES]
    return "\n".join(lines)
