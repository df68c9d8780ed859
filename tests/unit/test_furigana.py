"""Readings for ふりがな (decision 0069): the analyser's readings aligned to the kanji, the
catalog's table for いすみ市's own place names, numbers and Latin letters untouched, one result
per text, and the page transform that leaves inputs, scripts and marked elements alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import furigana
from portal.catalog.translations import catalog_folder
from portal.furigana import (
    READINGS_NAME,
    Reader,
    ReadingsError,
    align,
    annotate_html,
    annotate_utf8,
    check_overrides,
    read_overrides,
    strip_ruby,
)
from tests.catalog_files import ENTRY

TABLE = read_overrides(catalog_folder(ENTRY) / READINGS_NAME)


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader(TABLE)


def ruby(reader: Reader, text: str) -> list[tuple[str, str]]:
    return [(piece, reading) for piece, reading in reader.pieces(text) if reading]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("いすみ市岬町椎木", [("市", "し"), ("岬町", "みさきまち"), ("椎木", "しいぎ")]),
        ("大原町と夷隅町", [("大原町", "おおはらまち"), ("夷隅町", "いすみまち")]),
        ("岬町和泉の日在", [("岬町", "みさきまち"), ("和泉", "いずみ"), ("日在", "ひあり")]),
        ("万木城", [("万木", "まんぎ"), ("城", "しろ")]),
        ("長者町駅", [("長者町", "ちょうじゃまち"), ("駅", "えき")]),
    ],
)
def test_the_city_s_place_names_read_as_the_catalog_says(reader, text, expected):
    assert ruby(reader, text) == expected


def test_the_analyser_alone_reads_some_of_them_wrong():
    """Why the table exists: without it, 岬町 is みさきちょう and 椎木 しいき."""
    plain = Reader({})
    readings = dict(ruby(plain, "岬町椎木"))
    assert readings.get("岬町") != "みさきまち" or readings.get("椎木") != "しいぎ"


def test_okurigana_stay_outside_the_ruby(reader):
    assert reader.pieces("受け取る") == [("受", "う"), ("け", None), ("取", "と"), ("る", None)]
    assert ruby(reader, "妊娠の届出") == [("妊娠", "にんしん"), ("届出", "とどけで")]
    assert align("受け取る", "うけとる") == [("受", "う"), ("け", None), ("取", "と"), ("る", None)]
    # A reading that does not fit the kana of the word covers the whole word.
    assert align("受け取る", "じゅりょう") == [("受け取る", "じゅりょう")]


def test_numbers_latin_and_kana_take_no_ruby(reader):
    text = "ABCと123、マイナンバーカード"
    assert reader.pieces(text) == [(text, None)] or not ruby(reader, text)
    assert "123" in "".join(p for p, _ in reader.pieces("123円"))
    assert ruby(reader, "4月") == [("月", "がつ")]
    # A counter whose reading depends on its number is read with it.
    assert ruby(reader, "4月1日") == [("月", "がつ"), ("1日", "ついたち")]
    assert ruby(reader, "2人で") == [("2人", "ふたり")]
    assert ruby(reader, "15日") == [("日", "にち")]


def test_a_reading_given_in_brackets_is_not_given_twice(reader):
    assert reader.pieces("本文（ほんぶん）へ すすむ") == [
        ("本文（ほんぶん）", None),
        ("へ すすむ", None),
    ]


def test_each_text_is_read_once(reader, monkeypatch):
    calls = []
    words = furigana._Analyser.words
    monkeypatch.setattr(
        furigana._Analyser, "words", classmethod(lambda cls, t: calls.append(t) or words(t))
    )
    fresh = Reader(TABLE)
    first = fresh.html("住民票の写しを請求する")
    assert fresh.html("住民票の写しを請求する") == first
    assert len(calls) == 1
    assert first == (
        '<span class="visually-hidden furigana-source">住民票の写しを請求する</span>'
        '<span class="furigana" aria-hidden="true"><ruby>住民票<rt>じゅうみんひょう</rt></ruby>'
        "の<ruby>写<rt>うつ</rt></ruby>しを<ruby>請求<rt>せいきゅう</rt></ruby>する</span>"
    )
    # Spaces around the text stay outside; a text with nothing to read comes back as it was.
    assert fresh.html("\n  住民票\n").startswith("\n  <span") and fresh.html(
        "\n  住民票\n"
    ).endswith("</span>\n")
    assert fresh.html("本文（ほんぶん）") == "本文（ほんぶん）"


def test_the_page_transform_touches_text_nodes_only(reader):
    page = (
        "<html><head><title>妊娠の届出</title></head><body>"
        '<h1 class="heading">妊娠の届出</h1>'
        '<input name="n" value="岬 花子"><textarea name="t">大原の住所</textarea>'
        '<select><option value="a">本人</option></select>'
        '<dd class="summary-list__value no-ruby">岬 <b>花子</b><span>住所</span></dd>'
        '<p aria-label="届出">届出</p><script>var x = "<p>届出</p>";</script>'
        "<!-- 届出 --><ruby>漢字<rt>かんじ</rt></ruby></body></html>"
    )
    out = annotate_html(page, reader)
    assert (
        '<h1 class="heading"><span class="visually-hidden furigana-source">妊娠の届出</span>'
        '<span class="furigana" aria-hidden="true"><ruby>妊娠<rt>にんしん</rt></ruby>の' in out
    )
    for untouched in (
        "<title>妊娠の届出</title>",
        'value="岬 花子"',
        '<textarea name="t">大原の住所</textarea>',
        '<option value="a">本人</option>',
        '<dd class="summary-list__value no-ruby">岬 <b>花子</b><span>住所</span></dd>',
        'aria-label="届出"',
        'var x = "<p>届出</p>";',
        "<!-- 届出 -->",
        "<ruby>漢字<rt>かんじ</rt></ruby>",
    ):
        assert untouched in out
    assert strip_ruby(out) == strip_ruby(page)  # nothing but the readings was added


def test_the_transform_skips_elements_in_any_case_and_marked_ones_to_their_end(reader):
    """Decision 0093: the page is worked on as UTF-8 bytes, tag names match in any case (ASCII,
    as HTML reads them), a marked element ends at its own closing tag (nested ones of its name
    counted, in any case), and the text right after a skipped element takes ruby."""
    ruby = reader.html("届出")
    page = (
        "<P>届出</P><SCRIPT>x = '<b>届出</b>';</Script >届出<Pre>届出</PRE>"
        '<DIV class="x no-ruby">届出<div>届出<br/></DIV>届出</Div>届出<!-- 届出 -->'
        "<p>abc</p><p>すみ</p><p>届出</p>"
        '<span class="no-ruby">届出<b>届出</b>'
    )
    expected = (
        f"<P>{ruby}</P><SCRIPT>x = '<b>届出</b>';</Script >{ruby}<Pre>届出</PRE>"
        f'<DIV class="x no-ruby">届出<div>届出<br/></DIV>届出</Div>{ruby}<!-- 届出 -->'
        f"<p>abc</p><p>すみ</p><p>{ruby}</p>"
        '<span class="no-ruby">届出<b>届出</b>'
    )
    assert ruby != "届出"
    assert annotate_html(page, reader) == expected
    assert annotate_utf8(page.encode(), reader) == expected.encode()
    assert strip_ruby(expected) == page


def test_the_reading_table_is_checked(tmp_path: Path):
    assert check_overrides(TABLE) == []
    assert check_overrides({"みさき": "みさき"}) == [
        "'みさき': a word of the table must contain a kanji"
    ]
    assert check_overrides({"岬町": "ミサキマチ"}) == [
        "岬町: the reading must be hiragana ('ミサキマチ')"
    ]
    path = tmp_path / READINGS_NAME
    path.write_text("岬町: misaki\n", encoding="utf-8")
    with pytest.raises(ReadingsError, match="must be hiragana"):
        read_overrides(path)


# --- a kept page's ruby around its slots (portal.kept_pages, decision 0099) -------------------


def test_a_kept_pages_ruby_is_given_around_its_slots(reader):
    page = (
        '<p>住所</p><input value="',
        "form.csrf",
        '"><span class="no-ruby">',
        "header.name",
        " さん</span><div>\n  ",
        "content.fields",
        "\n</div>",
    )
    found = furigana.annotate_around_slots(page, reader)
    assert found is not None
    parts, fragments = found
    assert parts[1::2] == page[1::2]  # the markers where they were
    assert "<ruby>" in parts[0] and "<rt>" in parts[0]  # the page's own text took ruby
    assert fragments == {"content.fields"}  # only the slot standing alone between two tags


def test_a_slot_inside_a_text_node_leaves_the_page_transformed_whole(reader):
    page = ("<p>全", "content.total", "ステップ中</p>")
    assert furigana.annotate_around_slots(page, reader) is None
