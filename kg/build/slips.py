"""Slips of the pen: whether two words, or two people's keys, are one name misspelt by a letter."""

from __future__ import annotations

import re
from collections.abc import Sequence

SLIP_SHORTEST = 5  # a word this long or longer may be misspelt by a letter: in a shorter one a letter makes another
# name (Jae, Jee; Ann, Anna)
_VOWELS = frozenset("aeiouy")
_DIGIT = re.compile(r"\d")


def one_edit_apart(x: str, y: str) -> bool:
    """Whether one letter added, left out, changed or swapped with the next makes one word the other."""
    if abs(len(x) - len(y)) > 1 or x == y:
        return False
    if len(x) == len(y):
        differ = [i for i in range(len(x)) if x[i] != y[i]]
        return len(differ) == 1 or (len(differ) == 2 and differ[1] == differ[0] + 1 and x[differ[0]] == y[differ[1]]
                                    and x[differ[1]] == y[differ[0]])
    short, long = (x, y) if len(x) < len(y) else (y, x)
    at = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return short[at:] == long[at + 1:]


def other_ending(x: str, y: str) -> bool:
    """Whether two words a letter apart differ in a vowel at their ends: a name's other form (Daniel, Daniela; Paulo,
    Paula; Christian, Christina), not a typo (Tavares, Tavarez)."""
    if len(x) != len(y):
        short, long = (x, y) if len(x) < len(y) else (y, x)
        return long[:-1] == short and long[-1] in _VOWELS
    differ = [i for i in range(len(x)) if x[i] != y[i]]
    return differ[-1] == len(x) - 1 and bool(({x[i] for i in differ} | {y[i] for i in differ}) & _VOWELS)


def plural(x: str, y: str) -> bool:
    """Whether one word is the other with an 's' at its end (Angel, Angels): another title, not a typo."""
    return x + "s" == y or y + "s" == x


def slipped_words(x: Sequence[str], y: Sequence[str]) -> bool:
    """Whether two names of two words or more (folded, in order) are the same but for one letter of one long word
    (Tavares, Tavarez; Coutard, Coutart), the letter not a digit (Number1, Number11) nor a word's first (Hun, Bun),
    nor a vowel at a word's end (Daniel, Daniela)."""
    if len(x) != len(y) or len(x) < 2:
        return False
    apart = [(a, b) for a, b in zip(x, y, strict=True) if a != b]
    if len(apart) != 1:
        return False
    a, b = apart[0]
    return a[0] == b[0] and min(len(a), len(b)) >= SLIP_SHORTEST and not _DIGIT.search(a + b) and \
        one_edit_apart(a, b) and not other_ending(a, b)
