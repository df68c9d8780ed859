"""住民票の写し in Vietnamese in a real browser (issue 23, decision 0071): a resident who chose
Tiếng Việt completes juminhyo-copy on a 320px phone; axe runs on every page.

Whatever Vietnamese exists is used (the translators' files merge separately): the expected texts
are read from the files as the portal reads them, so a text still missing in Vietnamese is
expected in English (marked lang="en") or, failing that, in Japanese (lang="ja"). The test checks
the structure (the page's language, the headings, the labels found by name, the language menu
usable by keyboard at 320px) rather than any wording of its own."""

from __future__ import annotations

from babel.messages.pofile import read_po
from playwright.sync_api import expect

from portal.catalog.translations import localize_procedure, page_texts
from portal.i18n import FALLBACK, HTML_LANG, LANGUAGES, SOURCE
from tests.e2e.people import fill_step
from tests.e2e.test_juminhyo import CATALOG, PROCEDURE, REFERENCE, ROOT

UNIT = "procedures/juminhyo-copy"
TEXTS = page_texts(CATALOG, ROOT / "catalog" / "translations", LANGUAGES, FALLBACK)
VIETNAMESE = localize_procedure(PROCEDURE, lambda path, ja: TEXTS.text(UNIT, path, "vi", ja))


def _po(lang: str) -> dict[str, str]:
    path = SOURCE / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as file:
        return {str(m.id): m.string for m in read_po(file) if m.id and m.string and not m.fuzzy}


VI_PO, EN_PO = _po("vi"), _po("en")


def chrome(msgid: str) -> str:
    """A chrome string as a Vietnamese page shows it: Vietnamese, else English, else the id."""
    return VI_PO.get(msgid) or EN_PO.get(msgid) or msgid


def test_a_vietnamese_resident_completes_juminhyo_copy_on_a_small_phone(make_page, audit):
    page = make_page("small")
    page.goto("/?lang=vi")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    # The menu: every language named in itself, with its lang, reachable by keyboard, on screen.
    links = page.locator(".language-menu a")
    expect(links).to_have_count(len(LANGUAGES))
    for index, (code, name) in enumerate(LANGUAGES.items()):
        link = links.nth(index)
        expect(link).to_have_text(name)
        expect(link).to_have_attribute("lang", HTML_LANG[code])
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320 and box["height"] >= 24
    links.first.focus()
    for index in range(1, len(LANGUAGES)):
        page.keyboard.press("Tab")
        expect(links.nth(index)).to_be_focused()
    audit(page)

    page.goto(f"/procedures/{PROCEDURE.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(VIETNAMESE.title)
    expect(page.locator(".original-title")).to_have_attribute("lang", "ja")
    audit(page)
    page.get_by_role("button", name=chrome("申請を始める"), exact=True).click()
    for step in VIETNAMESE.steps:
        expect(page.get_by_role("heading", level=1)).to_have_text(step.title)
        expect(page.locator("main")).to_have_attribute("lang", "vi")
        audit(page)
        fill_step(page, step, dict(PROCEDURE.example_answers))
        page.get_by_role("button", name=chrome("次へ進む"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(chrome("申請内容の確認"))
    audit(page)
    page.get_by_role("checkbox", name=VIETNAMESE.declaration).check()
    page.get_by_role("button", name=chrome("この内容で申請する")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(chrome("申請を受け付けました"))
    expect(page.locator("main")).to_have_attribute("lang", "vi")
    audit(page)
    assert REFERENCE.match(page.locator(".reference").inner_text())
