"""The curators' decisions, one line each: merge two records, keep two apart, prefer a source's value."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from kg.ids import is_key
from kg.model import EDITORIAL, KINDS, SINGLE_VALUED, Field, Origin
from kg.text import quote

SECTION = "decisions"  # the YAML section that holds them, in any source file

_REF = r"([a-z]+)/([a-z0-9]+(?:-[a-z0-9]+)*)"
_FORMS = {
    "merge": re.compile(rf"^merge\s+{_REF}\s+into\s+{_REF}$"),
    "not_same": re.compile(rf"^not[-_ ]same\s+{_REF}\s+{_REF}$"),
    "prefer": re.compile(rf"^prefer\s+{_REF}\s+([a-z_]+)\s+from\s+([a-z0-9]+(?:-[a-z0-9]+)*)$"),
}
HELP = ("a decision is one line: 'merge person/a into person/b', 'not_same person/a person/b' or "
        "'prefer movie/x running_time from source-key' (or 'from editorial')")

Ref = tuple[str, str]  # (kind, key)


@dataclass(frozen=True)
class Merge:
    """`retired` is the same entity as `kept`: its facts join it, its IRI redirects there."""

    retired: Ref
    kept: Ref
    origin: Origin
    why: str  # "merge", "formerly" (a renamed key) or the identifier both records give
    name: str = ""  # the retired record's name (`kg duplicates` shows how it was spelled), when it had one

    @property
    def line(self) -> str:
        """The decision as a curator writes it."""
        return f"merge {'/'.join(self.retired)} into {'/'.join(self.kept)}"


@dataclass(frozen=True)
class Prefer:
    """Of the values sources give a single-valued field of a record, the one `source` gives is preferred."""

    record: Ref
    field: str
    source: str  # a source key, or EDITORIAL: the curators' own top-level value
    origin: Origin


@dataclass
class Decisions:
    """Every decision of every source file."""

    merges: list[Merge] = field(default_factory=list)
    not_same: dict[frozenset[Ref], Origin] = field(default_factory=dict)
    prefer: list[Prefer] = field(default_factory=list)

    def apart(self, a: Ref, b: Ref) -> bool:
        """Whether curators said `a` and `b` are different entities."""
        return frozenset((a, b)) in self.not_same


def not_same_line(a: Ref, b: Ref) -> str:
    """The decision that dismisses a candidate pair, as a curator writes it."""
    return f"not_same {'/'.join(a)} {'/'.join(b)}"


def merge_line(retired: Ref, kept: Ref) -> str:
    """The decision that merges `retired` into `kept`, as a curator writes it."""
    return f"merge {'/'.join(retired)} into {'/'.join(kept)}"


def _ref(kind: str, key: str) -> tuple[Ref | None, str | None]:
    if kind not in KINDS or kind == "source":
        return None, f"{quote(kind)} is not a kind of record ({', '.join(k for k in KINDS if k != 'source')})"
    if not is_key(key):
        return None, f"{quote(key)} is not a record key"
    return (kind, key), None


def parse(text: str, origin: Origin, into: Decisions) -> str | None:
    """Add the decision written in `text` to `into`; the problem with it, if it cannot be read."""
    line = " ".join(text.split())
    verb = line.split(" ", 1)[0].replace("-", "_")
    verb = "not_same" if verb in ("not_same", "not") else verb
    form = _FORMS.get(verb)
    found = form.match(line) if form else None
    if found is None:
        return f"cannot read {quote(line)}: {HELP}"
    groups = found.groups()
    a, why = _ref(groups[0], groups[1])
    if a is None:
        return why
    if verb == "prefer":
        kind = KINDS[a[0]]
        f = kind.field(groups[2])
        if f is None or not preferable(f):
            single = sorted(x.name for x in kind.fields if preferable(x))
            close = difflib.get_close_matches(groups[2], single, n=1) if f is None else []
            return ((f"a {a[0]} has no field {quote(groups[2])}" + (f" (did you mean {close[0]}?)" if close else "")
                     if f is None else f"{quote(groups[2])} is not a single-valued field of a {a[0]}")
                    + f"; a value is preferred among the values sources disagree on: {', '.join(single)}")
        into.prefer.append(Prefer(a, groups[2], groups[3], origin))
        return None
    b, why = _ref(groups[2], groups[3])
    if b is None:
        return why
    if a[0] != b[0]:
        return f"{'/'.join(a)} and {'/'.join(b)} are records of different kinds"
    if a == b:
        return (f"{'/'.join(a)} is merged into itself" if verb == "merge" else
                f"{'/'.join(a)} is named twice: not_same names two records")
    if verb == "merge":
        into.merges.append(Merge(a, b, origin, "merge"))
    else:
        into.not_same.setdefault(frozenset((a, b)), origin)
    return None


def preferable(f: Field) -> bool:
    """Whether sources may disagree on a field's one value, so that curators prefer one: a single-valued property,
    or a node of single-valued parts (an amount of money, a rating)."""
    return not f.many and ((f.predicate or "") in SINGLE_VALUED or f.vtype in ("money", "rating"))


__all__ = ["EDITORIAL", "SECTION", "Decisions", "Merge", "Prefer", "parse", "preferable", "merge_line", "not_same_line"]
