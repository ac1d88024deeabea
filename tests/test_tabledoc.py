"""The README's op table is generated from the op table; nothing is written twice."""

from pathlib import Path

from graders.spec import optable, tabledoc


def test_readme_table_matches_the_op_table():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(tabledoc.BEGIN):readme.index(tabledoc.END) + len(tabledoc.END)]
    assert block == tabledoc.markdown(), "run: python -m graders.spec.tabledoc"


def test_every_op_has_a_row():
    text = tabledoc.markdown()
    for key in optable.ALL:
        assert f"| `{key}` |" in text
