"""Static checks on a SPARQL request before evaluation: nothing a query says may reach outside the dataset.

SERVICE is found without lexing the query: any `service` that Oxigraph's grammar could read as the keyword (what
follows it is what must follow the keyword; nothing before it makes it part of a longer name) is refused, so a
text no lexer agrees on (`e:x\\#`, `?a<1`) cannot hide it. A small lexer (comments, strings and IRIs skipped as
units) finds the update operations and the FROM / FROM NAMED clauses, and checks the graphs named there. The
executors evaluating queries cannot open a network socket at all (`kg.serve.sandbox`): this check is the first barrier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kg.errors import Refusal

_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f\u2040]+)
  | (?P<pname>[A-Za-z][\w.-]*?:[\w.:%-]*|:[\w.:%-]*)
  | (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][\w-]*)
  | (?P<other>\S)
""", re.VERBOSE)

UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
MAX_QUERY_CHARS = 64 * 1024
MAX_LOOKUP_CHARS = 4096
# Oxigraph's parser and evaluator recurse once per level: 5,000 nested braces or 800 OPTIONALs in a row overflow an
# executor's stack, so the guard refuses well before that
MAX_NESTING = 200  # braces, parentheses and brackets inside one another
MAX_CHAIN = 300  # OPTIONAL, MINUS, UNION and property-path operators in one query
_CHAINED_WORDS = {"OPTIONAL", "MINUS", "UNION"}
_CHAINED_MARKS = {"/", "|", "^"}
MAX_OPERATORS = 2000  # expression operators: 12,000 `&&` or `!` overflow it too
_OPERATOR_MARKS = set("!&|+-*/=<>")


_GAP = r"(?:\s|\#[^\n\r]*)*"  # what the grammar lets stand between two tokens: white space and comments
# after the keyword: [SILENT] then an IRI, a variable or a prefixed name (kept loose: more is refused, never less)
_SERVICE = re.compile(r"service(?=" + _GAP + r"(?:silent" + _GAP + r")?(?:<|[?$]|[^\s<>{}()\[\];,\"'\#?$]*:))",
                      re.IGNORECASE)
_NAME_RUN = re.compile(r"\w+$")


def calls_a_service(text: str) -> bool:
    """Whether Oxigraph could read a SERVICE call anywhere in `text`, whatever the context."""
    return service_at(text) is not None


def service_at(text: str) -> int | None:
    """Where in `text` Oxigraph could first read a SERVICE call, whatever the context; None if nowhere."""
    for m in _SERVICE.finditer(text):
        before = text[:m.start()]
        run = _NAME_RUN.search(before[-256:])
        if run is not None:  # letters right before: part of a variable, a prefixed name or a language tag?
            before = before[:len(before) - len(run.group())]
            if before[-1:] in ("?", "$", ":", "@"):
                continue  # `?myservice`, `e:webservice`: the name is read to its end, so this is no keyword
        elif before[-1:] in ("?", "$", ":", "@", "#", "/", "<"):
            continue  # a variable, a local name, or inside a comment, IRI or path
        return m.start()
    return None


def tokens(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) for each token, comments dropped."""
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind != "comment":
            yield kind, m.group()


def check(text: str, graphs: frozenset[str], known: dict[str, str] | None = None) -> None:
    """Refuse updates, SERVICE, and FROM / FROM NAMED graphs outside the dataset, before any evaluation (`known`:
    the prefixes a query may use undeclared)."""
    if len(text) > MAX_QUERY_CHARS:
        raise Refusal(413, f"The query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}.")
    if (at := service_at(text)) is not None:
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        raise Refusal(400, "SERVICE is not allowed: this endpoint never makes requests to other servers. The query "
                           f"says {text[at:at + 7]!r} at line {line}, column {column}, where SPARQL could read the "
                           "keyword; it is refused there even in a comment or a string (write it otherwise there, "
                           "or give a prefix another name).")
    prefixes: dict[str, str] = dict(known or {})
    toks = list(tokens(text))
    _check_depth(text, toks)
    for n, (kind, value) in enumerate(toks):
        word = value.upper() if kind == "word" else ""
        if word == "PREFIX" and n + 2 < len(toks) and toks[n + 2][0] == "iri":
            prefixes[toks[n + 1][1].rstrip(":")] = toks[n + 2][1][1:-1]
        elif word in UPDATE_WORDS and _starts_operation(toks, n):
            raise Refusal(403, "This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, ...) "
                               "is not accepted.")
        elif word == "FROM":
            m = n + 1
            if m < len(toks) and toks[m][0] == "word" and toks[m][1].upper() == "NAMED":
                m += 1
            if m >= len(toks):
                continue
            graph = _iri(toks[m], prefixes)
            if graph is None or graph not in graphs:
                shown = toks[m][1][:200]
                raise Refusal(400, f"FROM names {shown}, which is not a graph of this dataset; "
                                   "this endpoint never loads data from elsewhere.")


def names_graphs(text: str) -> bool:
    """Whether a query names its own dataset (FROM or FROM NAMED)."""
    return any(kind == "word" and value.upper() == "FROM" for kind, value in tokens(text))


def _check_depth(text: str, toks: list[tuple[str, str]]) -> None:
    """Refuse a query nested deeper, or chained longer, than the evaluator can take."""
    depth = deepest = chain = operators = 0
    for kind, value in toks:
        if kind == "other":
            if value in "{([":
                depth += 1
                deepest = max(deepest, depth)
            elif value in "})]":
                depth -= 1
            chain += value in _CHAINED_MARKS
            operators += value in _OPERATOR_MARKS
        elif kind == "word" and value.upper() in _CHAINED_WORDS:
            chain += 1
    if deepest > MAX_NESTING:
        raise Refusal(400, f"The query nests {deepest} levels of braces, parentheses or brackets; the limit is "
                           f"{MAX_NESTING}.")
    operators = max(operators, sum(map(text.count, "!&|")))  # counted in the raw text too: no token hides them
    if operators > MAX_OPERATORS:
        raise Refusal(400, f"The query has {operators} operator signs; the limit is {MAX_OPERATORS}.")
    if chain > MAX_CHAIN:
        raise Refusal(400, f"The query chains {chain} OPTIONAL, MINUS, UNION or property-path operators; the limit "
                           f"is {MAX_CHAIN}.")


def is_lookup(text: str) -> bool:
    """A query whose cost the data bounds: one triple pattern with a constant subject, or DESCRIBE of IRIs.

    `[PREFIX p: <iri>]* SELECT (?v+ | *) [WHERE] { <s> ?p ?o [.] } [LIMIT n]` and `DESCRIBE <iri>`. It reads at
    most the statements about one node, so it can run without a deadline process. (Several IRIs are not a lookup:
    700 of them overflowed a server thread's stack.)
    """
    if len(text) > MAX_LOOKUP_CHARS:
        return False
    toks = [t for t in tokens(text)]
    n = 0
    while n + 2 < len(toks) and toks[n][0] == "word" and toks[n][1].upper() == "PREFIX":
        if toks[n + 1][0] != "pname" or toks[n + 2][0] != "iri":
            return False
        n += 3
    body = toks[n:]
    words = [v.upper() for k, v in body if k == "word"]
    if body and words[:1] == ["DESCRIBE"]:
        return len(body) == 2 and body[1][0] in ("iri", "pname")
    if not body or words[:1] != ["SELECT"]:
        return False
    m = 1
    while m < len(body) and (body[m][0] == "var" or body[m][1] == "*"):
        m += 1
    if m == 1:
        return False
    if m < len(body) and body[m][0] == "word" and body[m][1].upper() == "WHERE":
        m += 1
    rest = body[m:]
    if len(rest) >= 2 and rest[-2][0] == "word" and rest[-2][1].upper() == "LIMIT" and rest[-1][1].isdigit():
        rest = rest[:-2]
    if rest[-2:-1] == [("other", ".")]:
        rest = rest[:-2] + rest[-1:]
    shape = [k if k in ("iri", "pname", "var") else v for k, v in rest]
    return shape in (["{", "iri", "var", "var", "}"], ["{", "pname", "var", "var", "}"])


def _iri(token: tuple[str, str], prefixes: dict[str, str]) -> str | None:
    kind, value = token
    if kind == "iri":
        return value[1:-1]
    if kind == "pname":
        prefix, _, local = value.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else None
    return None


def _starts_operation(toks: list[tuple[str, str]], n: int) -> bool:
    """An update keyword begins an operation: at the start, or after ';' or a prologue declaration."""
    if n == 0:
        return True
    prev_kind, prev = toks[n - 1]
    if prev == ";":
        return True
    # after "PREFIX p: <iri>" or "BASE <iri>"
    if prev_kind == "iri" and n >= 2:
        before = toks[n - 2]
        if before[0] == "word" and before[1].upper() == "BASE":
            return True
        if n >= 3 and toks[n - 3][0] == "word" and toks[n - 3][1].upper() == "PREFIX":
            return True
    return False
