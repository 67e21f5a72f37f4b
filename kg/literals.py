"""Lexical forms of literals that both the build and the server read: xsd:duration parsed once, dates compared
across precisions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kg.vocab import XSD

# ISO 8601 as XML Schema takes it (no weeks): at least one part, and a T only before a time part
_DURATION = re.compile(r"(-)?P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
                       r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")


@dataclass(frozen=True)
class Duration:
    """An xsd:duration's parts, as written (PT109M has 109 minutes, not 1 hour 49)."""

    negative: bool
    years: int
    months: int
    days: int
    hours: int
    minutes: int
    seconds: Decimal

    @classmethod
    def parse(cls, text: str) -> Duration | None:
        """The duration `text` writes, or None if it is not an xsd:duration."""
        match = _DURATION.fullmatch(text)
        if match is None:
            return None
        sign, *parts = match.groups()
        y, mo, d, h, mi = (int(p or 0) for p in parts[:5])
        return cls(sign is not None, y, mo, d, h, mi, Decimal(parts[5] or 0))

    def canonical(self) -> str:
        """The canonical form the store keeps (PT109M -> PT1H49M), so that every output agrees."""
        years, months = divmod(self.years * 12 + self.months, 12)
        seconds = ((self.days * 24 + self.hours) * 60 + self.minutes) * 60 + self.seconds
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        date = (f"{years}Y" if years else "") + (f"{months}M" if months else "") + (f"{int(days)}D" if days else "")
        secs_text = format(secs.normalize(), "f") if secs else ""
        time = (f"{int(hours)}H" if hours else "") + (f"{int(minutes)}M" if minutes else "") + (
            f"{secs_text}S" if secs_text else "")
        if not date and not time:
            return "PT0S"
        return ("-" if self.negative else "") + "P" + date + (("T" + time) if time else "")


_PLAIN_DATE = re.compile(r"-?\d{4,}(?:-\d\d(?:-\d\d)?)?")  # a year, a month or a day, without a time zone
_DATES = frozenset({XSD + "gYear", XSD + "gYearMonth", XSD + "date"})  # a year, a month, a day: the same calendar


def finest_date(values: Sequence[tuple[str, str]]) -> int | None:
    """Of dates given as (lexical form, datatype IRI), the index of the most precise one when every other is it
    told less precisely (1960, 1960-12 and 1960-12-20 agree; 1960 and 1961-01-01 do not); None when they disagree,
    or one is not a year, a month or a day, or has a time zone."""
    if not values or any(datatype not in _DATES or not _PLAIN_DATE.fullmatch(text) for text, datatype in values):
        return None  # (a time zone is a day's own: 2009-05-01-05:00 is not 2009-05-01 told more precisely)
    finest = max(range(len(values)), key=lambda n: len(values[n][0]))
    text = values[finest][0]
    for other, _ in values:
        if other != text and not (text.startswith(other) and text[len(other):len(other) + 1] == "-"):
            return None
    return finest
