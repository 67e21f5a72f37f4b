"""SPARQL on a release: evaluating queries, serialising results, and the service description."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

import pyoxigraph as ox

from kg import vocab
from kg.errors import Refusal
from kg.formats import FORMATS, RESULT_FORMATS, Format, ResultFormat, by_name, client_format, result_by_name
from kg.ids import NOT_IN_IRI, Minter
from kg.serve import results
from kg.serve.guard import check, tokens
from kg.serve.negotiation import HTML, Offer, by_key, choose
from kg.serve.store import Release

SD = vocab.SD


RDFLIB_DEFAULT = "urn:x-rdflib:default"  # what rdflib's Dataset over a SPARQLStore names its default graph by


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset of a request (SPARQL protocol default-graph-uri / named-graph-uri)."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @classmethod
    def asked(cls, default_graphs: Iterable[str], named_graphs: Iterable[str]) -> Dataset:
        """The dataset a request's parameters ask for; rdflib's name for the default graph, alone, is this
        endpoint's default graph (else every query of rdflib's Dataset would answer over an empty graph)."""
        found = cls(tuple(default_graphs), tuple(named_graphs))
        return cls() if found == cls((RDFLIB_DEFAULT,)) else found


@dataclass(frozen=True)
class Job:
    """One query: its text and dataset, the formats asked for and the limits on its answer."""

    text: str
    dataset: Dataset
    accept: str | None
    explicit: str | None
    max_results: int
    max_bytes: int = 0  # the largest response body (0: no limit)


Result = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


_AT = re.compile(r"^error at (\d+):(\d+): (.*)$", re.S)
_CHARACTER_CLASS = re.compile(r"\[[^\]]*\]")  # the parser's sets of characters: ['A' ..= 'Z' | ...]
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\w+')
_EXPLAINED = re.compile(r"expected one of (?:.*?, )?([A-Z][a-z]+(?: [\w-]+){3,})(?:,|$)")


_PNAME_BEFORE = re.compile(r"([A-Za-z][\w.-]*)?:[^\s:]*$")  # the prefixed name an error points just after


_KEYWORDS = frozenset((
    "SELECT CONSTRUCT ASK DESCRIBE WHERE FROM NAMED PREFIX BASE DISTINCT REDUCED AS OPTIONAL FILTER UNION MINUS "
    "GRAPH BIND VALUES SERVICE SILENT UNDEF GROUP BY HAVING ORDER ASC DESC LIMIT OFFSET EXISTS NOT IN COUNT SUM MIN "
    "MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR "
    "ROUND CONCAT STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY "
    "HOURS MINUTES SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT "
    "SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE TRUE FALSE A").split())
_BARE_WORD = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|<[^<>\s]*>|#[^\n]*|[?$@][\w-]*|[\w.-]*:[\w.:-]*|(\w+)')
_LARGEST = 2 ** 64 - 1  # the largest LIMIT or OFFSET the engine reads


def _hints(query: str) -> list[str]:
    """What a syntax error may come of: a keyword misspelt (SELEC, LIMT), a LIMIT or OFFSET past the largest."""
    hints: list[str] = []
    for found in _BARE_WORD.finditer(query):
        word = found.group(1)
        if word is None or word.isdigit() or word.upper() in _KEYWORDS:
            continue
        close = difflib.get_close_matches(word.upper(), _KEYWORDS, n=1, cutoff=0.75)
        if close and len(word) > 2:
            hints.append(f"{word!r} is no SPARQL keyword: did you mean {close[0]}?")
    tokens = [t.group(0) for t in _BARE_WORD.finditer(query) if not t.group(0).startswith("#")]
    for n, token in enumerate(tokens):  # (keywords only: not in a string, an IRI, a comment or a variable's name)
        if token.upper() in ("LIMIT", "OFFSET") and not (n + 1 < len(tokens) and tokens[n + 1].isdigit()):
            hints.append(f"{token.upper()} takes a whole number after it: {token.upper()} 10")
    for what, number in re.findall(r"(?i)\b(LIMIT|OFFSET)\s+(\d+)", query):
        if int(number) > _LARGEST:
            hints.append(f"{what.upper()} {number} is larger than the largest the engine reads ({_LARGEST})")
    return list(dict.fromkeys(hints))[:3]


def syntax_message(query: str, error: str, prefixes: dict[str, str] | None = None) -> str:
    """The parser's error said for people, with what it may come of (`_hints`)."""
    said = _syntax_message(query, error, prefixes)
    return "\n".join([said, *(f"  ({hint})" for hint in _hints(query))]) if said.startswith("SPARQL syntax") else said


def _syntax_message(query: str, error: str, prefixes: dict[str, str] | None = None) -> str:
    """The parser's error said for people: where (the line, with a caret under the column), and what was expected
    in words rather than the grammar's character sets."""
    found = _AT.match(error)
    if found is None:
        return f"SPARQL syntax error: {error}"
    line, column, what = int(found.group(1)), int(found.group(2)), found.group(3)
    lines = query.split("\n")
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    undeclared = _PNAME_BEFORE.search(text[:column - 1]) if "Prefix not found" in what else None
    if undeclared is not None:
        return (f"prefix {undeclared.group(1)}: is not declared (line {line}): declare it with PREFIX "
                f"{undeclared.group(1)}: <...>, or use one this endpoint declares for every query "
                f"({', '.join(p + ':' for p in sorted(prefixes or {}))})\n  {text}\n  {' ' * (column - 1)}^")
    if not query.strip():
        return "SPARQL syntax error: the query is empty"
    explained = _EXPLAINED.search(what) if "expected one of" in what else None
    if explained is not None:  # the parser's own words (a LIMIT too large), among what it expected
        what = explained.group(1)
    elif "expected one of" in what and (phrase := next((item.strip() for item in _CHARACTER_CLASS.sub(
            "", what.partition("expected one of")[2]).split(",") if len(item.split()) >= 3), None)):
        what = phrase  # the parser's own words among what it expected ('SELECT * is not authorized with GROUP BY')
    elif "expected one of" in what:
        head, _, listed = what.partition("expected one of")
        names = _CHARACTER_CLASS.search(listed) is not None
        tokens = list(dict.fromkeys(_TOKEN.findall(_CHARACTER_CLASS.sub("", listed))))
        # (SERVICE is refused here; LATERAL is the engine's own, from a draft past SPARQL 1.1: not ones to suggest)
        tokens = [t for t in tokens if t not in ("SERVICE", "LATERAL")] or ([] if names else tokens)
        if names:
            tokens.append("a name")
        what = f"{head}expected {tokens[0]}" if len(tokens) == 1 else \
            f"{head}expected one of {', '.join(tokens[:-1])} or {tokens[-1]}"
    end = " (the end of the query)" if line >= len(lines) and column > len(text) else ""
    return (f"SPARQL syntax error at line {line}, column {column}{end}: {what.strip()}\n"
            f"  {text}\n  {' ' * (column - 1)}^")


def evaluate(release: Release, text: str, dataset: Dataset = Dataset()) -> Result:
    """Parse and start evaluating a query (already checked by `guard.check`); syntax errors become Refusal."""
    for iri in dataset.default_graphs + dataset.named_graphs:
        if not iri.startswith(("http://", "https://", "urn:")) or any(c in NOT_IN_IRI for c in iri):
            raise Refusal(400, f"Not a graph IRI: {iri!r}")
    try:
        if not dataset.default_graphs and not dataset.named_graphs:
            return release.query(text)
        return release.query(text, list(dataset.default_graphs), list(dataset.named_graphs))
    except SyntaxError as exc:
        raise Refusal(400, syntax_message(text, str(exc), release.prefixes)) from exc
    except (OSError, RuntimeError, ValueError) as exc:
        raise Refusal(400, f"The query could not be evaluated: {exc}") from exc


def serialize(result: Result, fmt: Format | ResultFormat) -> bytes:
    """The bytes of a result in the chosen format; evaluation errors surface here as Refusal."""
    try:
        if isinstance(fmt, ResultFormat):
            if isinstance(result, ox.QueryTriples):
                raise Refusal(406, "CONSTRUCT and DESCRIBE results are graphs, not result tables")
            return result.serialize(format=fmt.oxigraph) or b""
        if not isinstance(result, ox.QueryTriples):
            raise Refusal(406, "SELECT and ASK results are tables, not graphs")
        return fmt.serialize(list(dict.fromkeys(result)))
    except (OSError, RuntimeError, ValueError, SyntaxError) as exc:
        raise Refusal(400, f"The query could not be evaluated: {exc}") from exc


_W3C_FORMATS = {"https://www.w3.org/ns/formats/data/JSON-LD": "http://www.w3.org/ns/formats/JSON-LD"}  # (the
# W3C's unique identifiers for file formats; pyoxigraph names JSON-LD otherwise)


def service_description(endpoint: str, release: Release) -> list[ox.Triple]:
    """The SPARQL 1.1 Service Description of the endpoint at `endpoint`."""
    svc = ox.NamedNode(endpoint)
    ds = Minter(str(release.meta['base_iri'])).dataset()
    dflt = ox.NamedNode(f"{endpoint}#default-graph")
    sd = vocab._NS(SD)
    out = [
        ox.Triple(svc, vocab.TYPE, sd.Service),
        ox.Triple(svc, sd.endpoint, svc),
        ox.Triple(svc, sd.supportedLanguage, sd.SPARQL11Query),
        ox.Triple(svc, sd.feature, sd.UnionDefaultGraph),
        ox.Triple(svc, sd.defaultEntailmentRegime, ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        ox.Triple(svc, sd.defaultDataset, ds),
        ox.Triple(ds, vocab.TYPE, sd.Dataset),
        ox.Triple(ds, sd.defaultGraph, dflt),
        ox.Triple(dflt, vocab.TYPE, sd.Graph),
        ox.Triple(dflt, vocab.V.triples,
                  ox.Literal(str(release.meta["counts"]["triples"]),  # type: ignore[index]
                             datatype=vocab.XSD_INTEGER)),
    ]
    for f in RESULT_FORMATS:
        out.append(ox.Triple(svc, sd.resultFormat, ox.NamedNode(f.oxigraph.iri)))
    graph_formats = dict.fromkeys(_W3C_FORMATS.get(rdf.oxigraph.iri, rdf.oxigraph.iri) for rdf in FORMATS)
    out += [ox.Triple(svc, sd.resultFormat, ox.NamedNode(iri)) for iri in graph_formats]  # JSON-LD once, not for
    # JSON Lines again
    sh = vocab._NS(vocab.SH)
    for prefix, namespace in sorted(release.prefixes.items()):  # SHACL's way to declare a prefix
        node = ox.NamedNode(f"{endpoint}#prefix-{prefix}")
        out += [ox.Triple(svc, sh.declare, node), ox.Triple(node, sh.prefix, ox.Literal(prefix)),
                ox.Triple(node, sh.namespace, ox.Literal(namespace, datatype=vocab.XSD_ANYURI))]
    for g in sorted(release.graphs):
        named = ox.NamedNode(f"{endpoint}#graph-{hashlib.sha1(g.encode()).hexdigest()[:12]}")
        out += [ox.Triple(ds, sd.namedGraph, named), ox.Triple(named, sd.name, ox.NamedNode(g))]
    return out


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer to a SPARQL request."""

    status: int
    content_type: str
    body: bytes
    truncated_at: int | None = None  # the result was cut at this many rows/triples
    retry_after: int | None = None  # seconds after which asking again may succeed (the store did not answer)


RESULT_OFFERS = tuple(Offer(f.name, f.media_types, (f.extension,)) for f in RESULT_FORMATS)
# a CONSTRUCT's graph in every format, a dataset's (N-Quads, TriG) as its default graph, as Oxigraph and Fuseki
# answer: a client that reads datasets only asks for one of those
GRAPH_OFFERS = tuple(Offer(f.name, f.media_types, (f.extension,))
                     for f in sorted(FORMATS, key=lambda f: f.datasets))
TEXTUAL = ("text/", "application/sparql-results+", "application/ld+json", "application/n-triples",
           "application/n-quads", "application/trig", "application/rdf+xml", "application/jsonl")


def refused(exc: Refusal) -> Answer:
    """A refusal as the answer the client gets: its status and its words."""
    return Answer(exc.status, "text/plain; charset=utf-8", (exc.message.rstrip("\n") + "\n").encode("utf-8"))


def answer(release: Release, job: Job) -> Answer:
    """Check, evaluate, negotiate and serialize one query; every failure is an Answer with its status."""
    text, accept, explicit = job.text, job.accept, job.explicit
    try:
        check(text, release.graphs, release.prefixes)
        # a dataset graph the release does not hold is an empty graph (never fetched), as the protocol tests expect
        result = evaluate(release, text, job.dataset)
        fmt = negotiated(isinstance(result, ox.QueryTriples), accept, explicit)
        body, cut = _capped(result, fmt, job.max_results, text)
        media = fmt.media_type
        if media.endswith("xml") and NOT_XML.search(body):
            raise Refusal(406, XML_REFUSAL)
        return Answer(200, media + ("; charset=utf-8" if media.startswith(TEXTUAL) else ""), body, cut)
    except Refusal as exc:
        return refused(exc)


def format_names() -> str:
    """The format names a client may send, in words."""
    return (f"{', '.join(o.key for o in RESULT_OFFERS)} for a SELECT or ASK result, or "
            f"{', '.join(o.key for o in GRAPH_OFFERS)} for a CONSTRUCT or DESCRIBE result (or its media type)")


def negotiated(graph: bool, accept: str | None, explicit: str | None) -> Format | ResultFormat:
    """The format of a result (a graph's, or a table's and a boolean's) that the client named, else that it
    accepts; 406 when neither fits the result."""
    offers = GRAPH_OFFERS if graph else RESULT_OFFERS
    named = client_format(explicit, graph) if explicit else None
    offer = by_key(named, offers) if named else None
    # a name that does not fit this result: Accept decides (SPARQLWrapper names one format, with Accept: */*, for
    # every query form); without an Accept header, as from `kg query --format`, it is refused
    if offer is None and (not explicit or accept):
        offer = choose(accept, offers)
    if offer is None and not explicit and choose(accept, (Offer("html", (HTML,)),)):
        offer = offers[0]  # a browser following a link: show the default format rather than refuse
    if offer is None:
        raise Refusal(406, "Not Acceptable: this result is available as "
                            + ", ".join(f"{o.media_types[0]} (format={o.key})" for o in offers))
    fmt = by_name(offer.key) if graph else result_by_name(offer.key)
    assert fmt is not None
    return fmt


NOT_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")  # what XML 1.0 cannot hold
XML_REFUSAL = ("The result holds a control character, which XML cannot carry (not even escaped): ask for it as "
               "JSON, CSV or TSV, or as Turtle or N-Triples for a graph.")


def in_query_order(names: list[str], text: str) -> list[str]:
    """SELECT *'s variables in the order they first appear in the query (Oxigraph sorts them by name); read from
    its tokens, so that a comment or a string ('# SELECT * ...') is not taken for the query."""
    toks = [value for kind, value in tokens(text) if kind in ("word", "var", "other")]
    at = next((n for n, value in enumerate(toks) if value.upper() == "SELECT"), None)  # the query's own: the first
    if at is None:
        return names
    after = toks[at + 1:at + 3]
    if not after or after[0] != "*" and not (after[0].upper() in ("DISTINCT", "REDUCED") and after[1:] == ["*"]):
        return names
    first: dict[str, int] = {}
    for n, value in enumerate(toks):
        if value.startswith(("?", "$")):
            first.setdefault(value[1:], n)
    return sorted(names, key=lambda name: first.get(name, len(toks)))


def _capped(result: Result, fmt: Format | ResultFormat, limit: int, text: str = "") -> tuple[bytes, int | None]:
    """Serialize at most `limit` rows or triples (0: no limit); say where it was cut."""
    try:
        if isinstance(result, ox.QueryBoolean):
            return serialize(result, fmt), None
        if isinstance(result, ox.QuerySolutions):
            if not isinstance(fmt, ResultFormat):
                raise Refusal(406, "SELECT results are tables, not graphs")
            variables = [v.value for v in result.variables]
            names = in_query_order(variables, text)
            at = [variables.index(name) for name in names]  # by position: a lookup by name costs twice as much
            rows = [[row[i] for i in at] for row in islice(result, limit + 1 if limit else None)]
            cut = limit if limit and len(rows) > limit else None
            return results.write(fmt.name, names, rows[:limit] if cut else rows), cut
        if isinstance(fmt, ResultFormat):
            raise Refusal(406, "CONSTRUCT and DESCRIBE results are graphs, not result tables")
        triples = list(dict.fromkeys(islice(result, limit + 1 if limit else None)))
        cut = limit if limit and len(triples) > limit else None
        return fmt.serialize(triples[:limit] if cut else triples), cut
    except (OSError, RuntimeError, ValueError, SyntaxError) as exc:
        raise Refusal(400, f"The query could not be evaluated: {exc}") from exc


_FILM_WITH_ROLES = """PREFIX schema: <http://schema.org/>
SELECT ?film WHERE { ?film a schema:Movie ; schema:actor ?role . ?role schema:characterName ?character } LIMIT 1"""
_FILM_WITH_CAST = """PREFIX schema: <http://schema.org/>
SELECT ?film WHERE { ?film a schema:Movie ; schema:actor ?actor ; schema:director ?director } LIMIT 1"""
_FILM_WITH_ACTOR = """PREFIX schema: <http://schema.org/>
SELECT ?film WHERE { ?film a schema:Movie ; schema:actor ?actor } LIMIT 1"""
_ANY_FILM = "PREFIX schema: <http://schema.org/> SELECT ?film WHERE { ?film a schema:Movie } LIMIT 1"


def _first(release: Release, query: str) -> ox.NamedNode | ox.Literal | None:
    for row in release.select(query):
        term = row[0]
        if isinstance(term, ox.NamedNode | ox.Literal):
            return term
    return None


def _any(release: Release, predicate: ox.NamedNode) -> bool:
    if release.engine is not None:
        return bool(release.select(f"SELECT ?o WHERE {{ ?s <{predicate.value}> ?o }} LIMIT 1"))
    return next(release.store.quads_for_pattern(None, predicate, None), None) is not None


_EXAMPLES: dict[str, list[tuple[str, str]]] = {}  # by release directory: a few LIMIT 1 lookups, once per release


def examples(release: Release) -> list[tuple[str, str]]:
    """Example queries for the query page, about a film and a director of this release (so that they answer)."""
    found = _EXAMPLES.get(str(release.path))
    if found is None:
        if len(_EXAMPLES) >= 4:
            _EXAMPLES.clear()
        found = _EXAMPLES[str(release.path)] = _examples(release)
    return found


def _examples(release: Release) -> list[tuple[str, str]]:
    # each search only where its rarest pattern has a match at all: without one, the join scans every film (2 s on
    # the Wikipedia set)
    film = (_any(release, vocab.S.characterName) and _first(release, _FILM_WITH_ROLES)) or (
        _any(release, vocab.S.director) and _first(release, _FILM_WITH_CAST)) or (
        _any(release, vocab.S.actor) and _first(release, _FILM_WITH_ACTOR)) or _first(release, _ANY_FILM)
    name = _first(release, f"SELECT ?n WHERE {{ {film} <{vocab.S.name.value}> ?n }} LIMIT 1") if film else None
    directed = f"<{vocab.S.director.value}>/<{vocab.S.name.value}> ?n }} LIMIT 1"
    director = (film and _first(release, f"SELECT ?n WHERE {{ {film} {directed}")) or _first(
        release, f"SELECT ?n WHERE {{ ?film {directed}")  # the showcase film's director, else anyone's
    roles = film is not None and bool(release.select(
        f"SELECT ?r WHERE {{ {film} <{vocab.S.actor.value}>/<{vocab.S.characterName.value}> ?r }} LIMIT 1"))
    # the film by its IRI (a title can name several films), and by its title in a comment
    which = f"  VALUES ?film {{ {film} }}" + (f"  # {' '.join(name.value.split())}" if name is not None else "") + "\n"
    editorial = f"<{Minter(str(release.meta.get('base_iri') or '')).editorial().value}>"
    found = []
    if director is not None:
        found.append(("Films of a director", f"""PREFIX schema: <http://schema.org/>
SELECT ?film ?title WHERE {{
  ?film schema:director ?director ; schema:name ?title .
  ?director schema:name {director} .
}}"""))
    if film is not None:
        found.append(("Cast with the characters they play", f"""PREFIX schema: <http://schema.org/>
PREFIX kgv: <{vocab.KGV}>
# each source bills the cast in its own order (in its graph): a role's highest billing is the one listed
SELECT (MIN(?billed) AS ?billing) ?actorName ?character WHERE {{
{which}  ?film schema:actor ?role .
  ?role schema:actor/schema:name ?actorName ; schema:characterName ?character .
  OPTIONAL {{ ?role kgv:billing ?billed }}
}} GROUP BY ?actorName ?character ORDER BY ?billing ?actorName""") if roles else ("Cast of a film", f"""PREFIX schema: <http://schema.org/>
PREFIX kgv: <{vocab.KGV}>
# an actor is named directly, or through a cast role that has the billing (each source's own: the highest listed)
SELECT (MIN(?billed) AS ?billing) ?actorName WHERE {{
{which}  ?film schema:actor ?credit .
  ?credit schema:actor?/schema:name ?actorName .
  OPTIONAL {{ ?credit kgv:billing ?billed }}
}} GROUP BY ?actorName ORDER BY ?billing ?actorName"""))
        found.append(("Which source says what about a film", f"""SELECT ?source ?property ?value WHERE {{
{which}  GRAPH ?source {{ ?film ?property ?value }}
}} ORDER BY ?source ?property"""))
    found += [("Where the sources disagree", f"""PREFIX kgv: <{vocab.KGV}>
SELECT ?subject ?property ?value ?source WHERE {{
  ?c a kgv:Conflict ; kgv:conflictSubject ?subject ; kgv:conflictProperty ?property .
  GRAPH ?source {{ ?subject ?property ?value }}
  FILTER(?source != {editorial})
}}"""), ("Every spelling of every person", """PREFIX schema: <http://schema.org/>
SELECT ?name ?variant ?source WHERE {
  ?p a schema:Person ; schema:name ?name .
  GRAPH ?source { ?p schema:alternateName ?variant }
} ORDER BY ?name""")]
    return found
