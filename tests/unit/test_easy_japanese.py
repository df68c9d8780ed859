"""The やさしい日本語 lint of `flask catalog check` (decision 0069): sentence length, kanji
density and unchanged texts are measured for every easy text, and the committed baseline of
texts over the limits may only shrink."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.catalog import easy_japanese, load_catalog
from portal.catalog.easy_japanese import (
    BASELINE_NAME,
    baseline_yaml,
    easy_texts,
    measure,
    measure_all,
    problems,
    read_baseline,
)
from portal.catalog.translations import TextKey, catalog_folder
from portal.i18n import LANGUAGES
from portal.ui_texts import ui_texts, ui_translations
from tests.catalog_files import ENTRY, copy_catalog

KEY = TextKey("procedures/juminhyo-copy", "summary")


@pytest.fixture
def runner(tmp_path):
    return create_app("test", {"INSTANCE_PATH": str(tmp_path)}).test_cli_runner()


def test_a_sentence_is_cut_at_the_full_stops_and_counted_without_spaces():
    fifty = "あ" * 25 + " " + "い" * 25  # 50 characters and a space
    assert measure(KEY, f"{fifty}。みじかい。", None).longest_sentence == 50
    assert measure(KEY, f"{fifty}。", None).breaches == ()
    assert measure(KEY, f"{fifty}う。", None).breaches == ("sentence",)
    # ！ and ？ end a sentence too; so does a line break.
    assert measure(KEY, f"{'あ' * 30}！{'い' * 30}？{'う' * 30}\n{'え' * 30}", None).breaches == ()


def test_kanji_density_counts_ideographs_among_the_characters():
    # 8 kanji of 25 characters: 32 %.
    assert measure(KEY, "住民票写をください。です。住民票写をください。です", None).kanji_ratio == (
        pytest.approx(8 / 25)
    )
    dense = measure(KEY, "住民票写しの請求をする。住民票写しの請求をする。", None)
    assert dense.kanji_ratio == pytest.approx(12 / 24) and dense.breaches == ("kanji",)
    assert measure(KEY, "じゅうみんひょうの うつしを もらう。ください。", None).kanji_ratio == 0
    # A text of fewer than 20 characters is not measured for density (a label: 住民票の写しの請求).
    assert measure(KEY, "住民票写しの請求をする。", None).breaches == ()
    # Nor is a legal basis: the names of laws, as the resident must look them up.
    law = TextKey("procedures/x", "legal_basis")
    assert (
        measure(
            law, "住民基本台帳法第12条（本人等の請求による住民票の写し等の交付）", None
        ).breaches
        == ()
    )
    # Placeholders are not characters of the text.
    with_placeholder = measure(KEY, "%(label)sを入力", None)
    assert with_placeholder.kanji_ratio == 0  # 5 characters: too short to measure
    assert measure(KEY, "%(label)sを かいて ください", None).kanji_ratio == 0


def test_an_easy_text_the_same_as_the_standard_one_fails_unless_it_has_no_kanji():
    text = "住民票の写しをもらうための手続です。"
    assert measure(KEY, text, text).breaches == ("identical",)
    assert measure(KEY, f" {text}", text).identical
    assert not measure(KEY, "じゅうみんひょうを もらう", text).identical
    assert not measure(KEY, "はい", "はい").identical


def test_the_baseline_only_shrinks():
    long = measure(KEY, "あ" * 60, None)
    ok = measure(TextKey("ui", "はい"), "はい", None)
    assert problems([long, ok], {}) == [
        f"easy: {KEY}: sentence (longest sentence 60 characters, kanji 0%; "
        "limits: sentence 50, kanji 35%)"
    ]
    assert problems([long, ok], {KEY: {"sentence"}}) == []
    # A new breach of a listed text is a problem too.
    both = measure(KEY, "漢" * 60, None)
    assert problems([both], {KEY: {"sentence"}}) == [
        f"easy: {KEY}: kanji (longest sentence 60 characters, kanji 100%; "
        "limits: sentence 50, kanji 35%)"
    ]
    # A fixed text must leave the list.
    fixed = measure(KEY, "みじかい。", None)
    assert problems([fixed], {KEY: {"sentence"}}) == [
        f"easy: {KEY}: listed in {BASELINE_NAME} for sentence but no longer breaks it "
        "(remove it: the list only shrinks)"
    ]


def test_the_baseline_file_round_trips(tmp_path):
    measures = [measure(KEY, "漢" * 60, None), measure(TextKey("ui", "x"), "みじかい", None)]
    path = tmp_path / BASELINE_NAME
    path.write_text(baseline_yaml(measures), encoding="utf-8")
    assert read_baseline(path) == {KEY: {"sentence", "kanji"}}
    path.write_text(f"{KEY}: [long]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="give a list of rules"):
        read_baseline(path)


def test_every_kind_of_easy_text_is_measured():
    data = load_catalog(ENTRY)
    folder = catalog_folder(ENTRY) / "translations"
    easy, japanese = easy_texts(data, folder, (ui_texts(), ui_translations(LANGUAGES)))
    units = {key.unit for key in easy}
    assert "ui" in units  # the chrome's easy.po
    assert easy[KEY] == data.procedure("juminhyo-copy").easy_summary  # inline
    assert set(easy) <= set(japanese)
    measures = measure_all(easy, japanese)
    assert len(measures) == len(easy)


def test_the_check_prints_the_figures_and_fails_on_a_new_breach(runner, tmp_path):
    result = runner.invoke(args=["catalog", "check"])
    assert result.exit_code == 0, result.output
    assert "easy japanese: " in result.output and "longest sentence" in result.output
    entry = copy_catalog(tmp_path / "copy")
    folder = catalog_folder(entry)
    easy_file = folder / "translations" / "easy" / "procedures" / "juminhyo-copy.yaml"
    # The easy title replaced by the standard Japanese one: not rewritten.
    text = load_catalog(entry).procedure("juminhyo-copy").title
    lines = [
        line
        for line in easy_file.read_text(encoding="utf-8").splitlines()
        if not line.startswith("title:")
    ]
    lines.append(f"title: {{text: {text}, reviewed: false}}")
    easy_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["catalog", "check", str(entry)])
    assert result.exit_code == 1
    assert "easy: procedures/juminhyo-copy:title: identical (" in result.output
    # --write refuses to add it; --grow adds it, and the check passes.
    result = runner.invoke(args=["catalog", "easy-japanese", str(entry), "--write"])
    assert result.exit_code == 1 and "not written: 1 breaches" in result.output
    result = runner.invoke(args=["catalog", "easy-japanese", str(entry), "--write", "--grow"])
    assert result.exit_code == 0, result.output
    assert "procedures/juminhyo-copy:title: [identical]" in (folder / BASELINE_NAME).read_text()


def test_the_committed_baseline_lists_only_texts_over_the_limits():
    baseline = read_baseline(catalog_folder(ENTRY) / BASELINE_NAME)
    assert baseline  # the texts written before the lint
    assert all(rules <= set(easy_japanese.RULES) for rules in baseline.values())
