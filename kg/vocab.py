"""Every namespace and term kg uses, and the project's own small vocabulary."""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import NamedNode

# The official schema.org JSON-LD context expands to http://schema.org/, so the whole graph uses it:
# markup extracted from pages must round-trip to exactly the served triples.
SCHEMA = "http://schema.org/"
KGV = "https://films.example.org/vocab#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
SH = "http://www.w3.org/ns/shacl#"

PREFIXES: dict[str, str] = {
    "schema": SCHEMA,
    "kgv": KGV,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
    "prov": PROV,
    "dcterms": DCTERMS,
    "void": VOID,
}

# Prefixes a SPARQL query may use undeclared (as the Wikidata Query Service predefines its own); the release adds
# one per record kind (movie:, person:, ...), under its base IRI.
QUERY_PREFIXES: dict[str, str] = {**PREFIXES, "dct": DCTERMS}

_BY_NAMESPACE = sorted(((ns, prefix) for prefix, ns in PREFIXES.items()), key=lambda np: -len(np[0]))


def prefixed(iri: str) -> str:
    """An IRI in a known namespace as prefix:name (schema:Movie), else the IRI."""
    for ns, prefix in _BY_NAMESPACE:
        if iri.startswith(ns) and iri[len(ns):].replace("_", "a").isalnum():
            return f"{prefix}:{iri[len(ns):]}"
    return iri


# Namespaces whose terms are accepted without being declared in the release.
DECLARED_ELSEWHERE = (RDF, RDFS, XSD, OWL, PROV, DCTERMS, VOID)


class _NS:
    """Attribute access to terms of one namespace: `S.name` -> NamedNode."""

    def __init__(self, base: str) -> None:
        self._base = base
        self._made: dict[str, NamedNode] = {}

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> NamedNode:
        node = self._made.get(name)
        if node is None:
            node = self._made[name] = NamedNode(self._base + name)
        return node


S = _NS(SCHEMA)
K = _NS(KGV)
P = _NS(PROV)
DCT = _NS(DCTERMS)
V = _NS(VOID)

TYPE = NamedNode(RDF + "type")
LABEL = NamedNode(RDFS + "label")
COMMENT = NamedNode(RDFS + "comment")
SUBPROPERTY = NamedNode(RDFS + "subPropertyOf")
SUBCLASS = NamedNode(RDFS + "subClassOf")
RDF_PROPERTY = NamedNode(RDF + "Property")
RDFS_CLASS = NamedNode(RDFS + "Class")
IS_DEFINED_BY = NamedNode(RDFS + "isDefinedBy")
DOMAIN = NamedNode(RDFS + "domain")
RANGE = NamedNode(RDFS + "range")
OWL_ONTOLOGY = NamedNode(OWL + "Ontology")
OWL_SAME_AS = NamedNode(OWL + "sameAs")  # a retired (merged) IRI -> the entity it joined

XSD_STRING = NamedNode(XSD + "string")
XSD_DATE = NamedNode(XSD + "date")
XSD_DATETIME = NamedNode(XSD + "dateTime")
XSD_GYEAR = NamedNode(XSD + "gYear")
XSD_DURATION = NamedNode(XSD + "duration")
XSD_INTEGER = NamedNode(XSD + "integer")
XSD_DECIMAL = NamedNode(XSD + "decimal")
XSD_BOOLEAN = NamedNode(XSD + "boolean")
XSD_ANYURI = NamedNode(XSD + "anyURI")

VOCAB_IRI = NamedNode(KGV.rstrip("#"))


@dataclass(frozen=True)
class Term:
    """A term of the project vocabulary, declared in every release."""

    name: str
    label: str
    comment: str
    kind: str = "property"  # or "class"
    parent: str | None = None  # rdfs:subPropertyOf / rdfs:subClassOf (full IRI)
    range_of: tuple[str, ...] = ()  # schema.org properties whose values may be of this class (kg's extension)

    @property
    def iri(self) -> NamedNode:
        return NamedNode(KGV + self.name)


# Only for facts that schema.org has no term for.
TERMS: tuple[Term, ...] = (
    # schema.org's `character` expects a Person; a character is not one (Lee Woo-jin, Tom and Jerry), so kg
    # declares its own class and extends that property's range to it, as schema.org extensions may.
    Term("Character", "character", "A fictional character of a creative work (the value of schema:character in kg's "
         "graphs); not a real person.", "class",
         SCHEMA + "Thing", range_of=(SCHEMA + "character",)),
    Term("Conflict", "conflict", "Sources disagree on a property that has one true value.", "class"),
    Term("budget", "production budget", "The production budget of a film, as a monetary amount."),
    Term("aspectRatio", "aspect ratio", "The screen (aspect) ratio of a film, e.g. 2.35:1."),
    Term("colour", "colour", "Whether a film is in colour or black and white, as the source says."),
    Term("soundMix", "sound mix", "The sound mix of a film, e.g. Stereo."),
    Term("format", "format", "The gauge or recording format of a film, e.g. HD or 35mm.",
         parent=SCHEMA + "videoFormat"),
    Term("lightingDirector", "lighting director", "The person who directed a film's lighting.",
         parent=SCHEMA + "contributor"),
    Term("cinematographer", "cinematographer", "The director of photography of a film.",
         parent=SCHEMA + "contributor"),
    Term("executiveProducer", "executive producer", "An executive producer of a film.", parent=SCHEMA + "producer"),
    Term("soundDesigner", "sound", "The person credited for a film's sound.", parent=SCHEMA + "contributor"),
    Term("inAssociationWith", "in association with",
         "An organisation credited 'in association with' on a production.", parent=SCHEMA + "contributor"),
    Term("salesAgent", "international sales", "The company that handles a film's international sales.",
         parent=SCHEMA + "provider"),
    Term("domesticGross", "domestic gross", "Box office takings in the film's home market, as a monetary amount."),
    Term("worldwideGross", "worldwide gross", "Worldwide box office takings, as a monetary amount."),
    Term("billing", "billing", "The position of a cast member in the credits (1 = top billing)."),
    Term("castCategory", "cast category", "How the source classes a part: Leading, Supporting, Cameo..."),
    Term("storyDuration", "story duration", "How long the events of the story last (ISO 8601 duration)."),
    Term("featureNumber", "feature number", "Which feature film of its director this is (1 = debut)."),
    Term("formerEmployer", "former employer", "An organisation a person used to work for.",
         parent=SCHEMA + "alumniOf"),
    Term("conflictSubject", "conflict subject", "The entity the sources disagree about."),
    Term("conflictProperty", "conflict property", "The property the sources disagree on."),
    Term("conflictValue", "conflicting value", "One of the values the sources give."),
    Term("preferredValue", "preferred value", "The value curators chose among those the sources give."),
    Term("preferredSource", "preferred source", "The source document whose value curators chose."),
    Term("releaseOf", "release of", "The dataset a release publishes."),
    Term("inputDigest", "input digest", "SHA-256 of the source files and settings a release was built from."),
)
