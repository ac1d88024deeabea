"""Every sentence a report says about an op's mistake, made from typed parts in one place.

A report sentence used to be glued from catalogue fields ("Your code " + title), so a title
written as a noun ("sign error") made "Your code sign error". Here each sentence is a function
of typed parts (the op, the mistake's title and hint, each input's wrong and right formula, a
stub's message), and the text, Markdown, HTML, Gradescope, CI and self-check reports all read
these functions (through `report/sections.py`), so a sentence is assembled once, the same way
everywhere. `tests/test_sentences.py` renders every catalogued mistake and every check failure
and reads each sentence as English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graders.model import WrongLine
from graders.spec import optable

# Words a mistake's title may start with when it is a verb phrase that completes "your code …"
# without ending in -s ("never updates …", "does not …").
_ADVERBS = ("never", "does", "is", "has", "only", "always", "also")


def does(title: str) -> str:
    """"your code forgets to square the output", from a title that is a verb phrase (what the
    code does, as the catalogue writes them); a title written as a noun phrase by an instructor
    ("wrong exponent") becomes "your code has this mistake: wrong exponent", never "your code
    wrong exponent"."""
    title = title.strip().rstrip(".")
    first = title.split(" ", 1)[0].lower() if title else ""
    if first in _ADVERBS or (first.endswith("s") and not first.endswith("ss") and
                             first.isalpha()):
        return f"your code {title}"
    return f"your code has this mistake: {title or 'a mistake'}"


def ended(text: str) -> str:
    """`text` as the end of a sentence: one full stop, unless it ends with its own mark."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def capitalised(text: str) -> str:
    """`text` with its first letter a capital, unless it starts with code or a formula (a
    backtick, `x.grad`, `d(a*b)/da`) or an op's name (`relu`): those are not words."""
    first = text.split(" ", 1)[0] if text else ""
    if not first or not first[0].isalpha() or re.search(r"[._()*/=`\d]", first) or \
            first.split("'")[0] in optable.ALL:  # "relu's `_backward` ...": a name, as code
        return text
    return text[0].upper() + text[1:]


@dataclass(frozen=True)
class GradStatement:
    """What one input's grad ended as, beside what it should end as (formulas as text)."""

    input: str
    wrong: str
    right: str

    def text(self) -> str:
        name = self.input
        return (f"your {name}.grad ends as {self.wrong} where it should end as "
                f"{name}.grad + out.grad · ({self.right})")


@dataclass(frozen=True)
class MistakeSentence:
    """A named mistake: the op, what the code does (the catalogue title, a verb phrase), the
    hint, and, for a formula mistake, what each input's grad ended as."""

    op: str
    title: str
    hint: str
    statements: tuple[GradStatement, ...] = ()

    def clause(self) -> str:
        """What the code does, then the hint as a sentence of its own (hints hold colons of
        their own): "your code forgets to square the output. The output t must be squared."."""
        said = ended(does(self.title))
        hint = ended(capitalised(self.hint))
        return f"{said} {hint}" if hint else said

    def text(self) -> str:
        if not self.statements:
            return f"{self.op}: {self.clause()}"
        said = "; ".join(statement.text() for statement in self.statements)
        return f"{self.op}: {said}. {capitalised(self.clause())}"


def also(title: str, inputs: list[str], hint: str) -> str:
    """Another mistake on other inputs of the same op: "also, for y: your code …"."""
    return f"also, for {', '.join(inputs)}: " + MistakeSentence("", title, hint).clause()


def stub(message: str) -> str:
    """A stub's `NotImplementedError` text as a sentence: "Not implemented yet: task 2.1, add
    backward." (the stub's own "not implemented: " said once, whatever it held)."""
    text = re.sub(r"^(not implemented[:.]?\s*)+", "", message.strip(), flags=re.IGNORECASE)
    return ended(f"Not implemented yet: {text}" if text else "Not implemented yet")


def failed_checks(titles: list[str]) -> str:
    """The sub-checks an op failed, named by their titles (never their keys)."""
    return "; ".join(titles)


def wrong_line(line: WrongLine | None) -> str | None:
    """Where the mistake is, said only because the grader ran the edit (judge/edits.py):
    "The mistake is on line 34 of cell 5 (`…`): …", with the edited line when the
    assignment shows the fix (`wrong_line = "fix"`)."""
    if line is None:
        return None

    def code(texts: tuple[str, ...]) -> str | None:
        # renderers read `...` as code: a line that holds a backtick itself is not quoted
        return None if any("`" in text for text in texts) or not texts else \
            "; ".join(f"`{text}`" for text in texts)

    written, fixed = code(line.was), code(line.fix)
    where = f"{line.where()} ({written})" if written else line.where()
    one = len(line.lines) == 1
    if line.show_fix and fixed:
        return (f"The mistake is on {where}: written as {fixed}, this op passes every check "
                "(the grader ran it).")
    return (f"The mistake is on {where}: the grader changed {'that line' if one else 'those lines'}"
            " alone, ran it, and this op passed every check.")
