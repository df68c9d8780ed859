"""The conformance report's sample in every language (scripts/a11y_sample.py, decision 0075): each
of the eight languages reaches its home page, a procedure page, the accessibility statement, a
form step's error summary and the check page, and each passes axe and the cheap checks (3.1.2's
language-of-parts among them) on a phone."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.i18n import HTML_LANG, LANGUAGES
from scripts.a11y_sample import REQUIRED, every_language


def test_every_language_reaches_its_states_and_passes_axe(make_page, audit):
    page = make_page("phone")
    labels = []
    for label, shown, _kiosk in every_language(page):
        lang = label.rsplit("（", 1)[1].rstrip("）")
        expect(shown.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
        audit(shown)
        labels.append(label)
    # public_pages (the sample's other visit) shows these in ja, easy and en.
    elsewhere = {
        f"{kind}（{lang}）" for lang in ("ja", "easy", "en")
        for kind in ("ホーム", "手続の説明", "アクセシビリティ方針")
    }  # fmt: skip
    assert sorted(labels) == sorted(set(REQUIRED["languages"]) - elsewhere)
    assert len(labels) == 2 * len(LANGUAGES) + 3 * (len(LANGUAGES) - 3)
