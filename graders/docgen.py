"""Write every generated block of the docs from the data it describes: `python -m graders.docgen`.

A block sits between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in a Markdown file; its
text comes from code that reads the op table, the protocol table or the modules' own docstrings,
so the docs cannot drift from them (tests/test_tabledoc.py fails when a committed block differs).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from graders.run import protocol
from graders.spec import tabledoc

ROOT = Path(__file__).resolve().parents[1]


def _summary(path: Path) -> str:
    """The first sentence of a file's docstring, on one line (Markdown table cell safe)."""
    import ast

    text = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = " ".join(text.split("\n\n", 1)[0].split())
    end = re.search(r"(?<![.:`])\.(\s|$)", first)
    first = first[: end.start() + 1] if end else first
    return first.replace("|", "\\|") or "(no docstring)"


def module_index(root: Path = ROOT) -> str:
    """Every module of `graders/` and `kit/`, by layer, with the first sentence of its
    docstring: the index tests/test_architecture.py checks is complete."""
    lines = ["| module | what it is for |", "| --- | --- |"]
    for package in ("graders", "kit"):
        for path in sorted((root / package).rglob("*.py"), key=lambda p: (
                len(p.relative_to(root).parts), str(p))):
            if "__pycache__" in path.parts or "templates" in path.parts:
                continue
            lines.append(f"| `{path.relative_to(root).as_posix()}` | {_summary(path)} |")
    return "\n".join(lines)


def test_index(root: Path = ROOT) -> str:
    """Every test file and helper of `tests/`, with the first sentence of its docstring."""
    lines = ["| file | what it checks |", "| --- | --- |"]
    for path in sorted((root / "tests").glob("*.py")):
        if path.name != "__init__.py":
            lines.append(f"| `{path.name}` | {_summary(path)} |")
    return "\n".join(lines)


BLOCKS: tuple[tuple[str, str, Callable[[], str]], ...] = (
    ("README.md", "optable", tabledoc.markdown),
    ("docs/architecture.md", "protocol", protocol.markdown),
    ("docs/architecture.md", "modules", module_index),
    ("docs/architecture.md", "tests", test_index),
)


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {name}:begin -->\n)(.*?)\n?(<!-- {name}:end -->)", re.S)


def block(text: str, name: str) -> str | None:
    """The block's current text, or None when the file has no such markers."""
    found = _pattern(name).search(text)
    return found.group(2) if found else None


def render(text: str, name: str, body: str) -> str:
    return _pattern(name).sub(lambda m: m.group(1) + body + "\n" + m.group(3), text, count=1)


def write_answer_key(root: Path = ROOT) -> str:
    """Derive the built-in oracle, write answer_key.json and pin its digest in oracle.py."""
    import hashlib

    from graders.judge import oracle

    text = oracle.answer_key_text(oracle.derive())
    digest = hashlib.sha256(text.encode()).hexdigest()
    key = root / "graders" / "judge" / oracle.ANSWER_KEY.name
    code = root / "graders" / "judge" / "oracle.py"
    source = code.read_text(encoding="utf-8")
    pinned = re.sub(r'^ANSWER_KEY_SHA256 = "[0-9a-f]{64}"$', f'ANSWER_KEY_SHA256 = "{digest}"',
                    source, count=1, flags=re.M)
    changed = not key.exists() or key.read_text(encoding="utf-8") != text or pinned != source
    if changed:
        key.write_text(text, encoding="utf-8")
        code.write_text(pinned, encoding="utf-8")
    return f"{key.relative_to(root)}: {'updated' if changed else 'already current'} " \
           f"(sha256 {digest[:16]}…)"


def main(root: Path = ROOT) -> int:
    print(write_answer_key(root))
    for file, name, make in BLOCKS:
        path = root / file
        text = path.read_text(encoding="utf-8")
        if block(text, name) is None:
            print(f"{path}: no <!-- {name}:begin --> ... <!-- {name}:end --> markers",
                  file=sys.stderr)
            return 1
        new = render(text, name, make())
        if new != text:
            path.write_text(new, encoding="utf-8")
        print(f"{file}: {name} {'updated' if new != text else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
