"""妊娠の届出 in やさしい日本語 with ふりがな on, on a phone (issue 23, decision 0069): every page
has readings over its kanji, a screen reader gets each text once (headings and fields keep their
names as written: the readings are out of the accessibility tree), what the resident typed is
shown without readings, and axe passes on every page. The answers are the catalog's examples."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.catalog.translations import localize_procedure, page_texts
from portal.i18n import LANGUAGES
from tests.e2e import people
from tests.e2e.people import fill_step
from tests.e2e.test_juminhyo import CATALOG, REFERENCE, ROOT

PROCEDURE = CATALOG.procedure("ninshin-todoke")
UNIT = f"procedures/{PROCEDURE.id}"
TEXTS = page_texts(CATALOG, ROOT / "catalog" / "translations", LANGUAGES)
EASY = localize_procedure(PROCEDURE, lambda path, ja: TEXTS.text(UNIT, path, "easy", ja))


def readings_shown_but_not_read(page, name: str) -> None:
    """The h1's accessible name is `name` exactly as written (no reading, no break between
    words), while the eyes see readings over its kanji; no reading is in the accessibility
    tree: every <ruby> is inside an aria-hidden copy."""
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_accessible_name(name)
    if heading.locator("ruby").count():
        expect(heading.locator("ruby").first).to_be_visible()
        box = heading.locator(".furigana-source").bounding_box()
        assert box["width"] <= 1 and box["height"] <= 1  # visually hidden
    expect(page.locator("main ruby").first).to_be_visible()
    outside = page.locator("ruby").evaluate_all(
        "rubies => rubies.filter(r => !r.closest('[aria-hidden=true]')).length"
    )
    assert outside == 0
    # Read twice, a word would come with its reading after it ("妊娠にんしん"): never here.
    snapshot = re.sub(r"\s", "", page.locator("main").aria_snapshot())
    pairs = page.locator("main ruby").evaluate_all(
        "rubies => rubies.map(r => [r.firstChild.textContent, r.querySelector('rt').textContent])"
    )
    written = re.sub(r"\s", "", "".join(page.locator("main .furigana-source").all_inner_texts()))
    twice = [base + rt for base, rt in pairs if base + rt in snapshot and base + rt not in written]
    assert pairs and not twice  # (書か of 書かれた is the text itself, not 書 read twice)


def by_accessible_name(scope, label: str):
    """A field by its accessible name (what a screen reader announces), not by its <label>'s
    text content, which holds the text twice with ふりがな on (as written, and with readings)."""
    name = people._name(label)
    file_input = scope.get_by_label(label).and_(scope.locator("input[type=file]"))
    return (
        scope.get_by_role("textbox", name=name)
        .or_(scope.get_by_role("combobox", name=name))
        .or_(file_input)
    )


def test_pregnancy_notification_in_easy_japanese_with_furigana_on_a_phone(
    make_page, audit, tmp_path, monkeypatch
):
    monkeypatch.setattr(people, "by_label", by_accessible_name)
    page = make_page("phone")
    page.goto(f"/procedures/{PROCEDURE.id}?lang=easy")
    page.get_by_role("link", name="ふりがなをつける").click()
    expect(page.get_by_role("link", name="ふりがなをはずす")).to_be_visible()
    readings_shown_but_not_read(page, str(EASY.title))
    audit(page)
    page.get_by_role("button", name="はじめる", exact=True).click()
    answers = dict(PROCEDURE.example_answers)
    for index, step in enumerate(EASY.steps):
        expect(page.get_by_role("heading", level=1)).to_have_accessible_name(str(step.title))
        readings_shown_but_not_read(page, str(step.title))
        audit(page)
        fill_step(page, step, answers, tmp_path)
        if index == 0:
            # The form's own menu turns ふりがな off and on again, keeping what was typed.
            label = next(f.label for f in step.fields if f.name == "phone")  # as the page reads
            phone = page.get_by_role("textbox", name=re.compile("^" + re.escape(str(label))))
            page.get_by_role("button", name="ふりがなをはずす").click()
            expect(page.get_by_role("button", name="ふりがなをつける")).to_be_visible()
            assert page.locator("main ruby").count() == 0
            expect(phone).to_have_value(answers["phone"])
            page.get_by_role("button", name="ふりがなをつける").click()
            expect(page.locator("main ruby").first).to_be_visible()
            expect(phone).to_have_value(answers["phone"])
        page.get_by_role("button", name="つぎへ すすむ", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_accessible_name(
        "申請（しんせい）の 内容（ないよう）を たしかめる"
    )
    audit(page)
    # What the resident typed is shown as typed, without readings.
    values = page.locator(".summary-list__value")
    expect(values.filter(has_text="岬 花子").first).to_be_visible()
    assert values.locator("ruby").count() == 0
    page.get_by_role("checkbox", name=str(EASY.declaration)).check()
    page.get_by_role("button", name=re.compile("申請（しんせい）する$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_accessible_name(
        "申請（しんせい）を 受（う）け付（つ）けました"
    )
    audit(page)
    assert REFERENCE.match(page.locator(".reference").inner_text())


def test_public_pages_and_a_step_with_errors_pass_axe_with_furigana(make_page, audit):
    """The accessibility report's ふりがな sample (scripts/a11y_sample.py) reaches every state."""
    from scripts.a11y_sample import furigana_pages

    page = make_page("phone")
    labels = []
    for label, shown, _kiosk in furigana_pages(page):
        if "/mock-jpki/" not in shown.url:  # the mock card service is never annotated
            expect(shown.locator("main ruby").first).to_be_visible()
        audit(shown)
        labels.append(label)
    assert "申請のステップ：エラー（ja）・ふりがな" in labels
    assert "申請のステップ：エラー（easy）・ふりがな" in labels and len(labels) >= 30
