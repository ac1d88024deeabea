"""Write the course's nbgrader source notebooks (`solutions/`) from templates.

The notebooks are generated so that nothing in them is typed twice. Their prose and cells are
Jinja templates, `graders/course/templates/notebooks/<assignment>.ipynb.j2`; task ids, titles
and points come from the op table (assignment 2) and `graders.course` (assignments 1 and 3),
the lecture's reference program and its printed numbers from the table and the oracle, the four
samples from `kit.data`, and assignment 2's `Value` class, each op's solution included, from
the reference engine `kit/engine.py` (graders/course/reference.py). Run
`python -m graders.course.authoring` after changing any of those, then
`nbgrader generate_assignment --no-db --force '*'` to refresh `assignments/`
(tests/test_course.py checks both).

Every answer is a function or method, so a solution region ends in `return` and is followed by
the stub's `raise NotImplementedError("not implemented: task 2.3, tanh backward")`: nbgrader
replaces the region with "# YOUR CODE HERE" (see nbgrader_config.py) and the task's own raise
is what the student meets.
"""

from __future__ import annotations

import hashlib
import re
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import nbformat

from graders import course
from graders.course import Task, reference
from graders.judge import programs as checks
from graders.spec import optable

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
TEMPLATES = Path(__file__).resolve().parent / "templates" / "notebooks"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


# --- cells ---------------------------------------------------------------------------------


def _id(text: str, salt: str) -> str:
    return hashlib.sha1(f"{salt}\n{text}".encode()).hexdigest()[:12]


def md(text: str) -> nbformat.NotebookNode:
    text = text.strip()
    return nbformat.v4.new_markdown_cell(text, id=_id(text, "md"))


def code(text: str) -> nbformat.NotebookNode:
    text = text.strip()
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


def grade_cell(item: Task, text: str) -> nbformat.NotebookNode:
    """A locked grade cell worth the task's points (its text: `_cells.j2`'s `grade`)."""
    cell = code(text)
    cell.metadata = _meta(f"grade_{item.key}", solution=False, grade=True, points=item.points)
    return cell


def todo(item: Task, solution: str, what: str | None = None, *, indent: int = 0) -> str:
    """A solution region, then the stub's raise naming the task (see the module docstring),
    every line indented by `indent`; a `return` closes a region that does not end in one."""
    body = textwrap.dedent(solution).strip()
    if not body.split("\n")[-1].lstrip().startswith("return"):
        body += "\nreturn"
    message = f"not implemented: task {item.task}, {what or item.title}"
    text = f"### BEGIN SOLUTION\n{body}\n### END SOLUTION\nraise NotImplementedError({message!r})"
    return textwrap.indent(text, " " * indent)


def _todo_block(item: Task, what: str | None = None, *, indent: int = 0, caller) -> str:
    """`todo` for a template, the solution written between its tags:
    `{% call todo(task, "what", indent=4) %} ...solution... {% endcall %}`."""
    return todo(item, caller(), what, indent=indent) + "\n"


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": dict(KERNELSPEC),
                   "language_info": {"name": "python"}}
    return nb


# --- templates -----------------------------------------------------------------------------

# A line `%% KIND [NAME]` starts a cell: markdown, code, answer GRADE_ID, grade TASK_KEY.
_CELL = re.compile(r"^%% (markdown|code|answer|grade)(?: (\S+))?[ \t]*$", re.MULTILINE)


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined, autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["g"] = lambda number: f"{number:g}"
    env.filters["repr"] = repr
    env.globals["todo"] = _todo_block
    return env


def _render(name: str):
    """A function rendering template `name` with the values it is given."""
    template = _environment().get_template(name)
    return lambda **values: template.render(**values)


def from_template(name: str, tasks: Mapping[str, Task], **values) -> nbformat.NotebookNode:
    """The notebook `name`.ipynb.j2 renders to: its text cut into cells at each `%%` line."""
    text = _environment().get_template(f"{name}.ipynb.j2").render(tasks=tasks, **values)
    head, *parts = _CELL.split(text)
    if head.strip():
        raise ValueError(f"{name}.ipynb.j2: text before the first %% cell line: {head[:80]!r}")
    cells = []
    for kind, arg, body in zip(parts[::3], parts[1::3], parts[2::3], strict=True):
        if kind == "markdown":
            cells.append(md(body))
        elif kind == "code":
            cells.append(code(body))
        elif kind == "answer":
            cells.append(answer(arg, body))
        else:
            cells.append(grade_cell(tasks[arg], body))
    return notebook(cells)


# --- the three assignments -----------------------------------------------------------------


def derivatives() -> nbformat.NotebookNode:
    a, b, c = checks.ABC_AT
    return from_template("derivatives", {item.key: item for item in course.tasks("derivatives")},
                         checks=checks, a=a, b=b, c=c, config=None)


def backprop(assignment: optable.Assignment = optable.BACKPROP,
             config: str | None = None) -> nbformat.NotebookNode:
    """Assignment 2, or an assignment built on it from a config (`gradkit course new`): the
    config's declared ops join the class, and its grade and self-check cells read `config`
    (the file's name beside the notebook)."""
    from graders.judge import oracle
    items = course.tasks_of(assignment)
    declared = tuple(spec for spec in assignment.declared if spec.key in assignment.ops)
    # The class's own ops are the built-in assignment's, whatever the config grades.
    base = {item.key: item for item in course.tasks("backprop")
            if optable.op(item.key).kind == "op" or item.key == "backward"}
    reference_program = oracle.load().reference
    printed = [f"{float(reference_program.exact_fraction(name)):.4f}"
               for name in optable.REFERENCE_PRINTED]
    shown = {name: "g.data" if name == "g" else name for name in optable.REFERENCE_PRINTED}
    first, *after = (f"print(f'{{{shown[name]}:.4f}}')" for name in optable.REFERENCE_PRINTED)
    example = "\n".join([
        *(f"{name} = Value({value})" for name, value in optable.REFERENCE_INPUTS.items()),
        *optable.REFERENCE_PROGRAM, first, "g.backward()", *after])
    by_task: dict[str, list[Task]] = {}
    for item in items:
        by_task.setdefault(item.task, []).append(item)
    return from_template(
        "backprop", {item.key: item for item in items}, items=items, by_task=by_task,
        value_class=reference.value_class(todo, _render("_value_class.py.j2"), base, declared),
        selfcheck_call=(f"selfcheck(Value, config={config!r})" if config
                        else "selfcheck(Value)"),
        reference_task=course.task("reference_example"), printed=printed, example=example,
        config=config)


def mlp() -> nbformat.NotebookNode:
    tasks = {item.key: item for item in course.tasks("mlp")}
    return from_template("mlp", tasks, count=checks.expected_count(3, (4, 4, 1)), config=None)


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
