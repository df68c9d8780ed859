"""How a page finds a catalog text's translation (issue 23, decision 0066): one lookup (unit +
path + language → text), Japanese marked lang="ja" when there is none, the translation files
read once per catalog load and each procedure localized once per language."""

from __future__ import annotations

import yaml
from markupsafe import escape

from portal import create_app
from portal.catalog import load_catalog
from portal.catalog.translations import (
    PageTexts,
    Untranslated,
    catalog_folder,
    localize_procedure,
    page_texts,
)
from portal.i18n import LANGUAGES
from portal.localization import catalog_lookup, load_page_texts, localized
from tests.catalog_files import ENTRY

CATALOG = load_catalog(ENTRY)
UNIT = "procedures/juminhyo-copy"


def test_the_lookup_gives_the_translation_or_the_japanese_marked_as_japanese():
    texts = PageTexts({"en": {UNIT: {"title": "Copy"}}})
    assert texts.text(UNIT, "title", "en", "住民票") == "Copy"
    assert type(texts.text(UNIT, "title", "ja", "住民票")) is str  # Japanese: the catalog's text
    missing = texts.text(UNIT, "summary", "en", "説明<b>")
    assert isinstance(missing, Untranslated) and missing == "説明<b>"
    assert escape(missing) == '<span lang="ja">説明&lt;b&gt;</span>'  # element content
    assert type(str(missing)) is str and str(missing) == "説明<b>"  # attributes, <title>
    easy = texts.text("procedures/other", "title", "easy", "題")
    assert isinstance(easy, Untranslated)


def test_the_files_and_the_inline_translations_are_read(tmp_path):
    folder = tmp_path / "translations"
    file = folder / "en" / "procedures" / "juminhyo-copy.yaml"
    file.parent.mkdir(parents=True)
    entries = {
        "steps.applicant.title": {"text": "About you", "reviewed": True},
        "steps.applicant.fields.phone.label": {"text": "  Phone  ", "reviewed": False},
        "bad.entry": {"text": ""},  # malformed: skipped here, reported by `flask catalog check`
    }
    file.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    texts = page_texts(CATALOG, folder, LANGUAGES)
    assert texts.text(UNIT, "steps.applicant.title", "en", "x") == "About you"
    assert texts.text(UNIT, "steps.applicant.fields.phone.label", "en", "x") == "Phone"
    assert isinstance(texts.text(UNIT, "bad.entry", "en", "x"), Untranslated)
    # `en.title` written inline in the catalog counts too.
    procedure = CATALOG.procedure("juminhyo-copy")
    assert texts.text(UNIT, "title", "en", procedure.title) == procedure.en.title


def test_a_localized_procedure_keeps_ids_rules_and_values():
    procedure = CATALOG.procedure("juminhyo-copy")
    texts = PageTexts(
        {"en": {UNIT: {"steps.applicant.fields.relationship.options.self.label": "Me"}}}
    )
    shown = localize_procedure(procedure, lambda path, ja: texts.text(UNIT, path, "en", ja))
    field = shown.field("relationship")
    assert field is not None and field.options[0].label == "Me"
    assert [o.value for o in field.options] == [
        o.value for o in procedure.field("relationship").options
    ]
    assert isinstance(field.label, Untranslated) and field.label == "住民票が必要な方との関係"
    assert [s.id for s in shown.steps] == [s.id for s in procedure.steps]
    assert shown.fee.rule == procedure.fee.rule and shown.steps[0].fields[0].when is None
    assert procedure.field("relationship").options[0].label == "本人"  # the catalog's own is kept


def test_the_files_are_read_once_per_catalog_and_a_procedure_localized_once_per_language(tmp_path):
    app = create_app("test", {"INSTANCE_PATH": str(tmp_path)})
    catalog = app.extensions["catalog"]
    assert load_page_texts(catalog, ENTRY) is app.extensions["catalog_page_texts"]
    assert catalog_folder(ENTRY).joinpath("translations", "en").is_dir()
    procedure = catalog.procedure("juminhyo-copy")
    with app.test_request_context():
        from flask import session

        session["lang"] = "en"
        first = localized(procedure)
        assert localized(procedure) is first
        assert first.steps[0].title == "About you (the person requesting)"
        assert catalog_lookup(UNIT, "steps.delivery.title", "x") == "How you receive it"
        assert localized(procedure, "ja") is procedure
        session["lang"] = "easy"
        easy = localized(procedure)
        assert easy is not first and easy.steps[0].title == "たのむ人（あなた）のこと"
        assert not isinstance(easy.steps[0].title, Untranslated)


def test_a_localized_life_event_keeps_ids_rules_and_procedures():
    """Decision 0072: every text of `life_event_texts` is looked up; what the screening stores and
    what selects the checklist's items are the same objects."""
    from portal.catalog.translations import life_event_texts, localize_life_event

    event = next(e for e in CATALOG.life_events if e.id == "moving")
    made = localize_life_event(event, lambda path, japanese: f"EN[{path}]")
    assert dict(life_event_texts(made)) == {
        path: f"EN[{path}]" for path, _ in life_event_texts(event)
    }
    assert [f.name for f in made.screening.fields] == [f.name for f in event.screening.fields]
    for old, new in zip(event.items, made.items, strict=True):
        assert new.procedure == old.procedure and new.when is old.when
    assert [s.id for s in made.bundle.shared] == [s.id for s in event.bundle.shared]
    assert not event.label.startswith("EN[")  # the catalog's event is untouched


def test_a_localized_counter_and_deadline_counting():
    from portal.catalog.translations import localize_counter

    counter = next(c for c in CATALOG.counters if c.booking and c.booking.accessibility)
    made = localize_counter(counter, lambda path, japanese: f"EN[{path}]")
    assert made.name == f"EN[counters.{counter.id}.name]" and made.id == counter.id
    assert made.booking.accessibility[0] == f"EN[counters.{counter.id}.accessibility.0]"
    assert [s.minutes for s in made.booking.services] == [
        s.minutes for s in counter.booking.services
    ]
    procedure = CATALOG.procedure("tennyu-todoke")
    shown = localize_procedure(procedure, lambda path, japanese: f"EN[{path}]")
    counting = shown.deadline.counting
    assert counting.event == "EN[deadline.counting.event]"
    assert counting.law == "EN[deadline.counting.law]"
    assert counting.days == procedure.deadline.counting.days
    assert counting.first_day == procedure.deadline.counting.first_day
