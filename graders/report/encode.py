"""One encoder per output format: every writer of a format puts its text through that one.

Text in a report can come from the student: exception messages, what their code printed, cell
errors, file and folder names. Each format has its own ways for such text to become something
else (a Markdown heading or tracking image, an HTML tag, a workflow command, an XML document
that no longer parses, a terminal escape that writes the clipboard, a spreadsheet formula), so
each has one function here that makes text inert in it. `tests/test_encoders.py` feeds every
one the same hostile strings.
"""

from __future__ import annotations

import html
import re

# C0 controls but tab and newline, DEL, C1 controls, the bidirectional overrides and isolates
# that make a line display in another order than it reads (Trojan Source), and lone surrogates
# (UTF-8 cannot encode one: the file or stream being written would raise).
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Characters XML 1.0 cannot carry at all, even escaped: the complement of its Char production
# (written as what it excludes; the negated class costs re ~10 ms to compile at every start).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Escaped wherever they are: emphasis, code, links and images (`[`), headings, tables, raw HTML
# and entities, strikethrough, autolinks (`a@b`; a link's colon: `_LINK_COLON`), math and
# superscript extensions.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|<>~&@{}$^])")
# A colon is special only where a link starts (`https://`, `mailto:`, `xmpp:`): escaped there
# and nowhere else, so a sentence's "tanh: your x.grad …" reads as written in a raw .md file.
_LINK_COLON = re.compile(r"(?i):(?=/)|(?<=mailto):|(?<=xmpp):")
# Special only at the start of a line: list items, setext underlines, ordered lists.
_MARKDOWN_LINE_START = re.compile(r"^(?:([-+=])|(\d+)([.)]))")
# Where an HTML tag, comment or declaration could start: `<` before a letter, `/`, `!` or `?`.
_TAG_LIKE = re.compile(r"<[A-Za-z/!?]")
_WWW = re.compile(r"(?i)\b(www)\.")  # GFM links a bare www.example.com
# Text around an `@` as GFM's extended email autolink reads it (the local part: alphanumerics
# and `.+-_`, after `mailto:` or `xmpp:`; the domain: alphanumerics, `.-_`, and `/` for xmpp).
# GitHub's renderer links an address after every escape is resolved and adjacent text joined,
# so `a\@b.example` and `a&#64;b.example` are links: only a code span keeps the `@` out of
# the text it scans. A match starts only where a run of those characters starts (the
# lookbehind): without it, a long run with no `@` in it (40,000 `x`) is scanned again from
# every one of its characters, quadratic time a student's output could cost every report.
_EMAIL_LIKE = re.compile(r"(?<![\w.+\-:/])[\w.+\-:/]*@[\w.+\-:/@]*")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")  # a spreadsheet runs these (CWE-1236)
MAX_CELL = 32_000  # spreadsheets cap a cell at 32,767 characters


def printable(text: object) -> str:
    """The text without control characters (terminal escapes, NUL, bidi overrides) or lone
    surrogates, so valid UTF-8; a line ending `\r\n` stays a line ending, a lone `\r` (which
    overwrites a line) does not."""
    return _CONTROL.sub("\ufffd", str(text).replace("\r\n", "\n"))


def terminal(text: object) -> str:
    """For a terminal or a CI log: printable, so no escape sequence reaches the emulator (OSC 52
    clipboard writes, cursor moves that paint a fake score). Rich markup is the caller's to
    avoid: pass this to `rich.text.Text`, never to a markup string."""
    return printable(text)


def markdown(text: object) -> str:
    """Inline Markdown that stays text: one line, markup characters backslash-escaped (any
    ASCII punctuation may be, in CommonMark and GFM), so no heading, list, emphasis, link,
    image, autolink, table cell or HTML tag can be made of it, wherever it is placed. Every
    run of text around an `@` is a code span: GFM links an e-mail address however its
    characters are escaped."""
    text = " ".join(printable(text).split())
    out, last = [], 0
    for found in _EMAIL_LIKE.finditer(text):
        out += [_escaped(text[last:found.start()]), markdown_code(found[0])]
        last = found.end()
    text = "".join([*out, _escaped(text[last:])])
    return _MARKDOWN_LINE_START.sub(
        lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], text)


def _escaped(text: str) -> str:
    return _WWW.sub(r"\1\\.", _LINK_COLON.sub(r"\\:", _MARKDOWN_SPECIAL.sub(r"\\\1", text)))


def markdown_code(text: object) -> str:
    """A formula or an error as an inline code span: backticks cannot close it early, and angle
    brackets become look-alikes so no renderer that treats spans loosely sees a tag."""
    text = " ".join(printable(text).split()).replace("`", "ʼ")
    if _TAG_LIKE.search(text):  # a formula's `x <= 0` stays as written: no tag starts there
        text = text.replace("<", "‹").replace(">", "›")
    return "`" + text + "`"


def markdown_with_code(text: object) -> str:
    """The grader's own sentences, whose `names` are code: each span a code span, the rest
    inline text (never for the child's text, which may hold backticks of its own)."""
    parts = str(text).split("`")
    return "".join(markdown_code(part) if index % 2 else _spaced(part)
                   for index, part in enumerate(parts))


def _spaced(part: str) -> str:
    """`markdown(part)` keeping one space where `part` begins or ends with one: the words
    either side of a code span stay apart ("a `b` c", not "a`b`c")."""
    if not part.strip():
        return " " if part else ""
    return (" " if part[0].isspace() else "") + markdown(part) + (
        " " if part[-1].isspace() else "")


def html_with_code(text: object) -> str:
    """As `markdown_with_code`, for HTML: `names` become <code> elements."""
    parts = str(text).split("`")
    return "".join(f"<code>{html_text(part)}</code>" if index % 2 else html_text(part)
                   for index, part in enumerate(parts))


def html_text(text: object) -> str:
    """HTML text or attribute value."""
    return html.escape(printable(text), quote=True)


def xml_text(text: object) -> str:
    """Text XML 1.0 can carry (ElementTree escapes the rest when it writes): characters XML
    cannot hold at all become U+FFFD, so the document stays well-formed."""
    return _NOT_XML.sub("\ufffd", printable(text))


def svg_text(text: object) -> str:
    """Text or attribute value of an SVG drawn inline in an HTML page (the class dashboard's
    charts): characters XML cannot hold become U+FFFD and markup characters are escaped, so the
    drawing parses as XML on its own and nothing in it (an op name from an assignment config)
    becomes a tag or ends an attribute in the HTML parser either."""
    return html.escape(xml_text(text), quote=True)


def workflow_data(text: object) -> str:
    """The message of a GitHub Actions workflow command (`::error ...::MESSAGE`)."""
    return printable(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: object) -> str:
    """A property of a workflow command (`file=`, `title=`)."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def csv_cell(text: object) -> str:
    """A text cell a spreadsheet shows as text: a formula prefix is quoted with `'`, line breaks
    become spaces, and the length is bounded (with a note of how much was cut)."""
    text = printable(text).replace("\r", " ").replace("\n", " ")
    if text.startswith(FORMULA_PREFIXES):
        text = "'" + text
    if len(text) > MAX_CELL:
        text = text[:MAX_CELL - 40] + f" ... ({len(text) - MAX_CELL + 40} characters cut)"
    return text
