"""What needs a curator's attention in a release, grouped by kind, each item with where it is and how to fix it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kg.build.duplicates import Candidate, merged_by_name
from kg.build.mapping import Conflict
from kg.build.notes import Note
from kg.build.validate import Finding
from kg.ids import Minter
from kg.layout import ATTENTION_FILE
from kg.model import KINDS

KEPT = 20_000  # items of one group the file holds; the count is always the whole


def _field_of(kind: str | None, predicate: str) -> str:
    """The field a curator writes for a property (running_time for schema:duration), or the property's name."""
    for f in KINDS[kind].fields if kind in KINDS else ():
        if f.predicate == predicate:
            return f.name
    return predicate.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _part_field(kind: str | None, part: str) -> str:
    """The field whose value is a part of this name (budget for #budget), or the part's name."""
    return next((f.name for f in (KINDS[kind].fields if kind in KINDS else ())
                 if f.vtype == "money" and (f.predicate or "").rsplit("#", 1)[-1].rsplit("/", 1)[-1] == part), part)


def settling(conflict: Conflict, minter: Minter) -> str:
    """The decisions that would settle a conflict, one per source that gives one of the values alone (the first
    three): 'prefer movie/x running_time from kmdb or prefer ...'; where no source does (a source giving two of
    them: preferring it would settle nothing), the curators' own value, as a YAML file gives it."""
    entity, _, part = conflict.subject.partition("#")  # a part's value (a budget's amount): its entity's field
    kind = minter.kind_of(entity)
    ref = (minter.path_of(entity) or entity).lstrip("/")
    field = _part_field(kind, part) if part else _field_of(kind, conflict.predicate)
    giving = Counter(g for graphs in conflict.values.values() for g in graphs)  # a source -> how many values it gives
    sources = sorted(g.rsplit("/", 1)[-1] for g, n in giving.items() if n == 1 and g != minter.editorial().value)
    if not sources:
        section = KINDS[kind].section if kind in KINDS else "..."
        return (f"give {ref} the curators' own {field}: in a YAML file, {section}: {{{ref.rsplit('/', 1)[-1]}: "
                f"{{name: ..., {field}: ...}}}}")
    return " or ".join(f"prefer {ref} {field} from {s}" for s in sources[:3])


def _conflicts(conflicts: Iterable[Conflict], minter: Minter) -> list[dict[str, Any]]:
    return [{"what": c.describe(), "where": str(c.origin.where) if c.origin else None, "iri": c.subject,
             "fix": settling(c, minter)} for c in conflicts if not c.settled]


def warnings(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Warnings, those of one message about the records of one file said once, with how many records it concerns."""
    grouped: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        grouped.setdefault((f.message, f.origin.file if f.origin else ""), []).append(f)
    items = []
    for (message, file), found in sorted(grouped.items(), key=lambda g: (-len(g[1]), g[0])):
        first = found[0]
        where = str(first.origin) if first.origin else first.focus
        if len(found) == 1:
            items.append({"what": message, "where": where, "iri": first.focus, "count": 1})
        else:
            items.append({"what": f"{message} ({len(found):,} records of {file or 'RDF files'}: said once for them "
                                  "all)", "where": f"{file} (first: {where})", "iri": first.focus,
                          "count": len(found)})
    return items


def _notes(notes: Iterable[Note], action: str) -> list[dict[str, Any]]:
    return [{"what": n.message, "where": str(n.where)} for n in notes if n.action == action]


def groups(candidates: list[Candidate], conflicts: list[Conflict], notes: list[Note], warned: list[dict[str, Any]],
           gone: list[str], minter: Minter) -> list[dict[str, Any]]:
    """The groups, most pressing first: each {kind, title, count, items} (`warned`: the findings' `warnings`)."""
    found = [
        ("duplicates", "Possible duplicates", [
            {"what": f"{c.shown(c.a)} and {c.shown(c.b)} may be one {c.kind}: {'; '.join(c.evidence)} "
                     f"(score {c.score})",
             "where": c.where, "iri": c.b, "fix": c.fix, "dismiss": c.dismiss, "score": c.score}
            for c in candidates if not c.merged]),
        ("conflicts", "Sources disagree (unsettled)", _conflicts(conflicts, minter)),
        ("junk", "Not people (left out)", _notes(notes, "junk")),
        ("suspicious", "Suspicious input", _notes((n for n in notes if not n.candidates), "suspicious")),  # (the
        # others are possible duplicates, above)
        ("skipped", "Rows and values left out", _notes(notes, "skipped")),
        ("warnings", "Warnings", warned),
        ("gone", "IRIs of earlier releases that are gone (410)", [
            {"what": f"{iri} no longer exists", "iri": iri,
             "fix": "give the record that replaces it `formerly: [old-key]`, or decide 'merge kind/old into "
                    "kind/new'"} for iri in gone]),
        ("merged", "Merged by the build", [
            {"what": f"{c.b} is {c.a}: {'; '.join(c.evidence)}", "where": c.where, "iri": c.a, "dismiss": c.dismiss}
            for c in candidates if c.merged] + _notes(merged_by_name(notes), "merged")),  # (each merge once)
        ("repaired", "Repaired input", _notes(notes, "repaired")),
    ]
    return [{"kind": kind, "title": title, "count": len(items), "items": items[:KEPT]}
            for kind, title, items in found if items]


def write(release: Path, found: list[dict[str, Any]]) -> None:
    """Write the release's attention file."""
    (release / ATTENTION_FILE).write_text(json.dumps({"groups": found}, ensure_ascii=False) + "\n", encoding="utf-8")
