"""Generated docs match the data they describe: the README's op table, the protocol table."""

from graders import docgen
from graders.spec import optable, tabledoc
from tests.conftest import ROOT


def test_every_generated_block_is_current():
    for file, name, make in docgen.BLOCKS:
        text = (ROOT / file).read_text(encoding="utf-8")
        assert docgen.block(text, name) == make(), f"{file}: run python -m graders.docgen"


def test_every_op_has_a_row():
    text = tabledoc.markdown()
    for key in optable.ALL:
        assert f"| `{key}` |" in text
