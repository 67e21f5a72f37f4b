"""Values and properties worded for readers: property labels, durations, language tags in their usual case, amounts."""

from __future__ import annotations

import datetime as dt
import re

import pyoxigraph as ox

from kg import vocab
from kg.literals import Duration
from kg.serve.views import Fact

_TERM_LABELS = {t.iri.value: t.label for t in vocab.TERMS}

_SPECIAL = {vocab.RDF + "type": "type", vocab.S.actor.value: "cast", vocab.S.musicBy.value: "music",
            vocab.S.inLanguage.value: "language"}

_OF_A_FILM = {vocab.S.author.value: "screenplay", vocab.S.dateCreated.value: "production year",
              vocab.S.datePublished.value: "release date", vocab.S.duration.value: "running time",
              vocab.S.inLanguage.value: "language", vocab.S.countryOfOrigin.value: "country"}

# ISO 639-1 codes (and a few of ISO 639-3: Cantonese, Zapotec, ...) a film's language is given in, with their
# English names
LANGUAGES = {
    "af": "Afrikaans", "ak": "Akan", "am": "Amharic", "ar": "Arabic", "as": "Assamese", "ay": "Aymara",
    "az": "Azerbaijani", "ba": "Bashkir", "be": "Belarusian", "bg": "Bulgarian", "bm": "Bambara", "bn": "Bengali",
    "bo": "Tibetan", "br": "Breton", "bs": "Bosnian", "ca": "Catalan", "ce": "Chechen", "ceb": "Cebuano",
    "cmn": "Mandarin", "co": "Corsican", "cs": "Czech", "cv": "Chuvash", "cy": "Welsh", "da": "Danish",
    "de": "German", "dz": "Dzongkha", "ee": "Ewe", "el": "Greek", "en": "English", "eo": "Esperanto",
    "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "ff": "Fula", "fi": "Finnish",
    "fo": "Faroese", "fr": "French", "fy": "Western Frisian", "ga": "Irish", "gd": "Scottish Gaelic",
    "gl": "Galician", "gn": "Guarani", "gu": "Gujarati", "ha": "Hausa", "haw": "Hawaiian", "he": "Hebrew",
    "hi": "Hindi", "hr": "Croatian", "ht": "Haitian Creole", "hu": "Hungarian", "hy": "Armenian",
    "id": "Indonesian", "ig": "Igbo", "is": "Icelandic", "it": "Italian", "iu": "Inuktitut", "ja": "Japanese",
    "jv": "Javanese", "ka": "Georgian", "kk": "Kazakh", "kl": "Greenlandic", "km": "Khmer", "kn": "Kannada",
    "ko": "Korean", "ku": "Kurdish", "ky": "Kyrgyz", "la": "Latin", "lb": "Luxembourgish", "lg": "Ganda",
    "ln": "Lingala", "lo": "Lao", "lt": "Lithuanian", "lv": "Latvian", "mg": "Malagasy", "mi": "Māori",
    "mk": "Macedonian", "ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi", "ms": "Malay", "mt": "Maltese",
    "my": "Burmese", "nan": "Min Nan", "nb": "Norwegian Bokmål", "ne": "Nepali", "nl": "Dutch",
    "nn": "Norwegian Nynorsk", "no": "Norwegian", "ny": "Chichewa", "oc": "Occitan", "om": "Oromo", "or": "Odia",
    "pa": "Punjabi", "pl": "Polish", "ps": "Pashto", "pt": "Portuguese", "qu": "Quechua", "rm": "Romansh",
    "ro": "Romanian", "ru": "Russian", "rw": "Kinyarwanda", "sa": "Sanskrit", "sc": "Sardinian", "sd": "Sindhi",
    "se": "Northern Sami", "si": "Sinhala", "sk": "Slovak", "sl": "Slovenian", "sm": "Samoan", "sn": "Shona",
    "so": "Somali", "sq": "Albanian", "sr": "Serbian", "st": "Sesotho", "su": "Sundanese", "sv": "Swedish",
    "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "tg": "Tajik", "th": "Thai", "ti": "Tigrinya", "tk": "Turkmen",
    "tl": "Tagalog", "tn": "Tswana", "to": "Tongan", "tr": "Turkish", "tt": "Tatar", "ug": "Uyghur",
    "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese", "wo": "Wolof", "xh": "Xhosa",
    "yi": "Yiddish", "yo": "Yoruba", "yue": "Cantonese", "zap": "Zapotec", "zh": "Chinese", "zu": "Zulu",
}
_SCRIPTS = {"latn": "Latin script", "hang": "Hangul", "hans": "simplified", "hant": "traditional", "cyrl": "Cyrillic",
            "jpan": "Japanese script", "kore": "Korean script"}


def language_name(tag: str) -> str:
    """A language tag in words, for readers: 'ko' -> 'Korean', 'zh-Hant' -> 'Chinese (traditional)'; an unknown
    language keeps its tag."""
    parts = tag.lower().split("-")
    name = LANGUAGES.get(parts[0])
    if name is None:
        return language_tag(tag)
    script = next((_SCRIPTS[p] for p in parts[1:] if p in _SCRIPTS), None)
    return f"{name} ({script})" if script else name


def property_label(iri: str, film: bool = False) -> str:
    """A readable label for a property: 'countryOfOrigin' -> 'country of origin'; a film's in film words."""
    if film and iri in _OF_A_FILM:
        return _OF_A_FILM[iri]
    if iri in _SPECIAL:
        return _SPECIAL[iri]
    if iri in _TERM_LABELS:
        return _TERM_LABELS[iri]
    local = iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return "".join(" " + c.lower() if c.isupper() else c for c in local).strip()


_UNITS = ("year", "month", "day")


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def language_tag(tag: str) -> str:
    """A language tag in BCP 47's conventional case (the store lower-cases tags): ko-latn -> ko-Latn, en-us -> en-US."""
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(out) > 1 and len(out[-1]) == 1:  # after a singleton (x-, u-): private or extension subtags as they are
            out.append(part.lower())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def value_text(value: ox.Literal) -> str:
    """A literal as a reader wants it: '109 min' for PT1H49M, '5 days' for P5D, '700,000' for 700000."""
    kind = value.datatype
    if kind == vocab.XSD_DURATION:
        d = Duration.parse(value.value)
        if d is None:
            return value.value
        dated = [_plural(n, u) for n, u in zip((d.years, d.months, d.days), _UNITS, strict=True) if n]
        timed = []
        if d.hours or d.minutes:
            timed.append(f"{d.hours * 60 + d.minutes} min")
        if d.seconds:
            timed.append(f"{d.seconds} s")
        return ("-" if d.negative else "") + (" ".join(dated + timed) or "0 min")
    if kind in (vocab.XSD_INTEGER, vocab.XSD_DECIMAL):
        whole, dot, fraction = value.value.partition(".")
        if whole.lstrip("-+").isdigit():
            return f"{int(whole):,}" + dot + fraction
    if kind == vocab.XSD_DATE or kind.value == vocab.XSD + "gYearMonth":
        return _date_text(value.value)
    return value.value


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?")


def _date_text(text: str) -> str:
    """A date as a reader writes it: '14 October 2009' for 2009-10-14, 'October 2009' for 2009-10 (any other form,
    with a time zone, or no such day, as it is)."""
    found = _DAY.fullmatch(text)
    if found is None:
        return text
    try:
        day = dt.date(int(found[1]), int(found[2]), int(found[3] or 1))
    except ValueError:  # 2009-02-31, year 0
        return text
    month = f"{_MONTHS[day.month - 1]} {day.year}"
    return f"{day.day} {month}" if found[3] is not None else month


def amount_text(facts: list[Fact]) -> str | None:
    """A monetary amount node's value and currency as one text ('USD 700,000'), if it is one; where sources give
    it otherwise, each amount as its sources give it, one after the other ('USD 100 / KRW 200')."""
    values = [(f.value, f.sources) for f in facts if f.predicate == vocab.S.value.value
              and isinstance(f.value, ox.Literal)]
    currencies = [(f.value, f.sources) for f in facts if f.predicate == vocab.S.currency.value
                  and isinstance(f.value, ox.Literal)]
    if not values or not currencies:
        return None
    pairs: dict[str, None] = {}
    for source in sorted({g for _, sources in values + currencies for g in sources}):
        value = next((v for v, sources in values if source in sources), values[0][0])
        currency = next((c for c, sources in currencies if source in sources), currencies[0][0])
        pairs[f"{currency.value} {value_text(value)}"] = None
    return " / ".join(pairs) or f"{currencies[0][0].value} {value_text(values[0][0])}"  # (told by no source)
