"""Missing translations of the catalog (issue 23, decision 0060): `flask catalog check` counts
them per language and fails on a missing English/やさしい日本語 text that the committed baseline
(catalog/translations-missing.yaml) does not list, and on a listed text that is no longer
missing, so the list only shrinks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from portal import create_app
from portal.catalog import load_catalog
from portal.catalog.translations import (
    BASELINE_NAME,
    TextKey,
    baseline_yaml,
    catalog_folder,
    catalog_texts,
    check_catalog_translations,
    missing_report,
)
from portal.i18n import LANGUAGES
from portal.ui_texts import po_file, ui_texts, ui_translations
from tests.catalog_files import ENTRY, copy_catalog, edit, procedure_file, small_catalog

UNIT = "procedures/juminhyo-copy"


@pytest.fixture
def runner(tmp_path):
    return create_app("test", {"INSTANCE_PATH": str(tmp_path)}).test_cli_runner()


def chrome():
    return ui_texts(), ui_translations(LANGUAGES)


def with_baseline(entry: Path, with_chrome: bool = True) -> Path:
    """Write the baseline of the catalog at `entry` as it stands (what --write --grow does)."""
    folder = catalog_folder(entry)
    ui = chrome() if with_chrome else None
    report = missing_report(load_catalog(entry), folder / "translations", LANGUAGES, ui)
    (folder / BASELINE_NAME).write_text(baseline_yaml(report), encoding="utf-8")
    return entry


def translate(entry: Path, lang: str, entries: dict) -> None:
    file = catalog_folder(entry) / "translations" / lang / f"{UNIT}.yaml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")


def test_the_committed_catalog_passes_and_the_check_prints_counts_per_language(runner, tmp_path):
    report, problems = check_catalog_translations(
        load_catalog(ENTRY), catalog_folder(ENTRY), LANGUAGES, chrome()
    )
    assert problems == []
    # juminhyo-copy, tenshutsu and hoiku-riyou are translated into English (decisions 0066, 0060)
    # and their texts are read from the files: none of them is missing.
    translated = {UNIT, "procedures/tenshutsu", "procedures/hoiku-riyou"}
    assert report.total > 0
    assert not [key for key in report.missing["en"] if key.unit in translated]
    assert set(report.missing) == set(LANGUAGES) - {"ja"}  # counted: the five more too (0071)
    result = runner.invoke(args=["catalog", "check"])
    assert result.exit_code == 0, result.output
    for lang in report.missing:  # gated or not, every language is counted
        count = len(report.missing[lang])
        assert f"translations {lang}: {count} of {report.total} texts missing" in result.output
    # A copy of the catalog (with its list) named on the command line is checked alike.
    result = runner.invoke(args=["catalog", "check", str(copy_catalog(tmp_path / "copy"))])
    assert result.exit_code == 0, result.output
    assert f"translations en: {len(report.missing['en'])} of" in result.output


def test_every_kind_of_resident_facing_text_is_counted():
    texts = catalog_texts(load_catalog(ENTRY))
    paths = {str(key) for key in texts}
    assert texts[TextKey(UNIT, "title")] == "住民票の写し等の交付請求"
    assert texts[TextKey(UNIT, "steps.applicant.fields.applicant_name.label")] == "氏名"
    assert f"{UNIT}:steps.applicant.fields.applicant_name.hint" in paths
    assert f"{UNIT}:steps.applicant.fields.relationship.options.self.label" in paths
    assert texts[TextKey("procedures/jidofuyo-genkyo", "steps.income.checks.0.message")].startswith(
        "面談の希望日は"
    )
    assert "life-events/moving:label" in paths
    assert any(path.startswith("life-events/moving:screening.") for path in paths)
    assert "catalog:departments.shimin.name" in paths


def test_a_new_untranslated_text_fails_the_check(runner, tmp_path):
    entry = with_baseline(small_catalog(tmp_path))
    assert runner.invoke(args=["catalog", "check", str(entry)]).exit_code == 0

    def add_field(data: dict) -> None:
        data["steps"][0]["fields"].append(
            {"name": "note", "type": "text", "label": "備考", "required": False}
        )

    edit(procedure_file(entry, "juminhyo-copy"), add_field)
    result = runner.invoke(args=["catalog", "check", str(entry)])
    assert result.exit_code == 1
    for lang in ("en", "easy"):
        assert (
            f"{lang}: {UNIT}:steps.applicant.fields.note.label: missing translation"
            in result.output
        )

    # Translated in both languages, the check passes again without touching the baseline.
    for lang, text in (("en", "Note"), ("easy", "ほかに つたえたい こと")):
        translate(
            entry, lang, {"steps.applicant.fields.note.label": {"text": text, "reviewed": True}}
        )
    result = runner.invoke(args=["catalog", "check", str(entry)])
    assert result.exit_code == 0, result.output


def test_a_baseline_entry_no_longer_missing_fails_the_check(runner, tmp_path):
    entry = with_baseline(small_catalog(tmp_path))
    path = "steps.applicant.fields.applicant_name.label"
    translate(entry, "en", {path: {"text": "Name", "reviewed": False}})
    result = runner.invoke(args=["catalog", "check", str(entry)])
    assert result.exit_code == 1
    assert f"en: {UNIT}:{path}: listed in {BASELINE_NAME} but no longer missing" in result.output

    with_baseline(entry)  # the list shrinks: the check passes, the text counts as unreviewed
    result = runner.invoke(args=["catalog", "check", str(entry)])
    assert result.exit_code == 0, result.output
    folder = catalog_folder(entry) / "translations"
    report = missing_report(load_catalog(entry), folder, LANGUAGES, chrome())
    assert TextKey(UNIT, path) in report.unreviewed["en"]
    assert TextKey(UNIT, path) not in report.missing["en"]


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ({"steps.nowhere.title": {"text": "x", "reviewed": True}}, "no such text"),
        ({"title": {"text": "x"}}, "give {text: <non-empty>, reviewed: true|false}"),
        ({"title": {"text": " ", "reviewed": True}}, "give {text: <non-empty>"),
        ({"summary": {"text": "x", "reviewed": True}}, "already translated inline"),
    ],
)
def test_a_wrong_translation_entry_fails_the_check(runner, tmp_path, entries, problem):
    entry = with_baseline(small_catalog(tmp_path))
    translate(entry, "en", entries)
    result = runner.invoke(args=["catalog", "check", str(entry)])
    assert result.exit_code == 1
    assert problem in result.output


def test_a_language_the_portal_does_not_offer_is_refused(runner, tmp_path):
    entry = with_baseline(small_catalog(tmp_path))
    translate(entry, "xx", {"title": {"text": "x", "reviewed": True}})
    result = runner.invoke(args=["catalog", "check", str(entry)])
    assert result.exit_code == 1
    assert "language 'xx' is not offered" in result.output
    translate(entry, "ja", {"title": {"text": "x", "reviewed": True}})
    result = runner.invoke(args=["catalog", "check", str(entry)])
    assert "the Japanese texts are the catalog itself" in result.output


def test_a_catalog_without_a_baseline_is_checked_without_translations(runner, tmp_path):
    result = runner.invoke(args=["catalog", "check", str(small_catalog(tmp_path))])
    assert result.exit_code == 0
    assert "translations: not checked" in result.output


def test_chrome_strings_without_a_msgstr_are_missing_and_staff_templates_are_left_out(tmp_path):
    templates, source = tmp_path / "templates", tmp_path / "translations"
    (templates / "staff").mkdir(parents=True)
    (templates / "page.html").write_text(
        "<p>{{ _('申請する') }}</p><p>{{ _('戻る') }}</p><p>{{ _('保存') }}</p>", encoding="utf-8"
    )
    (templates / "staff" / "inbox.html").write_text("{{ _('受付一覧') }}", encoding="utf-8")
    po_file("en", source).parent.mkdir(parents=True)
    po_file("en", source).write_text(
        'msgid "申請する"\nmsgstr "Apply"\n\n'
        '#, reviewed\nmsgid "戻る"\nmsgstr "Back"\n\n'
        '#, fuzzy\nmsgid "保存"\nmsgstr "Save"\n',
        encoding="utf-8",
    )
    texts = ui_texts(templates)
    assert set(texts) == {TextKey("ui", "申請する"), TextKey("ui", "戻る"), TextKey("ui", "保存")}
    given = ui_translations(["en", "easy"], source)
    assert given["en"][TextKey("ui", "戻る")].reviewed
    assert not given["en"][TextKey("ui", "申請する")].reviewed

    entry = small_catalog(tmp_path / "catalog")
    data, folder = load_catalog(entry), catalog_folder(entry)
    report = missing_report(data, folder / "translations", LANGUAGES, (texts, given))
    assert [k for k in report.missing["en"] if k.unit == "ui"] == [TextKey("ui", "保存")]
    assert len([k for k in report.missing["easy"] if k.unit == "ui"]) == 3
    assert TextKey("ui", "申請する") in report.unreviewed["en"]
    assert TextKey("ui", "戻る") not in report.unreviewed["en"]

    # Baseline written without the chrome: every missing chrome string is a new problem.
    with_baseline(entry, with_chrome=False)
    report, problems = check_catalog_translations(data, folder, LANGUAGES, (texts, given))
    assert "en: ui:保存: missing translation (not in translations-missing.yaml)" in problems
    assert sum(p.startswith("easy: ui:") for p in problems) == 3
    assert all(p.split(": ")[1].startswith("ui:") for p in problems)


def test_write_only_shrinks_the_baseline_unless_told_to_grow_it(runner, tmp_path):
    entry = with_baseline(small_catalog(tmp_path))
    baseline = catalog_folder(entry) / BASELINE_NAME
    before = baseline.read_text(encoding="utf-8")
    path = "steps.applicant.fields.applicant_name.label"
    translate(entry, "en", {path: {"text": "Name", "reviewed": True}})
    result = runner.invoke(args=["catalog", "missing-translations", str(entry), "--write"])
    assert result.exit_code == 0, result.output
    after = baseline.read_text(encoding="utf-8")
    assert f"- {UNIT}:{path}\n" in before and after.count(f"- {UNIT}:{path}\n") == 1  # easy only
    assert runner.invoke(args=["catalog", "check", str(entry)]).exit_code == 0

    def add_field(data: dict) -> None:
        data["steps"][0]["fields"].append(
            {"name": "note", "type": "text", "label": "備考", "required": False}
        )

    edit(procedure_file(entry, "juminhyo-copy"), add_field)
    result = runner.invoke(args=["catalog", "missing-translations", str(entry), "--write"])
    assert result.exit_code == 1
    assert f"en: {UNIT}:steps.applicant.fields.note.label" in result.output
    assert baseline.read_text(encoding="utf-8") == after
    args = ["catalog", "missing-translations", str(entry), "--write", "--grow"]
    assert runner.invoke(args=args).exit_code == 0
    assert runner.invoke(args=["catalog", "check", str(entry)]).exit_code == 0

    listed = runner.invoke(args=["catalog", "missing-translations", str(entry), "--lang", "en"])
    assert f"{UNIT}:steps.applicant.fields.note.label" in listed.output.splitlines()
    unreviewed = runner.invoke(
        args=["catalog", "missing-translations", str(entry), "--lang", "en", "--unreviewed"]
    )
    assert f"{UNIT}:title" in unreviewed.output.splitlines()  # inline en.title: not recorded
    assert f"{UNIT}:{path}" not in unreviewed.output.splitlines()  # reviewed: true
