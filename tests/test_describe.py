"""How entity pages word values: durations, amounts and numbers as a reader wants them."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg import vocab
from kg.serve import search, views, wording
from kg.serve.views import Fact
from kg.serve.wording import amount_text, value_text


@pytest.mark.parametrize(("lexical", "datatype", "text"), [
    ("PT1H49M", vocab.XSD_DURATION, "109 min"),
    ("PT45M", vocab.XSD_DURATION, "45 min"),
    ("PT1H30M15S", vocab.XSD_DURATION, "90 min 15 s"),
    ("P5D", vocab.XSD_DURATION, "5 days"),
    ("P1D", vocab.XSD_DURATION, "1 day"),
    ("P1Y2M", vocab.XSD_DURATION, "1 year 2 months"),
    ("PT0S", vocab.XSD_DURATION, "0 min"),
    ("not a duration", vocab.XSD_DURATION, "not a duration"),
    ("700000", vocab.XSD_DECIMAL, "700,000"),
    ("1234.5", vocab.XSD_DECIMAL, "1,234.5"),
    ("-1234567", vocab.XSD_INTEGER, "-1,234,567"),
    ("2", vocab.XSD_INTEGER, "2"),
    ("2009", vocab.XSD_GYEAR, "2009"),
    ("2010-09-02", vocab.XSD_DATE, "2 September 2010"),
    ("2010-09", ox.NamedNode(vocab.XSD + "gYearMonth"), "September 2010"),
    ("2010-13-02", vocab.XSD_DATE, "2010-13-02"),  # no such month: as it is
    ("2010-09-02+09:00", vocab.XSD_DATE, "2010-09-02+09:00"),
    ("2009-02-31", vocab.XSD_DATE, "2009-02-31"),  # no such day
    ("0000-10-01", vocab.XSD_DATE, "0000-10-01"),
])
def test_a_value_is_worded_for_readers(lexical, datatype, text):
    assert value_text(ox.Literal(lexical, datatype=datatype)) == text


def test_text_is_shown_as_written():
    assert value_text(ox.Literal("1000000 ways to die", language="en")) == "1000000 ways to die"


def test_a_monetary_amount_reads_as_currency_and_value():
    facts = [Fact(vocab.S.currency.value, ox.Literal("USD"), []),
             Fact(vocab.S.value.value, ox.Literal("700000", datatype=vocab.XSD_DECIMAL), [])]
    assert amount_text(facts) == "USD 700,000"


def test_a_node_without_value_and_currency_is_not_an_amount():
    assert amount_text([Fact(vocab.S.currency.value, ox.Literal("USD"), [])]) is None


def _rows(*names: str) -> list[dict[str, dict[str, str]]]:
    return [{"e": {"value": f"https://x.org/movie/{n}"}, "n": {"value": n}, "t": {"value": "http://schema.org/Movie"}}
            for n in names]


def test_a_search_puts_a_title_that_is_the_words_after_an_article_first():
    hits = search.search_hits(_rows("3 Godfathers", "Disco Godfather", "The Godfather Part II", "The Godfather"),
                                "godfather")
    assert hits[0].name == "The Godfather"


def test_a_search_puts_whole_words_before_parts_of_words():
    hits = search.search_hits(_rows("3 Godfathers", "The Black Godfather"), "godfather")
    assert [h.name for h in hits] == ["The Black Godfather", "3 Godfathers"]


def test_a_search_puts_shorter_spellings_first_among_equal_matches():
    hits = search.search_hits(_rows("The Black Godfather", "Disco Godfather"), "godfather")
    assert [h.name for h in hits] == ["Disco Godfather", "The Black Godfather"]


def test_an_article_searched_for_is_still_a_prefix():
    hits = search.search_hits(_rows("Thelma", "The Godfather"), "the")
    assert [h.name for h in hits] == ["The Godfather", "Thelma"]


def test_long_texts_from_one_source_keep_a_row_each_and_short_ones_share_one():
    src = ["https://x.org/source/a"]
    desc = "http://schema.org/description"
    facts = [Fact(desc, ox.Literal("A long summary of the film that goes on for more than sixty characters."), src),
             Fact(desc, ox.Literal("Another long summary of the same film, also more than sixty characters."), src),
             Fact("http://schema.org/genre", ox.Literal("drama"), src),
             Fact("http://schema.org/genre", ox.Literal("war"), src)]
    view = views.View("https://x.org/movie/m", "M", [], facts, {}, [], [], [])
    assert [(p.rsplit("/", 1)[-1], len(group)) for p, group in view.rows(facts)] == [
        ("description", 1), ("description", 1), ("genre", 2)]


@pytest.mark.parametrize(("stored", "shown"), [
    ("ko-latn", "ko-Latn"), ("en-us", "en-US"), ("zh-hant-tw", "zh-Hant-TW"), ("ko", "ko"),
    ("de-ch-1901", "de-CH-1901"), ("es-419", "es-419"), ("en-x-ab", "en-x-ab"),
])
def test_language_tags_are_shown_in_bcp47_case(stored, shown):
    assert wording.language_tag(stored) == shown
