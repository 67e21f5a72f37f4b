"""Text from the data in messages (quoted short, invisible characters shown as escapes), and characters kg refuses."""

from __future__ import annotations

import re
import reprlib
from typing import Any

QUOTED = 100  # characters of a value that a message quotes at most

# control characters but tab, line feed and carriage return; halves of surrogate pairs; the two noncharacters
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# what a terminal would act on or hide: controls, zero-width and bidi formatting, separators, surrogates
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff\ufffe\uffff]")


# formatting a reader never sees: zero-width spaces, bidi marks, embeddings, overrides and isolates, word joiners and
# byte-order marks; the zero-width (non-)joiner spells Persian and Indic words and joins emoji: kept between two
# characters (as kg.build.cleaning keeps it in bulk files)
_FORMATTING = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
                         "|(?<!\\S)[\u200c\u200d]|[\u200c\u200d](?!\\S)")


def without_formatting(text: str) -> str:
    """`text` without invisible formatting characters: zero-width spaces, bidi marks and controls, word joiners,
    byte-order marks (zero-width joiners between two characters are kept)."""
    return _FORMATTING.sub("", text)


class _Short(reprlib.Repr):
    """repr() that stops early: a huge or aliased value costs no more to quote than a short one."""

    def repr1(self, x: Any, level: int) -> str:
        for kind in (dict, list):  # a YAML mapping is a dict subclass, which reprlib would repr() whole
            if isinstance(x, kind) and type(x) is not kind:
                return str(getattr(self, f"repr_{kind.__name__}")(x, level))
        return super().repr1(x, level)

    def repr_str(self, x: str, level: int) -> str:
        return repr(x[:self.maxstring])  # cut by quote(), with an ellipsis


_SHORT = _Short()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 2 * QUOTED
_SHORT.maxlevel = 3


def shorten(text: str, limit: int = QUOTED) -> str:
    """`text` cut to `limit` characters, with an ellipsis when it was longer."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def quote(value: Any, limit: int = QUOTED) -> str:
    """A value from the data as a message quotes it: repr(), cut to `limit` characters with an ellipsis."""
    return shorten(_SHORT.repr(value), limit)


def visible(text: str) -> str:
    """`text` with the characters a terminal would act on or hide written as escapes (\\x1b, \\u202e)."""
    return _HIDDEN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def refused(text: str) -> str | None:
    """The first character of `text` that kg refuses to publish, if any: a control character (but tab, line feed
    and carriage return), half of a UTF-16 surrogate pair or a noncharacter."""
    found = _REFUSED.search(text)
    return found.group() if found else None


def refusal(char: str) -> str:
    """Why kg refuses a character that `refused` found."""
    code = f"U+{ord(char):04X}"
    if "\ud800" <= char <= "\udfff":
        return f"{code} is half of a UTF-16 surrogate pair, not a character"
    if char in "\ufffe\uffff":
        return f"{code} is a noncharacter, not text"
    return f"the control character {code} cannot be published (text may hold tab, line feed and carriage return)"


def counted(n: int, word: str, plural: str | None = None) -> str:
    """A count and its noun, singular for one (1 candidate, 2 candidates; 1,000 warnings)."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"
