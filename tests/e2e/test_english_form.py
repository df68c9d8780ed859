"""住民票の写し in English in a real browser (issue 23, decision 0066): a resident who chose
English finds every field by its English label, answers, checks and sends; axe runs on every
page. The answers are the catalog's examples, as in test_juminhyo.py."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.catalog.translations import localize_procedure, page_texts
from portal.i18n import LANGUAGES
from tests.e2e.people import fill_step
from tests.e2e.test_juminhyo import CATALOG, PROCEDURE, REFERENCE, ROOT

UNIT = "procedures/juminhyo-copy"
TEXTS = page_texts(CATALOG, ROOT / "catalog" / "translations", LANGUAGES)
ENGLISH = localize_procedure(PROCEDURE, lambda path, ja: TEXTS.text(UNIT, path, "en", ja))


def test_a_form_answered_in_english_on_a_phone(make_page, audit):
    page = make_page("phone")
    page.goto("/?lang=en")
    page.goto(f"/procedures/{PROCEDURE.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(ENGLISH.title)
    audit(page)
    page.get_by_role("button", name="Start", exact=True).click()
    for step in ENGLISH.steps:
        expect(page.get_by_role("heading", level=1)).to_have_text(step.title)
        expect(page.locator("main")).to_have_attribute("lang", "en")
        audit(page)
        fill_step(page, step, dict(PROCEDURE.example_answers))
        page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    audit(page)
    page.get_by_role("checkbox", name=ENGLISH.declaration).check()
    page.get_by_role("button", name="Send this application").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your application has been received")
    audit(page)
    assert REFERENCE.match(page.locator(".reference").inner_text())
