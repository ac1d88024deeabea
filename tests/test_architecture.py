"""The layers hold as the docs draw them: no import cycle, the judge and the reports never reach
the runner, the sandboxed harness is stdlib-only, and every op of the table is known to every
layer (docs/architecture.md)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from graders.course import authoring
from graders.judge import oracle, probes, scoring
from graders.run import harness
from graders.spec import optable
from kit.engine import Value
from tests.conftest import ROOT

PACKAGE = ROOT / "graders"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _all_imports(path: Path) -> set[str]:
    """Every graders or kit module a file imports, lazily or not."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from graders import api` imports the module graders.api, not the package only
            inner = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name for name in inner if name in MODULES or _is_kit_module(name)]
            if len(names) < len(inner):
                names.append(node.module)
        else:
            continue
        found |= {name for name in names if name.split(".")[0] in ("graders", "kit")}
    return found


def _is_kit_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "kit" and (ROOT.joinpath(*parts).with_suffix(".py").exists()
                                  or ROOT.joinpath(*parts).is_dir())


def _imports(path: Path) -> set[str]:
    """Every graders module a file imports, at the top or inside a function (lazy imports)."""
    return {name for name in _all_imports(path) if name in MODULES}


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _layer_of(module: str) -> str:
    """`spec`, `judge`, `run`, ... for a module in a layer's folder; else the module's name."""
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and (PACKAGE / parts[1]).is_dir() else module


def test_the_import_graph_has_no_cycle():
    visiting, done, cycles = set(), set(), []

    def visit(module: str, trail: list[str]) -> None:
        if module in done:
            return
        if module in visiting:
            cycles.append([*trail[trail.index(module):], module])
            return
        visiting.add(module)
        for imported in sorted(GRAPH[module]):
            # A package's __init__ importing its own submodule is not a cycle of layers.
            if not imported.startswith(module + "."):
                visit(imported, [*trail, imported])
        visiting.discard(module)
        done.add(module)

    for module in sorted(GRAPH):
        visit(module, [module])
    assert cycles == []


def test_judge_and_report_import_nothing_from_run():
    for module, imported in GRAPH.items():
        if _layer_of(module) in ("judge", "report"):
            reached = sorted(name for name in imported if _layer_of(name) == "run")
            assert reached == [], f"{module} imports {reached}"


def test_spec_and_model_import_nothing_but_spec():
    for module, imported in GRAPH.items():
        if _layer_of(module) == "spec" or module == "graders.model":
            assert {_layer_of(name) for name in imported} <= {"spec"}, (module, imported)


def _loaded_by(imports: str) -> list[str]:
    code = (f"import sys, {imports}; "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('graders.run.'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return done.stdout.split()


def test_loading_the_judge_and_the_reports_loads_nothing_of_the_runner():
    assert _loaded_by("graders.judge.scoring, graders.report.html, graders.report.ci, "
                      "graders.report.terminal, graders.report.gradescope") == []


def test_the_students_kernel_never_loads_the_sandbox():
    loaded = _loaded_by("graders.course, graders.course.kernel_check")
    assert not {"graders.run.sandbox", "graders.run.cgroups", "graders.run.session"} & set(loaded)


def test_the_harness_imports_only_the_standard_library():
    tree = ast.parse((PACKAGE / "run" / "harness.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "the harness runs alone: no relative imports"
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_every_kind_has_a_planner_a_runner_and_a_scorer():
    kinds = {spec.kind for spec in optable.ALL.values()}
    assert kinds <= set(probes.PLANNERS) & set(scoring.SCORERS)
    for assignment in optable.COURSE:
        for group in probes.plan(assignment, seed=1):
            assert {case.kind for case in group.cases} <= set(harness.RUNNERS), group.key


def test_every_task_has_a_planner_and_a_scorer_and_belongs_to_one_assignment():
    from graders.judge import programs

    keys = {spec.key for spec in optable.TASKS}
    assert keys == set(programs.TASKS)
    for key in keys:
        assert sum(key in a.ops for a in optable.COURSE) == 1, key


def test_every_graph_check_has_a_graph_and_a_label():
    keys = {check.key for check in optable.BACKWARD_GRAPHS}
    assert keys == set(probes.GRAPH_BUILDERS)
    assert all(check.label for check in optable.BACKWARD_GRAPHS)


def test_every_op_names_a_method_the_reference_engine_has():
    for spec in (*optable.OPS, optable.BACKWARD):
        assert spec.method, spec.key
        assert callable(getattr(Value, spec.method, None)), (spec.key, spec.method)
    assert set(optable.METHODS) == {spec.method for spec in (*optable.OPS, optable.BACKWARD)}


def test_every_op_of_the_course_has_a_stub_in_the_notebook():
    text = authoring.render("backprop")
    required = {spec.key for spec in optable.OPS if not spec.optional}
    stubs = {key for key in required if f"not implemented: task {optable.op(key).task}, {key} "
             in text}
    assert required <= stubs, required - stubs


def test_every_derived_formula_is_inside_the_oracles_allow_lists():
    derived = oracle.derive()
    for formula in oracle._formulas(derived):
        oracle.check_arithmetic(formula.code)
        oracle.check_mathml(formula.mathml)
    for op in derived.ops.values():
        assert all(f.mathml.startswith("<math") for f in op.derivative.values()), op.key


def test_every_sub_check_has_a_title():
    names = {s.key for s in (*optable.OP_SUBCHECKS, *optable.REFERENCE_SUBCHECKS)}
    names |= {g.key for g in optable.BACKWARD_GRAPHS}
    assert names <= set(optable.SUBCHECK_TITLES)


# --- docs/architecture.md's layer table is the import graph -----------------------------------


def _layer_table() -> dict[str, set[str]]:
    """{layer: the layers it may import}, read from docs/architecture.md's table."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## The layers and what each may import", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            table[cells[0].strip("`")] = set(re.findall(r"`([\w.]+)`", cells[2]))
    return table


def _layer(module: str) -> str:
    """A module's row in the table: its layer folder, or its own name at the package's top."""
    if module == "graders":
        return "graders"
    if module.startswith("kit"):
        return "kit"
    return module.split(".")[1]


def test_every_layer_imports_only_what_the_architecture_table_says():
    table = _layer_table()
    layers = {_layer(module) for module in MODULES}
    assert layers == set(table), "docs/architecture.md's layer table: rows for " \
        f"{sorted(layers - set(table))} missing, {sorted(set(table) - layers)} not layers"
    wrong = []
    for module, path in MODULES.items():
        if module.endswith("run.harness"):
            continue  # the child: checked to import no graders module at all, below
        own = _layer(module)
        for imported in sorted(_all_imports(path)):
            layer = _layer(imported)
            if layer != own and layer not in table[own]:
                wrong.append(f"{module} imports {imported} ({layer} is not in {own}'s row)")
    assert wrong == []


def test_the_architecture_table_names_no_layer_a_module_does_not_use():
    """Each named import is real, so the table is a map of the code, not a wish list."""
    table = _layer_table()
    used: dict[str, set[str]] = {layer: set() for layer in table}
    for module, path in MODULES.items():
        used[_layer(module)] |= {_layer(name) for name in _all_imports(path)}
    unused = {layer: sorted(names - used[layer] - {layer}) for layer, names in table.items()}
    assert {layer: names for layer, names in unused.items() if names} == {}
