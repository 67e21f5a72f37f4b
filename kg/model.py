"""Records read from source files, and the table of record kinds and their fields."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple

from kg.errors import Where
from kg.vocab import KGV, PROV, SCHEMA

EDITORIAL = "editorial"  # the pseudo-source for the curators' own statements


class Origin(NamedTuple):
    """Where a record or value was written: file, line (or row), record key and field."""

    file: str
    line: int
    record: str
    field: str | None = None

    @property
    def where(self) -> Where:
        return Where(self.file, self.line or None)  # 0: a statement of an RDF file (no line)

    def __str__(self) -> str:
        return f"{self.where} [{self.record}{'.' + self.field if self.field else ''}]"


@dataclass(frozen=True, slots=True)
class LangText:
    """A string with an optional BCP 47 language tag."""

    text: str
    lang: str | None = None

    def __reduce__(self) -> tuple[type[LangText], tuple[str, str | None]]:
        # pickled as the call that makes it: half the cost of a frozen dataclass's state, both ways (the tapes)
        return type(self), (self.text, self.lang)


@dataclass(frozen=True, slots=True)
class Money:
    """A monetary amount in an ISO 4217 currency."""

    amount: Decimal
    currency: str

    def __reduce__(self) -> tuple[type[Money], tuple[Decimal, str]]:
        return type(self), (self.amount, self.currency)  # as LangText's


@dataclass(frozen=True, slots=True)
class Rating:
    """A rating on a scale (best: its top, 5 when not given, as schema.org reads it), and how many ratings an
    aggregate one averages."""

    value: Decimal
    best: Decimal | None = None
    count: int | None = None

    def __reduce__(self) -> tuple[type[Rating], tuple[Decimal, Decimal | None, int | None]]:
        return type(self), (self.value, self.best, self.count)  # as LangText's


@dataclass(frozen=True, slots=True)
class CastEntry:
    """An actor playing a character (by key and/or by the name the source prints), with the billing."""

    actor: str
    character: str | None
    character_name: LangText | None
    billing: int | None = None
    category: str | None = None  # e.g. Leading, Supporting, Cameo

    def __reduce__(self) -> tuple[type[CastEntry], tuple[Any, ...]]:
        return type(self), (self.actor, self.character, self.character_name, self.billing, self.category)  # (LangText)


@dataclass(frozen=True, slots=True)
class CrewEntry:
    """A crew credit that schema.org has no property for: a person and the department as the source words it."""

    person: str
    department: str

    def __reduce__(self) -> tuple[type[CrewEntry], tuple[str, str]]:
        return type(self), (self.person, self.department)  # as LangText's


class Value(NamedTuple):
    """One value of one field, with where it was written."""

    field: str
    value: Any  # str | LangText | dt.date | int | Decimal | Money | CastEntry | bool
    origin: Origin


@dataclass(frozen=True, slots=True)
class Claim:
    """What one source document says about one record."""

    source: str
    values: tuple[Value, ...]
    origin: Origin


@dataclass(frozen=True, slots=True)
class Record:
    """An entity (film, person, ...) or a source document, with the claims made about it."""

    kind: str
    key: str
    claims: tuple[Claim, ...]
    origin: Origin
    detailed: bool = True  # each value has its own origin (hand-written files); bulk rows share the record's
    formerly: tuple[tuple[str, Origin], ...] = ()  # keys this record had before (renamed): they redirect to it

    def values(self, field: str) -> list[Value]:
        """Every value of `field` across all claims."""
        return [v for c in self.claims for v in c.values if v.field == field]

    def names(self) -> tuple[tuple[str, str], ...]:
        """What this record's claims name, as (kind, key): their source documents (not the curators') and the
        records their values refer to (a cast entry's actor and character, a crew entry's person)."""
        out: dict[tuple[str, str], None] = {}
        table = naming(self.kind)
        for claim in self.claims:
            if claim.source != EDITORIAL:
                out[("source", claim.source)] = None
            for value in claim.values:
                if how := table[value.field]:
                    out.update(dict.fromkeys(named(how, value.value)))
        return tuple(out)

    def written_in(self) -> str:
        """The file the record was written in (its origin's)."""
        return self.origin.file

    def names_any(self, wanted: Container[tuple[str, str]]) -> bool:
        """Whether the record names any of `wanted` (`names`)."""
        return any(n in wanted for n in self.names())

    def names_along(self) -> frozenset[tuple[str, str]] | None:
        """What this record and the others read back with it name, when known at once (a superset of `names()`
        that one look checks for a batch of records); None for a record read afresh."""
        return None

    def named_by(self, value: Value) -> tuple[tuple[str, str], ...]:
        """What one of this record's values names, as (kind, key) (see `names`)."""
        how = naming(self.kind)[value.field]
        return named(how, value.value) if how else ()


def named(how: str, v: Any) -> tuple[tuple[str, str], ...]:
    """What a value names, given what its field's values name (`naming`)."""
    if how == "cast":
        return (("person", v.actor), ("character", v.character)) if v.character else (("person", v.actor),)
    if how == "crew":
        return (("person", v.person),)
    return ((how, v),)


class _Naming(dict[str, str]):
    """By field of one kind: what its values name, worked out the first time a field is asked for."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def __missing__(self, name: str) -> str:
        field = KINDS[self.kind].field(name)
        if field is None:
            raise KeyError(f"{self.kind} has no field {name!r}")
        how = self[name] = (field.ref or "") if field.vtype == "ref" else field.vtype if field.vtype in (
            "cast", "crew") else ""
        return how


_NAMING: dict[str, _Naming] = {}


def naming(kind: str) -> dict[str, str]:
    """By field of a kind: what its values name: "cast", "crew", the kind of record a reference names, or "" (none);
    a KeyError for a field the kind does not have."""
    found = _NAMING.get(kind)
    if found is None:
        found = _NAMING[kind] = _Naming(kind)
    return found


@dataclass(frozen=True)
class Field:
    """A field a curator may write, its value type and the RDF it becomes."""

    name: str
    vtype: str  # see sources.PARSERS
    predicate: str | None
    many: bool = False
    ref: str | None = None  # record kind for vtype "ref"
    inverse: str | None = None  # also state <object> inverse <subject>
    doc: str = ""
    choices: tuple[str, ...] = ()  # for vtype "type"


@dataclass(frozen=True)
class Kind:
    """A record kind: the YAML section it lives in, its rdf:types and its fields."""

    name: str
    section: str
    types: tuple[str, ...]
    fields: tuple[Field, ...]
    has_claims: bool = True  # sources describe themselves instead
    default_type: str | None = None  # schema.org class when the record has no `type` field

    def field(self, name: str) -> Field | None:
        """The field called `name`, if this kind has one."""
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}


S = SCHEMA


def _people(name: str, predicate: str, doc: str) -> Field:
    return Field(name, "ref", predicate, many=True, ref="person", doc=doc)


COMMON: tuple[Field, ...] = (
    Field("name", "name", S + "name", doc="Preferred name (top level) or the spelling this source uses (in a claim)"),
    Field("alternate_name", "ltext", S + "alternateName", many=True, doc="Other names, language-tagged if needed"),
    Field("description", "ltext", S + "description", many=True, doc="What the source says it is"),
    Field("same_as", "url", S + "sameAs", many=True, doc="The same entity elsewhere (Wikidata, IMDb, ...)"),
    Field("image", "url", S + "image", many=True, doc="An image URL"),
    Field("url", "url", S + "url", doc="The entity's own web page"),
)

MOVIE = Kind("movie", "movies", (S + "Movie",), COMMON + (
    Field("genre", "text", S + "genre", many=True, doc="Genre, as the source words it"),
    Field("keywords", "text", S + "keywords", many=True, doc="Subjects and themes"),
    _people("director", S + "director", "Director(s)"),
    _people("screenplay", S + "author", "Screenplay writer(s)"),
    _people("editor", S + "editor", "Film editor(s)"),
    _people("producer", S + "producer", "Producer(s)"),
    _people("executive_producer", KGV + "executiveProducer", "Executive producer(s)"),
    _people("cinematographer", KGV + "cinematographer", "Director(s) of photography"),
    _people("lighting_director", KGV + "lightingDirector", "Lighting director(s)"),
    _people("composer", S + "musicBy", "Composer(s) of the original music"),
    _people("sound", KGV + "soundDesigner", "Sound credit(s)"),
    _people("actor", S + "actor", "Actors with no known character"),
    Field("cast", "cast", S + "actor", many=True, doc="{actor: person key, character: character key, "
          "character_name: as printed}"),
    Field("character", "ref", S + "character", many=True, ref="character", doc="Characters of the story"),
    Field("production_company", "ref", S + "productionCompany", many=True, ref="organization"),
    Field("in_association_with", "ref", KGV + "inAssociationWith", many=True, ref="organization"),
    Field("sales_agent", "ref", KGV + "salesAgent", many=True, ref="organization", doc="International sales"),
    Field("running_time", "minutes", S + "duration", doc="Minutes, e.g. 109 (PT1H49M); or 1h 49m, 1:49, PT1H49M"),
    Field("production_year", "year", S + "dateCreated", doc="Year of production, e.g. 2009"),
    Field("release_date", "date", S + "datePublished", doc="Release date, YYYY-MM-DD"),
    Field("country", "ref", S + "countryOfOrigin", many=True, ref="country", doc="Country of production"),
    Field("language", "lang", S + "inLanguage", many=True, doc="BCP 47 code, e.g. ko"),
    Field("format", "text", KGV + "format", doc="Gauge or format, e.g. HD"),
    Field("aspect_ratio", "text", KGV + "aspectRatio", doc="e.g. '2.35:1' (quote it)"),
    Field("colour", "text", KGV + "colour", doc="e.g. Color, Black and white"),
    Field("sound_mix", "text", KGV + "soundMix", doc="e.g. Stereo"),
    Field("budget", "money", KGV + "budget", doc="{amount: 700000, currency: USD}"),
    Field("status", "text", S + "creativeWorkStatus", doc="e.g. post-production"),
    Field("story_duration", "duration", KGV + "storyDuration", doc="ISO 8601, e.g. P6D"),
    Field("feature_number", "int", KGV + "featureNumber", doc="1 for the director's debut feature"),
    Field("crew", "crew", S + "contributor", many=True, doc="{person: person key, department: as the source words "
          "it}, for credits with no field of their own"),
    Field("domestic_gross", "money", KGV + "domesticGross", doc="Box office in the home market, {amount, currency}"),
    Field("worldwide_gross", "money", KGV + "worldwideGross", doc="Worldwide box office, {amount, currency}"),
    Field("award", "ltext", S + "award", many=True, doc="An award won, as the source words it, e.g. 'Best Director, "
          "Busan 2019'"),
    Field("aggregate_rating", "rating", S + "aggregateRating", doc="The average of many ratings: {value: 7.8, best: "
          "10, count: 1520}"),
))

PERSON = Kind("person", "people", (), COMMON + (
    Field("type", "type", None, doc="Person (default), or PerformingGroup for a group or a duo credited as one",
          choices=("Person", "PerformingGroup")),
    Field("birth_date", "date_or_year", S + "birthDate", doc="YYYY-MM-DD or a year"),
    Field("job_title", "text", S + "jobTitle", many=True, doc="e.g. singer"),
    Field("former_employer", "ref", KGV + "formerEmployer", many=True, ref="organization"),
    Field("works_for", "ref", S + "worksFor", many=True, ref="organization"),
    Field("award", "ltext", S + "award", many=True, doc="An award won, as the source words it, e.g. 'Best Director, "
          "Busan 2019'"),
), default_type="Person")

CHARACTER = Kind("character", "characters", (KGV + "Character",), COMMON)

ORGANIZATION = Kind("organization", "organizations", (S + "Organization",), COMMON + (
    _people("founder", S + "founder", "Founder(s)"),
    Field("location", "text", S + "location", doc="City or place, as text"),
))

COUNTRY = Kind("country", "countries", (S + "Country",), COMMON + (
    Field("code", "text", S + "identifier", doc="ISO 3166-1 alpha-2 code, e.g. KR"),
))

EVENT = Kind("event", "events", (), COMMON + (
    Field("type", "type", None, doc="Event, Festival or ScreeningEvent",
          choices=("Event", "Festival", "ScreeningEvent")),
    Field("start_date", "date", S + "startDate"),
    Field("end_date", "date", S + "endDate"),
    Field("location", "text", S + "location", doc="Place, as text"),
    Field("super_event", "ref", S + "superEvent", ref="event", inverse=S + "subEvent", doc="The festival"),
    Field("work_presented", "ref", S + "workPresented", many=True, ref="movie", doc="Films screened"),
    Field("organizer", "ref", S + "organizer", many=True, ref="organization"),
), default_type="Event")

WORK = Kind("work", "works", (), COMMON + (
    Field("type", "type", None, doc="CreativeWork (default) or Article", choices=("CreativeWork", "Article")),
    _people("author", S + "author", "Author(s)"),
    Field("about", "ref", S + "about", many=True, ref="movie"),
    Field("text", "ltext", S + "text", doc="The full text"),
    Field("citation", "ref", S + "citation", many=True, ref="movie", doc="Films the work refers to"),
), default_type="CreativeWork")

SOURCE = Kind("source", "sources", (PROV + "Entity",), (
    Field("type", "type", None, doc="What kind of document",
          choices=("CreativeWork", "NewsArticle", "Review", "DiscussionForumPosting", "WebPage", "Article", "Dataset",
                   "Book", "SocialMediaPosting")),
    Field("name", "name", S + "name", doc="Title or headline"),
    Field("alternative_headline", "text", S + "alternativeHeadline"),
    Field("publisher", "ref", S + "publisher", ref="organization"),
    Field("author", "ref", S + "author", many=True, ref="person"),
    Field("author_organization", "ref", S + "author", many=True, ref="organization"),
    Field("credit", "text", S + "creditText", doc="Who the document credits for it"),
    Field("date_published", "date", S + "datePublished"),
    Field("date_created", "date", S + "dateCreated"),
    Field("url", "url", S + "url"),
    Field("quote", "ltext", S + "text", doc="A short quote from the document"),
    Field("quoted_in", "ref", None, ref="source", inverse=PROV + "wasQuotedFrom",
          doc="Another source that reproduces this one"),
    Field("about", "ref", S + "about", many=True, ref="movie"),
    Field("item_reviewed", "ref", S + "itemReviewed", ref="movie", inverse=S + "review", doc="For reviews"),
    Field("review_body", "ltext", S + "reviewBody", doc="For reviews"),
    Field("review_rating", "rating", S + "reviewRating", doc="For reviews: the reviewer's rating, {value: 4, best: 5}"),
    Field("genre", "text", S + "genre", doc="e.g. press kit"),
    Field("language", "lang", S + "inLanguage", many=True),
), has_claims=False, default_type="CreativeWork")

KINDS: dict[str, Kind] = {k.name: k for k in (MOVIE, PERSON, CHARACTER, ORGANIZATION, COUNTRY, EVENT, WORK, SOURCE)}
SECTIONS: dict[str, Kind] = {k.section: k for k in KINDS.values()}

# Properties that have one true value: different values from different sources are a conflict.
SINGLE_VALUED: frozenset[str] = frozenset({
    S + "duration", S + "dateCreated", S + "datePublished", S + "birthDate", S + "startDate", S + "endDate",
    KGV + "storyDuration", KGV + "featureNumber", KGV + "aspectRatio", S + "identifier", S + "value", S + "currency",
    S + "ratingValue", S + "bestRating", S + "ratingCount",
})
# the single-valued properties of the node a field's value is (a budget's amount and currency, a rating's figures)
PART_PREDICATES: dict[str, tuple[str, ...]] = {"money": (S + "value", S + "currency"),
                                               "rating": (S + "ratingValue", S + "bestRating", S + "ratingCount")}
