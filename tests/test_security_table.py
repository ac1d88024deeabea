"""docs/security.md's table says, per path, what is contained; the suite must back every word.

Each "contained" cell must be exercised on that path by something its row names: a payload of
`tests/hostile/` whose `modes:` header includes the path (the `-bare` variants count too), or a
test that exists. Every payload must be named by some row, so nothing the suite attacks with is
missing from what the docs promise.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.test_hostile import PAYLOADS

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("strong", "weak", "container", "user", "nowall")


def table() -> list[dict[str, str]]:
    text = (ROOT / "docs" / "security.md").read_text()
    section = text.split("## What is contained, per path", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.split("\n| threat ", 1)[1].join(["| threat ", ""])
             .splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split(" | ")]
    assert header == ["threat", "tested by", *PATHS]
    return [dict(zip(header, (cell.strip() for cell in line.strip("| ").split(" | ")),
                     strict=True)) for line in lines[2:]]


def functions_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_contained_cell_is_exercised_on_its_path():
    modes = {payload.name: {m.removesuffix("-bare") for m in payload.modes}
             for payload in PAYLOADS}
    for row in table():
        refs = row["tested by"].split()
        assert refs, f"{row['threat']}: names no test"
        payloads = [ref.removeprefix("payload:") for ref in refs if ref.startswith("payload:")]
        tests = [ref.removeprefix("test:") for ref in refs if ref.startswith("test:")]
        assert len(payloads) + len(tests) == len(refs), refs
        for name in payloads:
            assert name in modes, f"{row['threat']}: no payload {name}"
        for ref in tests:
            file, _, function = ref.partition("::")
            assert function in functions_in(ROOT / "tests" / file), ref
        for path in PATHS:
            cell = row[path]
            assert re.match(r"(contained|not contained|partly): ", cell), cell
            if not cell.startswith("contained: "):
                continue
            exercised = tests or [name for name in payloads if path in modes[name]]
            assert exercised, f"{row['threat']}: contained on {path}, but nothing runs there"
            if payloads and not tests:
                missing = [name for name in payloads if path not in modes[name]]
                assert missing == [], f"{row['threat']}: {missing} not run on {path}"


def test_every_payload_is_in_the_table():
    named = {ref.removeprefix("payload:") for row in table()
             for ref in row["tested by"].split() if ref.startswith("payload:")}
    assert {payload.name for payload in PAYLOADS} - named == set()
