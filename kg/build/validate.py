"""Checks a graph: the SHACL shapes in shapes/ (compiled to SPARQL, pyshacl for the rest) and schema.org's own
vocabulary."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import importlib.metadata
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH

from kg import vocab
from kg.build.mapping import Mapped
from kg.build.shacl import (
    REACHED,
    TARGETS,
    Compiler,
    Result,
    Uncompiled,
    class_types,
    closure,
    term_name,
    validate_store_partly,
)
from kg.build.sources import InputError, Problem
from kg.model import Origin
from kg.progress import bar
from kg.text import quote, shorten

VIOLATION = "Violation"
MESSAGE_CHARS = 500  # of a finding's message: pyshacl's may quote a whole value
WARNING = "Warning"
INFO = "Info"


class Finding(NamedTuple):
    """One validation result, located in the source files where possible (a tuple: a large graph makes hundreds
    of thousands, three times faster than a dataclass's)."""

    severity: str
    message: str
    focus: str
    path: str | None
    value: str | None
    origin: Origin | None
    check: str  # "shacl" or "schema.org"

    def __str__(self) -> str:
        where = str(self.origin) if self.origin else self.focus
        detail = f" (value: {shorten(self.value)})" if self.value else ""
        return f"{where}: {self.severity}: {shorten(self.message, MESSAGE_CHARS)}{detail}"


@dataclass
class Report:
    """The outcome of validating one graph."""

    findings: list[Finding] = field(default_factory=list)
    pyshacl_shapes: list[tuple[str, str]] = field(default_factory=list)  # (shape, why the compiler left it)
    _by_severity: dict[str, list[Finding]] = field(default_factory=dict, init=False, repr=False, compare=False)
    # the list `_by_severity` was sorted out of, and its length then (findings are added, never replaced in place)
    _sorted: tuple[list[Finding] | None, int] = field(default=(None, -1), init=False, repr=False, compare=False)

    @property
    def conforms(self) -> bool:
        return not self.of(VIOLATION)

    def of(self, severity: str) -> list[Finding]:
        """Findings of one severity (sorted out once: a large graph has hundreds of thousands of warnings)."""
        if self._sorted[0] is not self.findings or self._sorted[1] != len(self.findings):
            self._by_severity, self._sorted = {}, (self.findings, len(self.findings))
            for f in self.findings:
                self._by_severity.setdefault(f.severity, []).append(f)
        return list(self._by_severity.get(severity, ()))


class Shapes(NamedTuple):
    """The shapes graph, and a digest of the files it was parsed from and of what judged them SHACL (this module
    and pyshacl)."""

    graph: rdflib.Graph
    digest: str


def shapes_digest(files: Iterable[tuple[str, bytes]]) -> str:
    """A digest of the shapes files (name, bytes) and of what judges them SHACL (this module and pyshacl)."""
    h = hashlib.sha256(importlib.metadata.version("pyshacl").encode() + b"\0" + Path(__file__).read_bytes() + b"\0")
    for name, data in files:
        h.update(name.encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def shapes_files(shapes_dir: Path) -> list[tuple[str, bytes]]:
    """The shapes files as they are now (name, bytes), in order."""
    return [(path.name, path.read_bytes()) for path in sorted(shapes_dir.glob("*.ttl"))]


def load_shapes(shapes_dir: Path, judged: str | None = None) -> rdflib.Graph:
    """Every Turtle file in shapes/ as one shapes graph (`read_shapes`)."""
    return read_shapes(shapes_dir, judged).graph


def read_shapes(shapes_dir: Path, judged: str | None = None, root: Path | None = None) -> Shapes:
    """Every Turtle file in shapes/ as one shapes graph, with its digest; InputError when there is none to read, or
    one is not Turtle or not SHACL (a build without its shapes would publish what they forbid). Shapes of the digest
    `judged` (the digest of those a release was built with) are SHACL: they are not judged again.
    Problems name their files from `root` (the project's) when they are in it."""
    where = "set shapes_dir in kg.toml, KG_SHAPES_DIR or --shapes"
    own = Path(__file__).resolve().parents[2] / "shapes"  # kg's own, in the checkout it runs from
    if own.is_dir() and own != shapes_dir.resolve():
        where += f"; kg's own shapes for films are in {own}: copy them into the project or name that directory"
    if not shapes_dir.is_dir():
        # (where it looked in full: a directory that is not there may not be where the user thinks)
        raise InputError([Problem(str(shapes_dir), None, f"the shapes directory does not exist ({where})")],
                         "the shapes")
    files = sorted(shapes_dir.glob("*.ttl"))
    if not files:
        raise InputError([Problem(str(shapes_dir), None, f"no SHACL shapes (*.ttl) in the shapes directory ({where})")],
                         "the shapes")
    graph = rdflib.Graph()
    problems = []
    read = [(path.name, path.read_bytes()) for path in files]  # read once: what is parsed is what the digest says
    for path, (_, data) in zip(files, read, strict=True):
        try:
            graph.parse(data=data, format="turtle", publicID=path.absolute().as_uri())
        except (SyntaxError, ValueError, rdflib.exceptions.Error) as exc:  # rdflib's Turtle parser raises these
            text = str(exc)
            line = re.search(r"line (\d+)", text)
            why = re.search(r"Bad syntax \((.*?)\) at", text)  # rdflib's own words, without its dump of the input
            problems.append(Problem(str(path), int(line.group(1)) if line else None,
                                    f"the shapes file is not valid Turtle: {why.group(1) if why else text[:300]}"))
    if problems:
        raise _refused(root, problems)
    digest = shapes_digest(read)
    unfit = _unfit(graph, files, shapes_dir) if judged != digest else None
    if unfit is not None:
        raise _refused(root, [unfit])
    if judged != digest and (bad := _unknown_terms(graph, read, files) or
                             _bad_sparql(graph, read, files) + _python_patterns(graph, read, files)):
        raise _refused(root, bad)
    return Shapes(graph, digest)


def _refused(root: Path | None, problems: list[Problem]) -> InputError:
    """InputError for problems of the shapes, each file named from `root` when it is in it."""
    def shown(file: str) -> str:
        try:
            return str(Path(file).absolute().relative_to(root.absolute())) if root else file
        except ValueError:
            return file
    return InputError([dataclasses.replace(p, file=shown(p.file)) for p in problems], "the shapes")


_HTTPS_SCHEMA = "https://schema.org/"
_TERM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# SHACL terms rdflib's namespace lacks: SHACL Advanced Features' node expressions, and SHACL 1.2's drafts
_SHACL_MORE = frozenset({
    "values", "count", "min", "max", "sum", "if", "then", "else", "exists", "orderBy", "desc", "distinct", "limit",
    "offset", "groupConcat", "separator", "var", "findFirst", "matchAll", "memberShape", "minListLength",
    "maxListLength", "uniqueMembers", "targetWhere", "singleLine", "reifierShape", "reificationRequired",
    "nodeByExpression", "ShapeClass", "rootClass", "someValue", "Rule", "AbstractResult"})
_XSD_MORE = frozenset({"anyAtomicType", "anySimpleType", "anyType"})


def _unknown_terms(graph: rdflib.Graph, read: list[tuple[str, bytes]], files: list[Path]) -> list[Problem]:
    """A problem for each IRI of SHACL's, schema.org's or XML Schema's namespace the shapes name that is none of
    their terms (sh:minCoutn, schema:Movei, xsd:dat): a typo that would switch a check off without a word (pyshacl
    reads a constraint it does not know as none, a class no node has targets nothing) or fail every value."""
    schema = schema_vocabulary().terms
    xsd = str(rdflib.namespace.XSD)
    wrong: dict[str, str] = {}
    https: set[str] = set()
    for term in {t for triple in graph for t in triple if isinstance(t, rdflib.URIRef)}:
        iri = str(term)
        namespace, local = next(((ns, iri[len(ns):]) for ns in (str(SH), vocab.SCHEMA, _HTTPS_SCHEMA, xsd)
                                 if iri.startswith(ns)), ("", ""))
        if not _TERM_NAME.fullmatch(local):
            continue  # a namespace itself, a page under it (schema.org's docs): no term
        if namespace == str(SH) and term not in SH and local not in _SHACL_MORE:
            wrong[iri] = _did_you_mean("a SHACL term", iri, str(SH), [*SH.__annotations__, *_SHACL_MORE])
        elif namespace == vocab.SCHEMA and iri not in schema:
            wrong[iri] = _did_you_mean("a schema.org term", iri, vocab.SCHEMA, (t[len(vocab.SCHEMA):] for t in schema))
        elif namespace == _HTTPS_SCHEMA and vocab.SCHEMA + local in schema:
            https.add(iri)
        elif namespace == xsd and term not in rdflib.namespace.XSD and local not in _XSD_MORE:
            wrong[iri] = _did_you_mean("an XML Schema datatype", iri, xsd, rdflib.namespace.XSD.__annotations__)
    texts = [(path, data.decode("utf-8", "replace")) for path, (_, data) in zip(files, read, strict=True)]
    problems = []
    for iri, why in sorted(wrong.items()):
        path, line = _where_term(iri, texts, files)
        problems.append(Problem(str(path), line, f"the shapes name {why}: a typo would switch a check off"))
    if https:  # (one problem: a prefix declared as https, most often)
        path, line = _where_term(_HTTPS_SCHEMA, texts, files)  # its prefix's line
        if line is None:
            path, line = _where_term(min(https), texts, files)
        problems.append(Problem(str(path), line, f"the shapes name {len(https)} term(s) of <{_HTTPS_SCHEMA}> "
                                                 f"(<{min(https)}>, ...), which kg's data never has: its schema.org "
                                                 f"terms are <{vocab.SCHEMA}...> "
                                                 f"(declare schema: as <{vocab.SCHEMA}>)"))
    return problems


def _did_you_mean(what: str, iri: str, namespace: str, known: Iterable[str]) -> str:
    """Why an IRI of a namespace is not one of its terms, with the nearest one."""
    local = iri[len(namespace):]
    near = difflib.get_close_matches(local, list(known), n=1, cutoff=0.7)
    prefix = next((k for k, ns in vocab.PREFIXES.items() if ns == namespace), None) or \
        ("sh" if namespace == str(SH) else None)

    def shown(name: str) -> str:
        return f"{prefix}:{name}" if prefix else f"<{namespace}{name}>"

    return f"{shown(local)}, which is not {what}" + (f" (did you mean {shown(near[0])}?)" if near else "")


_PREFIX = re.compile(r"(?im)^\s*@?prefix\s+([\w.-]*):\s*<([^>]*)>")


def _where_term(iri: str, texts: list[tuple[Path, str]], files: list[Path]) -> tuple[Path, int | None]:
    """The file and line where an IRI is first written, in full or by a prefix the file declares."""
    for path, text in texts:
        forms = [f"<{re.escape(iri)}>"] + [
            rf"(?<![\w.:-]){re.escape(prefix)}:{re.escape(iri[len(ns):])}(?![\w-])"
            for prefix, ns in _PREFIX.findall(text) if iri.startswith(ns) and len(iri) > len(ns)]
        bare = _TURTLE_STRINGS.sub(  # strings and comments blanked (their lines kept): a term is not written there
            lambda m: m.group() if m.group().startswith("<") else re.sub(r"[^\n]", " ", m.group()), text)
        if m := re.search("|".join(forms), bare):
            return path, text.count("\n", 0, m.start()) + 1
    return files[0].parent, None


def _python_patterns(graph: rdflib.Graph, read: list[tuple[str, bytes]], files: list[Path]) -> list[Problem]:
    """A problem for each sh:pattern of a shape left to pyshacl that Python's re cannot read (XPath's \\p{L}, which
    the store's REGEX reads): pyshacl would stop the build at validation, naming neither file nor line. Each is
    located in the file that has it on its own, at the string that writes it."""
    left = Counter(_unreadable_patterns(graph))
    if not left:
        return []
    problems = []
    for path, (_, data) in zip(files, read, strict=True):
        text = data.decode("utf-8", "replace")
        own = rdflib.Graph().parse(data=data, format="turtle", publicID=path.absolute().as_uri())
        alone, lines = _unreadable_patterns(own), _string_lines(text)
        for pattern, why in sorted(alone):
            if left[(pattern, why)] > 0:
                left[(pattern, why)] -= 1
                at = lines.get(pattern, [])
                problems.append(_pattern_problem(path, at.pop(0) if at else None, pattern, why))
    for (pattern, why), count in sorted(left.items()):  # a shape written across files: where the string is
        for _ in range(count):
            where: list[tuple[Path, int | None]] = [
                (path, line) for path, (_, data) in zip(files, read, strict=True)
                for line in _string_lines(data.decode("utf-8", "replace")).get(pattern, [])]
            path, line = where[0] if where else (files[0].parent, None)
            problems.append(_pattern_problem(path, line, pattern, why))
    return problems


def _pattern_problem(path: Path, line: int | None, pattern: str, why: str) -> Problem:
    return Problem(str(path), line, f"sh:pattern {rdflib.Literal(pattern).n3()} is checked by pyshacl (its shape is "
                                    f"not compiled to SPARQL) and Python's re cannot read it ({why}): write it without "
                                    "XPath's \\p{...} classes, or as a shape kg compiles")


def _unreadable_patterns(graph: rdflib.Graph) -> list[tuple[str, str]]:
    """The patterns (and why) of the shapes pyshacl would check that Python's re cannot compile as pyshacl does
    (flags i and m alone); a deactivated shape, and what only it reaches, pyshacl never reads."""
    off = rdflib.Literal(True)
    todo = [u.shape for u in Compiler(graph, ox.Store()).plan()[1]]  # (compiling does not depend on the data)
    seen: set[rdflib.term.Node] = set()
    found = []
    while todo:
        node = todo.pop()
        if node in seen or graph.value(node, SH.deactivated) == off:
            continue
        seen.add(node)
        flags = str(graph.value(node, SH.flags) or "").lower()
        for pattern in graph.objects(node, SH.pattern):
            try:
                re.compile(str(pattern), (re.I if "i" in flags else 0) | (re.M if "m" in flags else 0))
            except re.error as exc:
                found.append((str(pattern), str(exc)))
        todo += [o for o in graph.objects(node, None) if not isinstance(o, rdflib.Literal)]
    return found


# a Turtle file's strings (long ones first), and what holds none: IRIs and comments
_TURTLE_STRINGS = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
                             r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
_ESCAPES = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _string_lines(text: str) -> dict[str, list[int]]:
    """The lines each string of a Turtle file is written at (its value, escapes read), in order."""
    found: dict[str, list[int]] = {}
    line, at = 1, 0
    for m in _TURTLE_STRINGS.finditer(text):
        line += text.count("\n", at, m.start())
        at = m.start()
        token = m.group()
        if token[0] not in "\"'":
            continue
        quote = 3 if token[:3] in ('"""', "\'\'\'") else 1
        value = _ESCAPES.sub(lambda e: chr(int(e.group(1) or e.group(2), 16)) if e.group(1) or e.group(2)
                             else _ECHAR.get(e.group(3), e.group()), token[quote:-quote])
        found.setdefault(value, []).append(line)
    return found


def _bad_sparql(graph: rdflib.Graph, read: list[tuple[str, bytes]], files: list[Path]) -> list[Problem]:
    """A problem for each SPARQL constraint whose query Oxigraph cannot parse, at the line it is wrong on (a typo
    there would otherwise stop the build when the check runs, naming neither file nor shape), and for each that
    would call SERVICE (kg fetches nothing from the network). Queries pyshacl is left to complete (prefixes of the
    shapes graph, pre-bound variables such as $PATH) and those of deactivated shapes are not judged here."""
    problems = []
    for constraint, select in sorted(graph.subject_objects(SH.select), key=str):
        shapes = list(graph.subjects(SH.sparql, constraint))
        holders = [node for shape in shapes for node in graph.subjects(SH.property, shape)]  # a property shape's
        if any(graph.value(node, SH.deactivated) == rdflib.Literal(True) for node in [constraint, *shapes, *holders]):
            continue
        query = str(select)
        pyshacls = graph.value(constraint, SH.prefixes) is not None or re.search(r"\$(?!this\b)\w+", query)
        service = _calls_service(query)
        if not service and pyshacls:
            continue
        if service:
            why: str | None = "it calls SERVICE, and kg fetches nothing from the network"
            at = None
        else:
            try:
                ox.Store().query(query)  # an empty store: nothing is evaluated but the parse (and no SERVICE)
                continue
            except SyntaxError as exc:
                at = re.match(r"error at (\d+):", str(exc))
                why = "it does not parse: " + re.sub(r"\[[^\]]*\](?:, )?", "", str(exc)).rstrip(", ")
        path, line = _where_written(query, int(at.group(1)) if at else 1, shapes[0] if shapes else None, graph, read,
                                    files)
        problems.append(Problem(str(path), line, f"a SPARQL constraint's query (sh:select) is refused: {why}"))
    return problems


# what may hold the word SERVICE without calling one: strings (long ones first), IRIs, comments
_NOT_KEYWORDS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
                           r'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
_SERVICE = re.compile(r"(?i)(?<![\w?$:])SERVICE\s+(?:SILENT\s+)?(?:<>|[?$]\w|[\w-]*:)")


def _calls_service(query: str) -> bool:
    """Whether a query calls SERVICE: the keyword before an IRI, a variable or a prefixed name, outside strings,
    IRIs and comments (a variable ?service or the class schema:Service is none)."""
    return _SERVICE.search(_NOT_KEYWORDS.sub(lambda m: "<>" if m.group().startswith("<") else " ", query)) is not None


def _where_written(query: str, line: int, shape: rdflib.term.Node | None, graph: rdflib.Graph,
                   read: list[tuple[str, bytes]], files: list[Path]) -> tuple[Path, int | None]:
    """The file and line of a query's `line`: where the query is written as it reads, else (Turtle escapes in it)
    the line that names its shape."""
    texts = [(path, data.decode("utf-8", "replace")) for path, (_, data) in zip(files, read, strict=True)]
    for path, text in texts:
        if (start := text.find(query)) >= 0:
            return path, text.count("\n", 0, start) + line
    return _where_named(shape, graph, texts, files)


def _where_named(shape: rdflib.term.Node | None, graph: rdflib.Graph, texts: list[tuple[Path, str]],
                 files: list[Path]) -> tuple[Path, int | None]:
    """The file and first line that names a shape (`_shape_name`), else the shapes directory."""
    _, needle = _shape_name(graph, shape)
    for path, text in texts:
        for n, written in enumerate(text.splitlines(), 1):
            if needle and all(w in written for w in needle):
                return path, n
    return files[0].parent, None


def _unfit(graph: rdflib.Graph, files: list[Path], shapes_dir: Path) -> Problem | None:
    """The problem of shapes that are Turtle but not SHACL: in the file that is wrong on its own, else in the
    directory (files that clash)."""
    objection = _not_shacl(graph)
    if objection is None:
        return None
    for path in files:
        alone = rdflib.Graph().parse(path, format="turtle")
        if (found := _not_shacl(alone)) is not None:
            what, needle = _shape_name(alone, found[0])
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            line = next((n for n, text in enumerate(lines, 1) if needle and all(w in text for w in needle)), None)
            return Problem(str(path), line, f"the shapes are not valid SHACL: {what}: {found[1]}")
    return Problem(str(shapes_dir), None,
                   f"the shapes are not valid SHACL: {_shape_name(graph, objection[0])[0]}: {objection[1]}")


def _not_shacl(graph: rdflib.Graph) -> tuple[rdflib.term.Node | None, str] | None:
    """(the shape, pyshacl's words) when a shape or one of its constraints is not what SHACL allows; else None."""
    # pyshacl is imported where it is used: a build whose shapes were checked before and are all compiled (an
    # edit's) never needs it, and its import is a tenth of a second of every build's start
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
    from pyshacl.errors import ReportableRuntimeError
    from pyshacl.shapes_graph import ShapesGraph

    shape = None
    try:
        for shape in ShapesGraph(graph).shapes:
            for p in dict.fromkeys(p for p, _ in graph.predicate_objects(shape.node) if p in ALL_CONSTRAINT_PARAMETERS):
                if p == SH.pattern:  # as the store reads it (XPath's \p{L}, which Python's re lacks, is SHACL's)
                    if (why := _bad_pattern(graph, shape.node)) is not None:
                        return shape.node, why
                    continue
                CONSTRAINT_PARAMETERS_MAP[p](shape)  # what pyshacl does to each constraint before it validates
    except ReportableRuntimeError as exc:
        return (shape.node if shape else None), str(exc.args[0] if exc.args else exc).strip().splitlines()[0]
    return None


def _bad_pattern(graph: rdflib.Graph, shape: rdflib.term.Node) -> str | None:
    """Why a shape's sh:pattern (with its sh:flags) is no regular expression SPARQL's REGEX takes, if it is not."""
    flags = graph.value(shape, SH.flags)
    for pattern in graph.objects(shape, SH.pattern):
        if not isinstance(pattern, rdflib.Literal) or (flags is not None and not isinstance(flags, rdflib.Literal)):
            odd = pattern if not isinstance(pattern, rdflib.Literal) else flags
            return f"sh:pattern and sh:flags are strings, not {odd.n3() if odd is not None else 'nothing'}"
        flag = f", {rdflib.Literal(str(flags)).n3()}" if flags is not None else ""
        asked = f"SELECT ?ok WHERE {{ BIND(REGEX(\"\", {rdflib.Literal(str(pattern)).n3()}{flag}) AS ?ok) }}"
        rows = list(ox.Store().query(asked))  # type: ignore[arg-type]
        if not rows or rows[0]["ok"] is None:  # REGEX's error: the pattern (or a flag) does not compile
            return (f"sh:pattern {rdflib.Literal(str(pattern)).n3()}{' with sh:flags ' + str(flags) if flags else ''}"
                    " is not a regular expression the store's SPARQL REGEX runs (it has XPath's syntax and flags, "
                    "and \\p{L}-like classes, but no back-references or \\p{Is...} blocks)")
    return None


def _shape_name(graph: rdflib.Graph, node: rdflib.term.Node | None) -> tuple[str, tuple[str, ...]]:
    """How a message names a shape, and the words that find its line: its IRI's last part, or its path's."""
    if isinstance(node, rdflib.URIRef):
        last = re.split(r"[#/]", str(node))[-1] or str(node)
        return f"shape <{last if str(node).startswith('file:') else node}>", (last,)
    path = graph.value(node, SH.path) if node is not None else None
    if isinstance(path, rdflib.URIRef):
        short = next((f"{k}:{path[len(ns):]}" for k, ns in vocab.PREFIXES.items() if path.startswith(ns)), f"<{path}>")
        return f"the property shape of {short}", ("path", re.split(r"[#/:]", str(path))[-1])
    return "a shape", ()


def to_rdflib(triples: Iterable[ox.Triple | ox.Quad]) -> rdflib.Graph:
    """The union of some quads as an rdflib Graph (via N-Triples: the fastest bridge)."""
    data = ox.serialize((ox.Triple(t.subject, t.predicate, t.object) for t in triples), format=ox.RdfFormat.N_TRIPLES)
    graph = rdflib.Graph()
    # Check the lexical forms as published: rdflib would otherwise rewrite e.g. "PT109M" as "PT1H49M".
    # (pyshacl sets this flag back to True after each run, so it is set here, per parse.)
    normalize, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
    try:
        graph.parse(data=data, format="nt")
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
    return graph


def _text(node: rdflib.term.Node | ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str | None:
    """How a node is shown in a finding: IRIs and literals by their value, blank nodes as _:id."""
    if node is None:
        return None
    if isinstance(node, rdflib.BNode | ox.BlankNode):
        return f"_:{node if isinstance(node, rdflib.BNode) else node.value}"
    if isinstance(node, ox.NamedNode | ox.Literal):
        return node.value
    return str(node)


def shacl(data: rdflib.Graph, shapes: rdflib.Graph, mapped: Mapped | None = None) -> list[Finding]:
    """Run pyshacl and turn its results into findings located in the source files."""
    from pyshacl import validate as shacl_validate  # (imported where it is used: see `_not_shacl`)

    try:
        _, results, _ = shacl_validate(data, shacl_graph=shapes, inference="none", advanced=True,
                                       allow_warnings=True)
    except re.error as exc:  # a pattern SPARQL's REGEX reads (\p{L}) in a shape the compiler left to pyshacl
        raise InputError([Problem("shapes", None, f"a shape that pyshacl checks (not compiled to SPARQL) has an "
                                           f"sh:pattern Python cannot read ({exc}): write it without "
                                           "XPath's \\p{...} classes there")], "the shapes") from exc
    assert isinstance(results, rdflib.Graph)
    findings = []
    for result in results.objects(None, SH.result):  # the report's results, not their sh:detail (a result's causes)
        focus = _text(results.value(result, SH.focusNode)) or ""
        path_node = results.value(result, SH.resultPath)
        path = str(path_node) if isinstance(path_node, rdflib.URIRef) else None
        severity = str(results.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        message = _text(results.value(result, SH.resultMessage)) or "does not conform"
        term = results.value(result, SH.value)
        if isinstance(term, rdflib.Literal):
            message += datatype_hint(str(results.value(result, SH.sourceConstraintComponent)),
                                     str(term.datatype or (vocab.RDF + "langString" if term.language
                                                           else vocab.XSD_STRING.value)))
        value = _text(term)
        origin = mapped.origin_of(focus, path, value) if mapped else None
        findings.append(Finding(severity, message, focus, path, value, origin, "shacl"))
    return sorted(findings, key=lambda f: (f.severity, f.focus, f.path or "", f.message, f.value or ""))


# ---- schema.org vocabulary ----

@dataclass(frozen=True)
class SchemaVocabulary:
    """The classes and properties of schema.org, with domains, ranges and the class hierarchy."""

    classes: frozenset[str]
    parents: dict[str, frozenset[str]]
    domains: dict[str, frozenset[str]]
    ranges: dict[str, frozenset[str]]
    terms: frozenset[str] = frozenset()  # every IRI the vocabulary describes (classes, properties, enumeration members)

    def ancestors(self, cls: str) -> set[str]:
        """A class and all its superclasses."""
        return closure(cls, self.parents)


@lru_cache(maxsize=1)
def schema_vocabulary() -> SchemaVocabulary:
    """schema.org release 30.0, shipped with kg (http://schema.org/ namespace)."""
    ref = Path(__file__).parent.parent / "data" / "schemaorg-current-http.ttl"
    classes: set[str] = set()
    props: set[str] = set()
    parents: dict[str, set[str]] = defaultdict(set)
    domains: dict[str, set[str]] = defaultdict(set)
    ranges: dict[str, set[str]] = defaultdict(set)
    rdfs_class, rdf_prop = vocab.RDFS + "Class", vocab.RDF + "Property"
    terms: set[str] = set()
    with ref.open("rb") as stream:
        for t in ox.parse(stream, format=ox.RdfFormat.TURTLE):
            s, p, o = t.subject.value, t.predicate.value, t.object.value
            terms.add(s)
            if p == vocab.RDF + "type":
                if o == rdfs_class or o.startswith(vocab.SCHEMA) and o.endswith("DataType"):
                    classes.add(s)
                if o == rdf_prop:
                    props.add(s)
                if o == vocab.SCHEMA + "DataType":
                    classes.add(s)
            elif p == vocab.RDFS + "subClassOf":
                parents[s].add(o)
            elif p == vocab.SCHEMA + "domainIncludes":
                domains[s].add(o)
            elif p == vocab.SCHEMA + "rangeIncludes":
                ranges[s].add(o)
    for prop in props:
        domains.setdefault(prop, set())
        ranges.setdefault(prop, set())
    return SchemaVocabulary(frozenset(classes), {k: frozenset(v) for k, v in parents.items()},
                            {k: frozenset(v) for k, v in domains.items()}, {k: frozenset(v) for k, v in ranges.items()},
                            frozenset(t for t in terms if t.startswith(vocab.SCHEMA)))


_S = vocab.SCHEMA
# literal datatype -> the schema.org data types it satisfies
LITERAL_TYPES: dict[str, tuple[str, ...]] = {
    vocab.XSD + "string": (_S + "Text",),
    vocab.RDF + "langString": (_S + "Text",),
    vocab.XSD + "date": (_S + "Date",),
    vocab.XSD + "gYear": (_S + "Date",),  # an ISO 8601 date with year precision
    vocab.XSD + "gYearMonth": (_S + "Date",),
    vocab.XSD + "dateTime": (_S + "DateTime",),
    vocab.XSD + "time": (_S + "Time",),
    vocab.XSD + "duration": (_S + "Duration",),
    vocab.XSD + "integer": (_S + "Integer", _S + "Number"),
    vocab.XSD + "decimal": (_S + "Number",),
    vocab.XSD + "double": (_S + "Number", _S + "Float"),
    vocab.XSD + "boolean": (_S + "Boolean",),
    vocab.XSD + "anyURI": (_S + "URL",),
}


# schema.org's own datatypes, as its JSON-LD context types every date: kg reads a date so typed as xsd
# (kg/build/datatypes.py); one left so is none
_MARKUP_DATES = frozenset({_S + "Date", _S + "DateTime", _S + "Time"})


def _values(iris: Iterable[str]) -> str:
    return " ".join(f"<{i}>" for i in sorted(iris)) or "<urn:kg:none>"


def order(finding: Finding) -> tuple[str, str, str, str, str]:
    """How a report lists its findings."""
    return finding.severity, finding.focus, finding.path or "", finding.message, finding.value or ""


def _declare(term: str) -> str:
    """How to declare the vocabulary of a term, if it has a namespace to declare (up to its last '/' or '#')."""
    if term.startswith(vocab.KGV):
        return " (kg's own vocabulary has no such term: docs/vocabulary.md lists them)"
    cut = max(term.rfind("#"), term.rfind("/"))
    return f" (if it is meant, add {quote(term[:cut + 1])} to `vocabularies` in kg.toml)" if cut > 8 else ""


def schema_terms_store(store: ox.Store, mapped: Mapped | None = None, threads: int = 2,
                       vocabularies: tuple[str, ...] = (), keep: Callable[[str], bool] = lambda _: True
                       ) -> list[Finding]:
    """Check every schema.org term of the store's default graph exists and is used as schema.org allows, for
    the subjects `keep` keeps.

    Terms of other namespaces must be kg's own, of a well-known vocabulary, or of one the project declares.
    """
    sv = schema_vocabulary()
    own = {t.iri.value: t for t in vocab.TERMS}
    elsewhere = (*vocab.DECLARED_ELSEWHERE, *vocabularies)

    def select(query: str) -> list[ox.QuerySolution]:
        return list(store.query(query))  # type: ignore[arg-type]

    def ancestors(cls: str) -> set[str]:
        term = own.get(cls)
        return sv.ancestors(cls) | (sv.ancestors(term.parent) if term and term.parent else set())

    typed = [r["t"] for r in select(f"SELECT DISTINCT ?t WHERE {{ {{ ?s a ?t }} UNION "
                                    f"{{ GRAPH <{REACHED}> {{ ?s a ?t }} }} }}")]
    used_types = {t.value for t in typed if isinstance(t, ox.NamedNode)}
    used_props = {r["p"].value for r in select("SELECT DISTINCT ?p WHERE { ?s ?p ?o }")}
    roles = {t for t in used_types if _S + "Role" in ancestors(t)}
    findings: list[Finding] = []

    def report(rows: Iterable[ox.QuerySolution], p: str, message: str) -> None:
        for r in rows:
            s = r["s"].value
            if not keep(s):
                continue
            origin = mapped.origin_of(s, p) if mapped else None
            obj = r["o"]
            findings.append(Finding(VIOLATION, message, s, p, str(obj), origin, "schema.org"))

    if any(isinstance(t, ox.Literal) for t in typed):  # (an RDF file's "a 'Action'"): no class at all
        report(select("SELECT ?s ?o WHERE { ?s a ?o FILTER(isLiteral(?o)) }"), vocab.RDF + "type",
               "a type is a class (an IRI), not a literal")
    for t in sorted(used_types):
        message = None
        if t.startswith(_S) and t not in sv.classes:
            message = f"schema.org has no class {quote(t[len(_S):])}"
        elif not t.startswith(_S) and t not in own and not t.startswith(elsewhere):
            message = f"the class <{shorten(t)}> belongs to no declared vocabulary{_declare(t)}"
        if message:
            report(select(f"SELECT ?s ?o WHERE {{ ?s a ?o VALUES ?o {{ <{t}> }} }}"), vocab.RDF + "type", message)
    queries: list[tuple[str, str, str]] = []  # (query, predicate, message or "" when the query says why)
    literal_types = ", ".join(f"<{d}>" for d in sorted(LITERAL_TYPES))
    for p in sorted(used_props - {vocab.RDF + "type"}):
        if not p.startswith(_S):
            if p not in own and not p.startswith(elsewhere):
                queries.append((f"SELECT ?s ?o WHERE {{ ?s <{p}> ?o }}", p,
                                f"the property <{shorten(p)}> belongs to no declared vocabulary{_declare(p)}"))
            continue
        if p not in sv.domains:
            queries.append((f"SELECT ?s ?o WHERE {{ ?s <{p}> ?o }}", p,
                            f"schema.org has no property {quote(p[len(_S):])}"))
            continue
        # one scan per property: each row says what is wrong (?why) with its subject, its value or both
        ok_subject = {t for t in used_types if ancestors(t) & sv.domains[p]}
        allowed = sv.ranges[p] | {t.iri.value for t in vocab.TERMS if p in t.range_of}
        datatypes = {dt for dt, kinds in LITERAL_TYPES.items() if any(sv.ancestors(k) & allowed for k in kinds)}
        ok_object = {t for t in used_types if ancestors(t) & allowed} | roles
        object_test = "false" if _S + "URL" in allowed else (
            f"NOT EXISTS {{ {{ ?o a ?t2 }} UNION {{ GRAPH <{REACHED}> {{ ?o a ?t2 }} }} "
            f"VALUES ?t2 {{ {_values(ok_object)} }} }}")
        queries.append((
            f"SELECT ?s ?o ?domain ?value WHERE {{ ?s <{p}> ?o "
            f"BIND(NOT EXISTS {{ ?s a ?t VALUES ?t {{ {_values(ok_subject)} }} }} && "
            f"NOT EXISTS {{ ?s a ?r VALUES ?r {{ {_values(roles)} }} ?x <{p}> ?s }} AS ?domain) "
            f"BIND(IF(isLiteral(?o), IF(datatype(?o) IN ({_values(datatypes).replace('> <', '>, <')}), \"\", "
            f"IF(datatype(?o) IN ({literal_types}), STR(datatype(?o)), \"other\")), "
            f"IF({object_test}, \"object\", \"\")) AS ?value) "
            f"FILTER(?domain || ?value != \"\") }}", p, ""))

    def run(item: tuple[str, str, str]) -> tuple[list[ox.QuerySolution], str, str]:
        return select(item[0]), item[1], item[2]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for rows, p, message in bar(pool.map(run, queries), len(queries), "validate", "properties"):
            if message:
                report(rows, p, message)
                continue
            name = p[len(_S):]
            for r in rows:
                if not keep(r["s"].value):
                    continue
                if r["domain"].value == "true":
                    typed = [q.object for q in store.quads_for_pattern(r["s"], vocab.TYPE, None, ox.DefaultGraph())]
                    types = sorted(c.value[len(_S):] for c in typed if c.value.startswith(_S))
                    kinds = " / ".join(types) or "node without a type"
                    domains = sorted(c[len(_S):] for c in sv.domains.get(p, ()) if c.startswith(_S))
                    where = f" (only on a {' or '.join(domains)}{_DOMAIN_HINTS.get(name, '')})" \
                        if 0 < len(domains) <= 4 else ""
                    if not typed and "/.well-known/genid/" not in r["s"].value:  # (a blank node's: no IRI typed)
                        where += "; nothing gives this node a type: is its IRI mistyped, or its type left out?"
                    report([r], p, f"schema.org does not allow {quote(name)} on a {kinds}{where}")
                why = r["value"].value
                if why == "object":
                    allowed = sv.ranges[p]  # kg's own range extensions never fail, so they need no mention
                    report([r], p, f"{quote(name)} must point to a {' or '.join(sorted(c[len(_S):] for c in allowed))}")
                elif why == "other" and r["o"].datatype.value in _MARKUP_DATES:  # what kg could not read as a date
                    report([r], p, f"{quote(r['o'].value)} is no date: a date is written 2021-03-11, 2021-03 or 2021 "
                                   f"(a time 2021-03-11T20:00:00) for {quote(name)}")
                elif why == "other":
                    report([r], p, f"schema.org does not allow a value of that datatype for {quote(name)}")
                elif why:
                    report([r], p, f"schema.org does not allow a {why.rsplit('#', 1)[-1]} value for {quote(name)}")
    return sorted(findings, key=order)


_DOMAIN_HINTS = {  # how a curator gives what schema.org allows only elsewhere
    "workPresented": ": give each screening an event of its own, of type ScreeningEvent, with super_event: the "
                     "festival",
}


def union_store(triples: Iterable[ox.Triple | ox.Quad]) -> ox.Store:
    """An in-memory store whose default graph holds the triples (the union of quads)."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    return store


def schema_terms(triples: Iterable[ox.Triple | ox.Quad], mapped: Mapped | None = None) -> list[Finding]:
    """The schema.org check of some triples (see schema_terms_store)."""
    return schema_terms_store(union_store(triples), mapped)


def pyshacl_shapes(shapes: rdflib.Graph, roots: Iterable[rdflib.term.Node]) -> rdflib.Graph:
    """The shapes graph that checks just some shapes: every statement reachable from them (their property
    shapes, lists, the shapes they refer to, ...), less the targets of the other shapes reached, which are
    checked on their own elsewhere."""
    roots = set(roots)
    implicit = class_types(shapes)
    graph = rdflib.Graph()
    for prefix, namespace in shapes.namespaces():
        graph.bind(prefix, namespace)
    seen: set[rdflib.term.Node] = set()
    todo = list(roots)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in shapes.predicate_objects(node):
            if node not in roots and (p in TARGETS or p == rdflib.RDF.type and o in implicit):
                continue
            graph.add((node, p, o))
            if not isinstance(o, rdflib.Literal):
                todo.append(o)
    return graph


def _display(shapes: rdflib.Graph, node: rdflib.term.Node) -> str:
    """How the build names a shape: kgs:MovieShape, <IRI>, or by its path or target when it has no IRI."""
    if isinstance(node, rdflib.URIRef):
        return shapes.namespace_manager.normalizeUri(node)
    if shapes.value(node, SH.path) is not None:
        return _shape_name(shapes, node)[0]
    targets = [f"{term_name(p)} {shapes.namespace_manager.normalizeUri(o)}" for p in sorted(TARGETS)
               for o in shapes.objects(node, p) if isinstance(o, rdflib.URIRef)]
    return "a blank node shape" + (f" ({', '.join(targets)})" if targets else "")


def datatype_hint(component: str, datatype: str) -> str:
    """What to add to a datatype constraint's message: the datatype the value has (its text may look right and its
    datatype not be: "2009-05-28" in JSON-LD markup, which schema.org's context types schema:Date, or a plain
    string)."""
    if not component.endswith("DatatypeConstraintComponent"):
        return ""
    return " (the value's datatype: " + ("none, a plain string" if datatype == vocab.XSD_STRING.value else
                                          vocab.prefixed(datatype)) + ")"


def finding(result: Result, mapped: Mapped | None) -> Finding:
    """A compiled check's result as a finding, located in the source files where possible."""
    focus = _text(result.focus) or ""
    value = _text(result.value)
    origin = mapped.origin_of(focus, result.path, value) if mapped else None
    message = result.message or f"does not conform ({result.component})"
    if isinstance(result.value, ox.Literal):
        message += datatype_hint(result.component, result.value.datatype.value)
    return Finding(result.severity, message, focus, result.path, value, origin, "shacl")


def uncompiled_findings(store: ox.Store, shapes: rdflib.Graph, uncompiled: list[Uncompiled],
                        mapped: Mapped | None) -> list[Finding]:
    """pyshacl's findings for the shapes the compiler left, on a copy of the store's default graph."""
    if not uncompiled:
        return []
    data = to_rdflib(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    return shacl(data, pyshacl_shapes(shapes, (u.shape for u in uncompiled)), mapped)


def fallback(shapes: rdflib.Graph, uncompiled: list[Uncompiled]) -> list[tuple[str, str]]:
    """The shapes pyshacl checks, as a report names them, with why."""
    return [(_display(shapes, u.shape), u.reason) for u in uncompiled]


def shacl_checked(store: ox.Store, shapes: rdflib.Graph,
                  mapped: Mapped | None = None) -> tuple[list[Finding], list[tuple[str, str]]]:
    """The SHACL findings of the store's default graph, and the shapes pyshacl checked, with why: every shape
    the compiler handles is run inside the store; pyshacl checks only the others, on a copy of the graph."""
    results, uncompiled = validate_store_partly(store, shapes)
    findings = [finding(r, mapped) for r in results] + uncompiled_findings(store, shapes, uncompiled, mapped)
    return sorted(findings, key=order), fallback(shapes, uncompiled)


def shacl_store(store: ox.Store, shapes: rdflib.Graph, mapped: Mapped | None = None) -> list[Finding]:
    """The SHACL findings of the store's default graph (see shacl_checked)."""
    return shacl_checked(store, shapes, mapped)[0]


def validate_graph(store: ox.Store, shapes: rdflib.Graph, mapped: Mapped | None = None,
                   vocabularies: tuple[str, ...] = ()) -> Report:
    """Validate the store's default graph against the shapes and schema.org's vocabulary."""
    findings, fallback = shacl_checked(store, shapes, mapped)
    return Report(findings + schema_terms_store(store, mapped, vocabularies=vocabularies), fallback)
