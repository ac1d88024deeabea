"""What every config table's reader says about a setting it does not know, worded once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def unknown_setting(data: Mapping, known: Iterable[str], where: object) -> str | None:
    """The one-line refusal for the first unknown key of `data` (a typo is the usual cause, so
    the known keys are listed), or None when every key is known."""
    known = sorted(known)
    unknown = sorted(set(data) - set(known))
    if not unknown:
        return None
    return f"{where}: unknown setting {unknown[0]!r}; known: {', '.join(known)}"
