"""Compact schema.org JSON-LD, written directly from triples (no network, no blank nodes)."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.ids import is_web

# A self-contained context: parsers need nothing from the network to expand it.
CONTEXT: dict[str, str] = {"@vocab": vocab.SCHEMA, **{k: v for k, v in vocab.PREFIXES.items() if k != "schema"}}
def compact_iri(iri: str) -> str:
    """schema.org terms by their bare name (via @vocab), other known namespaces as prefix:name; any other name
    (a keyword, '@id'; a colon, which a reader would take for a prefix) as the whole IRI."""
    if iri.startswith(vocab.SCHEMA):
        local = iri[len(vocab.SCHEMA):]
        return local if _TERM.fullmatch(local) and local not in CONTEXT else iri  # ('prov' is a prefix here)
    return vocab.prefixed(iri)


_TERM = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_RDF_TYPE = "rdf:type"  # the key of a type that is not an IRI (a literal, a blank node): "@type" takes IRIs only


_STRING = vocab.XSD + "string"


def value(term: ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple,
          compact: Callable[[str], str] = compact_iri) -> Any:
    """One object as a JSON-LD value (datatypes compacted by `compact`)."""
    if isinstance(term, ox.Literal):
        if term.language:
            return {"@value": term.value, "@language": term.language}
        datatype = term.datatype.value
        return term.value if datatype == _STRING else {"@value": term.value, "@type": compact(datatype)}
    if isinstance(term, ox.NamedNode):
        return {"@id": term.value}
    if isinstance(term, ox.BlankNode):
        return {"@id": f"_:{term.value}"}
    raise ValueError(f"kg graphs have no quoted triples: {term}")


def nodes(triples: Iterable[ox.Triple | ox.Quad]) -> dict[str, dict[str, Any]]:
    """Node objects keyed by @id, properties in a stable order."""
    out: dict[str, dict[str, Any]] = {}
    for t in sorted(triples, key=lambda t: (t.subject.value, t.predicate.value, str(t.object))):
        sid = t.subject.value if isinstance(t.subject, ox.NamedNode) else f"_:{t.subject.value}"
        node = out.setdefault(sid, {"@id": sid})
        if t.predicate == vocab.TYPE and isinstance(t.object, ox.NamedNode):
            node.setdefault("@type", []).append(compact_iri(t.object.value))
        elif t.predicate == vocab.TYPE:
            node.setdefault(_RDF_TYPE, []).append(value(t.object))
        else:
            node.setdefault(compact_iri(t.predicate.value), []).append(value(t.object))
    return out


def stream_nodes(triples: Iterable[ox.Triple | ox.Quad]) -> Iterator[dict[str, Any]]:
    """Node objects of triples that come grouped by subject (as a store returns them), one at a time.

    The same nodes as `nodes`, for dumps of millions of triples: no sorting, and each IRI compacted once.
    """
    names: dict[str, str] = {}

    def compact(iri: str) -> str:
        return names.get(iri) or names.setdefault(iri, compact_iri(iri))

    type_iri = vocab.TYPE.value
    node: dict[str, Any] | None = None
    current = None
    for t in triples:
        s = t.subject
        if s != current:
            if node is not None:
                yield node
            current = s
            node = {"@id": s.value if isinstance(s, ox.NamedNode) else f"_:{s.value}"}
        assert node is not None
        p, o = t.predicate.value, t.object
        if p == type_iri and isinstance(o, ox.NamedNode):
            key = "@type"
            item: Any = compact(o.value)
        elif p == type_iri:
            key, item = _RDF_TYPE, value(o, compact)
        else:
            key = compact(p)
            item = value(o, compact)
        values = node.get(key)
        if values is None:
            node[key] = [item]
        else:
            values.append(item)
    if node is not None:
        yield node


def document(triples: Iterable[ox.Triple | ox.Quad]) -> dict[str, Any]:
    """A flat JSON-LD document (@context + @graph) for a set of triples."""
    return {"@context": CONTEXT, "@graph": list(nodes(triples).values())}


def stream(triples: Iterable[ox.Triple | ox.Quad]) -> Iterator[bytes]:
    """Compact JSON-LD in pieces, one node at a time, for triples that come grouped by subject (a store's order)."""
    yield b'{"@context": ' + json.dumps(CONTEXT).encode() + b',\n "@graph": ['
    sep = b"\n  "
    for node in stream_nodes(triples):
        yield sep + json.dumps(node, ensure_ascii=False).encode()
        sep = b",\n  "
    yield b"\n ]\n}\n"


def dumps(triples: Iterable[ox.Triple | ox.Quad]) -> bytes:
    """Serialize triples as compact JSON-LD."""
    return json.dumps(document(triples), ensure_ascii=False, indent=1).encode("utf-8")


# ---- schema.org markup for web pages (issue: markup that search engines accept and that round-trips) ----

SCHEMA_CONTEXT_URLS = frozenset({"https://schema.org", "https://schema.org/", "http://schema.org", "http://schema.org/",
                                 "https://schema.org/docs/jsonldcontext.jsonld",
                                 "http://schema.org/docs/jsonldcontext.jsonld"})
CONTEXT_FILE = Path(__file__).parent / "data" / "schemaorgcontext.jsonld"


class RemoteDocumentRefused(Exception):
    """kg never fetches JSON-LD documents from the web; only the shipped schema.org context is known."""


@lru_cache(maxsize=1)
def schema_context() -> dict[str, Any]:
    """The official schema.org context (release 30.0), shipped with kg."""
    data: dict[str, Any] = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))
    return data


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-LD document loader (pyld's interface) that serves known contexts from disk and refuses the rest."""
    if url in SCHEMA_CONTEXT_URLS:
        return {"contextUrl": None, "documentUrl": url, "document": schema_context()}
    raise RemoteDocumentRefused(f"kg does not fetch JSON-LD documents from the network: {url!r} is not a "
                                "context shipped with kg (known: the schema.org context)")


def offline(document: Any) -> Any:
    """A JSON-LD document whose contexts named by URL are the ones kg ships (RemoteDocumentRefused for others)."""
    if isinstance(document, list) and document and all(
            isinstance(x, dict) and "@context" in x and "@graph" not in x and x["@context"] == document[0]["@context"]
            for x in document):  # markup scraped page by page: one context for all, written once (it is large)
        return {"@context": _context(document[0]["@context"]),
                "@graph": [_offline({k: v for k, v in x.items() if k != "@context"}) for x in document]}
    return _offline(document)


def _offline(node: Any) -> Any:
    if isinstance(node, list):
        return [_offline(x) for x in node]
    if not isinstance(node, dict):
        return node
    return {k: _context(v) if k == "@context" else _offline(v) for k, v in node.items()}


def _context(value: Any) -> Any:
    if isinstance(value, str):
        return document_loader(value)["document"]["@context"]
    if isinstance(value, list):
        return [_context(x) for x in value]
    return _offline(value)  # a context of its own: its terms may have scoped contexts


def read(data: bytes, lines: bool = False, base_iri: str | None = None) -> Iterator[ox.Quad]:
    """The statements of a JSON-LD document (or of JSON Lines: one on each line), read offline: contexts named by
    URL must be ones kg ships (RemoteDocumentRefused otherwise)."""
    if not lines:
        documents = [json.loads(data)]
    else:
        text, documents, start = data.decode("utf-8"), [], 0
        for line in text.splitlines(keepends=True):
            try:
                if line.strip():
                    documents.append(json.loads(line))
            except json.JSONDecodeError as exc:  # where it is in the file, not in its line
                raise json.JSONDecodeError(exc.msg, text, start + exc.pos) from None
            start += len(line)
    for document in documents:
        yield from ox.parse(json.dumps(offline(document)).encode(), format=ox.RdfFormat.JSON_LD, base_iri=base_iri)


def description_query(iri: str) -> str:
    """The SPARQL CONSTRUCT whose answer is exactly the entity's markup (schema.org terms only).

    The entity's own statements; its parts (<iri>#...), reviews and the events presenting it in full; the
    type and name of every other node they point to. Only web addresses, as `markup` keeps them: no statement
    about or pointing to a javascript:, data: or any other IRI.
    """
    i = iri.replace("\\", "").replace(">", "")
    part = f'STRSTARTS(STR(?full), "{i}#") && STRSTARTS(STR(?link), "http://schema.org/")'
    linked = 'isIRI(?s) && STRSTARTS(STR(?link), "http://schema.org/")'
    return f"""PREFIX schema: <http://schema.org/>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  {{
    VALUES ?s {{ <{i}> }} ?s ?p ?o .
  }} UNION {{
    {{ <{i}> ?link ?full . FILTER(isIRI(?full) && {part}) }} UNION {{ <{i}> schema:review ?full }}
    UNION {{ ?full schema:workPresented <{i}> }}
    BIND(?full AS ?s) ?s ?p ?o .
  }} UNION {{
    {{ <{i}> ?link ?s . FILTER({linked}) }} UNION {{
      {{ <{i}> ?link ?full . FILTER(isIRI(?full) && {part}) }} UNION {{ <{i}> schema:review ?full }}
      UNION {{ ?full schema:workPresented <{i}> }}
      ?full ?link2 ?s . FILTER(isIRI(?s) && STRSTARTS(STR(?link2), "http://schema.org/"))
    }}
    ?s ?p ?o . FILTER(?p IN (rdf:type, schema:name))
  }}
  FILTER((?p = rdf:type && STRSTARTS(STR(?o), "http://schema.org/"))
         || (?p != rdf:type && STRSTARTS(STR(?p), "http://schema.org/")))
  FILTER(REGEX(STR(?s), "^https?://", "i") && (!isIRI(?o) || REGEX(STR(?o), "^https?://", "i")))
}}"""


def _coerced(term: str) -> bool:
    definition = schema_context()["@context"].get(term)
    return isinstance(definition, dict) and "@type" in definition


def markup_value(term: str, obj: ox.NamedNode | ox.Literal) -> Any:
    """A value as the official context reads it back exactly: plain strings only where nothing is coerced."""
    if isinstance(obj, ox.NamedNode):
        return obj.value if schema_context()["@context"].get(term, {}).get("@type") == "@id" else {"@id": obj.value}
    if not obj.language and obj.datatype.value == _STRING:
        return {"@value": obj.value} if _coerced(term) else obj.value
    return value(obj, _context_datatype)



# ---- entity documents: the official context, one object per entity (dumps, .jsonld, .jsonl) ----

OFFICIAL_CONTEXT = "https://schema.org"
# the official context's own prefixes for the namespaces kg writes (dct:, not its synonym dcterms:)
_OFFICIAL_PREFIXES = tuple(sorted(((ns, prefix) for prefix, ns in (
    ("rdf", vocab.RDF), ("rdfs", vocab.RDFS), ("xsd", vocab.XSD), ("owl", vocab.OWL), ("prov", vocab.PROV),
    ("dct", vocab.DCTERMS), ("void", vocab.VOID))), key=lambda np: -len(np[0])))
Label = dict[str, Any]  # a referenced entity as written inline: @id, @type and name


@lru_cache(maxsize=4096)
def official_term(iri: str) -> str:
    """A property or class as the official schema.org context names it: schema.org terms bare, rdfs:label and the
    other namespaces it declares as prefix:name, any other IRI (kg's own kgv: terms) in full."""
    if iri.startswith(vocab.SCHEMA):
        local = iri[len(vocab.SCHEMA):]
        defined = schema_context()["@context"].get(local)
        if local.isalnum() and (defined is None or isinstance(defined, dict) and
                                defined.get("@id") == "schema:" + local):
            return local
        return iri
    for ns, prefix in _OFFICIAL_PREFIXES:
        rest = iri[len(ns):]
        if iri.startswith(ns) and rest.replace("_", "a").isalnum():
            return f"{prefix}:{rest}"
    return iri


def _document_of(iri: str) -> str:
    return iri.split("#", 1)[0]


Statement = ox.Triple | ox.Quad  # a writer reads a statement's subject, predicate and object only


@dataclass
class Placement:
    """Where the parts of entities go (<film>#cast-1): inside a node of their own document that points to them
    (`nested`), under `@reverse` of the entity they only point to (`back`: a conflict), or on their own."""

    nested: set[str] = field(default_factory=set)
    back: dict[str, list[Statement]] = field(default_factory=dict)  # entity -> its parts' statements pointing to it

    def see(self, t: Statement) -> None:
        """Take note of one statement (every statement of the graph is seen before anything is written)."""
        o = t.object
        if not isinstance(o, ox.NamedNode):
            return
        s, target = t.subject.value, o.value
        if "#" in target and target != s and _document_of(target) == _document_of(s):
            self.nested.add(target)
        elif "#" in s and _document_of(s) == target:
            self.back.setdefault(target, []).append(t)

    def done(self) -> None:
        """Drop the back-pointing statements of parts that are nested after all."""
        for entity, ts in list(self.back.items()):
            kept = [t for t in ts if t.subject.value not in self.nested]
            if kept:  # in the order of their statements, not of the store's scan: the same for any load order
                self.back[entity] = sorted(kept, key=str)
            else:
                del self.back[entity]

    def placed(self, part: str, exists: Callable[[str], bool]) -> bool:
        """Whether a part is written inside its entity rather than on its own."""
        doc = _document_of(part)
        if doc == part or not exists(doc):
            return False
        return part in self.nested or any(t.subject.value == part for t in self.back.get(doc, ()))


class EntityWriter:
    """Writes entities as compact JSON-LD objects under the official schema.org context.

    `statements(iri)` gives a node's statements. A part of an entity's document is written where `placement`
    puts it; any other node an entity points to is written as its @id, @type and name, taken from `labels`, so
    that a page can show it without a second request.
    """

    def __init__(self, statements: Callable[[str], list[Statement]], labels: Callable[[str], Label | None],
                 placement: Placement) -> None:
        self.statements, self.labels, self.placement = statements, labels, placement

    def entity(self, iri: str, triples: list[Statement] | None = None) -> dict[str, Any]:
        """The entity's object, with its parts nested."""
        out = self._node(iri, self.statements(iri) if triples is None else triples, (iri,))
        reverse: dict[str, list[Any]] = {}
        for t in self.placement.back.get(iri, ()):
            s = t.subject.value
            rest = [x for x in self.statements(s) if (x.predicate, x.object) != (t.predicate, t.object)]
            reverse.setdefault(official_term(t.predicate.value), []).append(self._node(s, rest, (iri, s)))
        if reverse:
            out["@reverse"] = {k: v[0] if len(v) == 1 else v for k, v in sorted(reverse.items())}
        return out

    def _node(self, iri: str, triples: list[Statement], path: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {"@id": iri}
        type_iri = vocab.TYPE.value
        types = sorted(official_term(t.object.value) for t in triples
                       if t.predicate.value == type_iri and isinstance(t.object, ox.NamedNode))
        if types:
            out["@type"] = types[0] if len(types) == 1 else types
        props: dict[str, list[Any]] = {}
        for t in sorted(triples, key=lambda t: (t.predicate.value, str(t.object))):
            if t.predicate.value == type_iri and isinstance(t.object, ox.NamedNode):
                continue
            term = _RDF_TYPE if t.predicate.value == type_iri else official_term(t.predicate.value)
            props.setdefault(term, []).append(self._value(term, t.object, iri, path))
        for term in sorted(props, key=lambda k: (k != "name", k)):
            values = props[term]
            out[term] = values[0] if len(values) == 1 else values
        return out

    def _value(self, term: str, obj: ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple, subject: str,
               path: tuple[str, ...]) -> Any:
        if isinstance(obj, ox.NamedNode):
            target = obj.value
            if target in self.placement.nested and target not in path and \
                    _document_of(target) == _document_of(subject):
                triples = self.statements(target)
                if triples:
                    return self._node(target, triples, path + (target,))
            label = self.labels(target) if target not in path else None
            if label is not None and len(label) > 1:
                return dict(label)
            return markup_value(term, obj)
        if isinstance(obj, ox.Literal):
            native = _NATIVE.get(obj.datatype.value)
            if native is not None and not obj.language and not _coerced(term):
                found = native(obj.value)
                if found is not None:
                    return found
            return markup_value(term, obj)
        return value(obj, _context_datatype)


def _integer(text: str) -> int | None:
    """A canonical xsd:integer as a JSON number (which reads back as that same literal)."""
    try:
        number = int(text)
    except ValueError:
        return None
    return number if str(number) == text and abs(number) < 2 ** 53 else None


_NATIVE: dict[str, Callable[[str], Any]] = {
    vocab.XSD + "integer": _integer,
    vocab.XSD + "boolean": lambda text: {"true": True, "false": False}.get(text),
}


def label_of(triples: Iterable[Statement], start: Label | None = None) -> Label:
    """A node as written where another points to it: its @id, its types and its names (with those of `start`,
    its label from other statements)."""
    out: Label = {key: (list(value) if isinstance(value, list) else [value]) if key != "@id" else value
                  for key, value in (start or {}).items()}
    for t in triples:
        out.setdefault("@id", t.subject.value)
        if t.predicate == vocab.TYPE:
            out.setdefault("@type", []).append(official_term(t.object.value))
        elif t.predicate == vocab.S.name:
            out.setdefault("name", []).append(markup_value("name", t.object))  # type: ignore[arg-type]
    for key in ("@type", "name"):
        if key in out:
            values = sorted(out[key], key=json.dumps)
            out[key] = values[0] if len(values) == 1 else values
    if start:  # in the order labels_in gives, names first
        out = {key: out[key] for key in ("@id", "name", "@type") if key in out}
    return out


def labels_in(store: ox.Store) -> dict[str, Label]:
    """How each entity (a subject without #part) of the store's default graph is written where another points to
    it."""
    named: dict[str, list[ox.Quad]] = {}
    dg = ox.DefaultGraph()
    for predicate in (vocab.S.name, vocab.TYPE):  # names first: a label's keys come in that order
        for q in store.quads_for_pattern(None, predicate, None, dg):
            if "#" not in q.subject.value:
                named.setdefault(q.subject.value, []).append(q)
    return {iri: label_of(ts) for iri, ts in named.items()}


def _in_memory(triples: Iterable[Statement], labels: Mapping[str, Label]) -> tuple[
        EntityWriter, dict[str, list[Statement]]]:
    """A writer for statements held in memory, and the statements by subject."""
    by_subject: dict[str, list[Statement]] = {}
    placement = Placement()
    for t in triples:
        by_subject.setdefault(t.subject.value, []).append(t)
        placement.see(t)
    placement.done()
    return EntityWriter(lambda s: by_subject.get(s, []), labels.get, placement), by_subject


def entity_document(iri: str, triples: Iterable[ox.Triple], labels: Mapping[str, Label]) -> dict[str, Any]:
    """One entity's JSON-LD document: its statements (with its parts and conflicts) as one object."""
    writer, by_subject = _in_memory(triples, labels)
    objects = [writer.entity(iri)] if iri in by_subject else []
    for s in sorted(by_subject):
        if s != iri and not writer.placement.placed(s, by_subject.__contains__):
            objects.append(writer.entity(s))
    if len(objects) == 1:
        return {"@context": OFFICIAL_CONTEXT, **objects[0]}
    return {"@context": OFFICIAL_CONTEXT, "@graph": objects}


def entity_bytes(iri: str | None, triples: Iterable[ox.Triple], labels: Mapping[str, Label],
                 lines: bool = False) -> bytes:
    """An entity's document as JSON-LD (or JSON Lines: one line per object); without an entity, every subject."""
    triples = list(triples)
    if iri is None:
        doc: dict[str, Any] = {"@context": OFFICIAL_CONTEXT, "@graph": [
            o for o in _objects(triples, labels)]}
    else:
        doc = entity_document(iri, triples, labels)
    if lines:
        objects = doc.get("@graph", [{k: v for k, v in doc.items() if k != "@context"}])
        return b"".join(_line(o) for o in objects)
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def _objects(triples: list[ox.Triple], labels: Mapping[str, Label]) -> Iterator[dict[str, Any]]:
    writer, by_subject = _in_memory(triples, labels)
    for s in sorted(by_subject):
        if not writer.placement.placed(s, by_subject.__contains__):
            yield writer.entity(s)


def _line(node: dict[str, Any]) -> bytes:
    return json.dumps({"@context": OFFICIAL_CONTEXT, **node}, ensure_ascii=False).encode("utf-8") + b"\n"


def stream_lines(triples: Iterable[Statement]) -> Iterator[bytes]:
    """JSON Lines for triples grouped by subject (a store's order): one line per subject, as it comes."""
    writer = EntityWriter(lambda s: [], lambda o: None, Placement())
    for subject, group in itertools.groupby(triples, key=lambda t: t.subject):
        yield _line(writer.entity(subject.value, list(group)))


DOCUMENT_HEAD = b'{"@context": "' + OFFICIAL_CONTEXT.encode() + b'",\n "@graph": ['
DOCUMENT_TAIL = b"\n ]\n}\n"


def entity_objects(writer: EntityWriter, subjects: Iterable[tuple[str, list[Statement]]],
                   exists: Callable[[str], bool]) -> Iterator[dict[str, Any]]:
    """The objects of a dump, one per entity: `subjects` gives each subject with its statements, once (a store's
    scan, regrouped); parts placed inside their entity are left out."""
    for subject, triples in subjects:
        if "#" in subject and writer.placement.placed(subject, exists):
            continue
        yield writer.entity(subject, triples)


def document_piece(node: dict[str, Any], first: bool) -> bytes:
    """One object of a dump's @graph as written in the JSON-LD document (between DOCUMENT_HEAD and _TAIL)."""
    return (b"\n  " if first else b",\n  ") + json.dumps(node, ensure_ascii=False).encode()


def line(node: dict[str, Any]) -> bytes:
    """One object as a line of JSON Lines, a JSON-LD document of its own."""
    return _line(node)


def _context_datatype(iri: str) -> str:
    """A datatype as the official context can read it: xsd: is the one prefix it declares."""
    return "xsd:" + iri[len(vocab.XSD):] if iri.startswith(vocab.XSD) else iri


def _linkable(t: ox.Triple) -> bool:
    """Whether a statement may be in markup: its subject, and its object if an IRI, are web addresses."""
    # a javascript: or data: IRI from a source file would be a link that runs a script on the page that pastes it
    return is_web(t.subject.value) and (not isinstance(t.object, ox.NamedNode) or is_web(t.object.value))


def markup(iri: str, triples: Iterable[ox.Triple],
           preferred: dict[str, ox.NamedNode | ox.Literal] | None = None) -> dict[str, Any]:
    """Nested schema.org JSON-LD with the entity as the top node; every node keeps its @id (no blank nodes).

    `preferred` gives, for a property of the top node that sources disagree on, the one value curators chose:
    the markup carries only it.
    """
    chosen = preferred or {}
    triples = [t for t in triples if not (t.subject.value == iri and t.predicate.value in chosen
                                          and t.object != chosen[t.predicate.value])]
    by_subject: dict[str, list[ox.Triple]] = {}
    for t in sorted(filter(_linkable, triples), key=lambda t: (t.subject.value, t.predicate.value, str(t.object))):
        by_subject.setdefault(t.subject.value, []).append(t)

    def node(subject: str, path: tuple[str, ...], skip: tuple[str, str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"@id": subject}
        if subject in path:
            return out
        types = [t.object.value[len(vocab.SCHEMA):] for t in by_subject.get(subject, []) if t.predicate == vocab.TYPE]
        if types:
            out["@type"] = types[0] if len(types) == 1 else types
        props: dict[str, list[Any]] = {}
        for t in by_subject.get(subject, []):
            if t.predicate == vocab.TYPE or (skip and (t.predicate.value, t.object.value) == skip):
                continue
            term = t.predicate.value[len(vocab.SCHEMA):]
            obj = t.object
            if isinstance(obj, ox.NamedNode) and obj.value in by_subject and term not in ("url", "sameAs", "image"):
                value = node(obj.value, path + (subject,))
            else:
                value = markup_value(term, obj)  # type: ignore[arg-type]
            props.setdefault(term, []).append(value)
        for term, values in props.items():
            out[term] = values[0] if len(values) == 1 else values
        return out

    top = node(iri, ())
    reachable = _reachable(iri, by_subject)
    reverse: dict[str, list[Any]] = {}
    for subject, ts in by_subject.items():
        for t in ts:
            if subject not in reachable and isinstance(t.object, ox.NamedNode) and t.object.value == iri:
                term = t.predicate.value[len(vocab.SCHEMA):]
                reverse.setdefault(term, []).append(node(subject, (iri,), skip=(t.predicate.value, iri)))
    if reverse:
        top["@reverse"] = {k: v[0] if len(v) == 1 else v for k, v in sorted(reverse.items())}
    return {"@context": "https://schema.org", **top}


def _reachable(iri: str, by_subject: dict[str, list[ox.Triple]]) -> set[str]:
    seen, todo = {iri}, [iri]
    while todo:
        for t in by_subject.get(todo.pop(), []):
            if isinstance(t.object, ox.NamedNode) and t.object.value in by_subject and t.object.value not in seen:
                seen.add(t.object.value)
                todo.append(t.object.value)
    return seen


def item_list(items: list[tuple[int, str]]) -> dict[str, Any]:
    """A summary-page ItemList (position + url), as documented for the movie carousel."""
    return {"@context": "https://schema.org", "@type": "ItemList",
            "itemListElement": [{"@type": "ListItem", "position": pos, "url": url} for pos, url in items]}


def dataset(iri: str, name: str, url: str, license_url: str, version: str, modified: str, statements: int,
            sparql: str, downloads: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The home page's schema.org Dataset (what dataset search engines read), the node VoID describes (`iri`):
    downloads as (url, media type as served, name).

    Only terms whose schema.org domain and range fit (a SPARQL endpoint has no such property: it is named in the
    description); the build's time typed, as the official context would read a plain one as a schema:Date."""
    return {
        "@context": "https://schema.org", "@type": "Dataset", "@id": iri, "name": name, "url": url,
        "description": f"{name}: {statements:,} statements about films, the people and companies who made them, "
                       "their festivals and reviews, each kept with the source document that states it; in the "
                       f"schema.org vocabulary, with a SPARQL endpoint ({sparql}) and downloads in "
                       f"{len(downloads)} RDF files.",
        "license": license_url, "version": version, "dateModified": {"@value": modified, "@type": "xsd:dateTime"},
        "isAccessibleForFree": True,
        "distribution": [{"@type": "DataDownload", "name": title, "encodingFormat": media, "contentUrl": href}
                         for href, media, title in downloads],
    }


def safe_json(data: object) -> str:
    """JSON that cannot end a <script> element, open a comment or break a line in old parsers."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def script_tag(data: object) -> str:
    """A ready-to-paste <script type="application/ld+json"> element."""
    return f'<script type="application/ld+json">\n{safe_json(data)}\n</script>'
