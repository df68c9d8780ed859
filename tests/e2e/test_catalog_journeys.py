"""Every online procedure of the catalog, completed on a phone with its example answers, driven
by the catalog alone: log in with the demo card of 岬 花子 (the examples are about her family)
where the procedure needs it, say it is for herself where 代理 is possible, answer each step the
portal shows, sign where the procedure is signed, and reach the confirmation. axe runs on every
page. Procedures that ended are shown with 受付終了 and cannot be started. Each procedure page is
also read in 日本語, やさしい日本語 and English, with axe."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal.catalog import load_catalog, logic
from portal.catalog.translations import page_texts
from portal.i18n import FALLBACK, LANGUAGES
from tests.e2e.people import by_label, fill_step, group, sample_pdf
from tests.e2e.test_hoiku import sign_with_card
from tests.e2e.test_juminhyo import ROOT
from tests.e2e.test_login import use_card

CATALOG = load_catalog(ROOT / "procedure_catalog.yaml")
TEXTS = page_texts(CATALOG, ROOT / "catalog" / "translations", LANGUAGES, FALLBACK)
ONLINE = [p for p in CATALOG.procedures if p.channel != "counter" and p.ended is None]
ENDED = [p for p in CATALOG.procedures if p.ended is not None]
PERSONA = "parent"


# The person a care manager applies for in the proxy journey (the elderly demo persona).
ELDERLY = {"name": "中村 キヨ", "kana": "ナカムラ キヨ", "birth_date": "昭和21年3月8日"}


def complete(
    page, audit, procedure, files_dir, persona: str = PERSONA, proxy_for: dict | None = None
) -> None:
    """From the procedure page to the confirmation, with the example answers; as a care manager
    with a letter of delegation when `proxy_for` names the person applied for."""
    answers = logic.resolve_examples(procedure.example_answers, dt.date.today())
    page.goto(f"/procedures/{procedure.id}")
    audit(page)
    if procedure.on_behalf and proxy_for is None:
        # One button says the application is the resident's own: no "who" page.
        page.get_by_role("button", name="ログインしてご本人の申請を始める").click()
        use_card(page, persona)
    elif procedure.on_behalf:
        page.get_by_role("button", name="ログインして代理で申請する").click()
        use_card(page, persona)
    elif procedure.identity_level != "none":
        page.get_by_role("button", name="ログインして申請を始める").click()
        use_card(page, persona)  # back from the card: the application starts at once
    elif procedure.optional_login:  # a card holder logs in: the card and records prefill
        page.get_by_role("button", name="マイナンバーカードでログインして始める").click()
        use_card(page, persona)
    else:
        page.get_by_role("button", name="申請を始める").click()
    if procedure.on_behalf and proxy_for is not None:
        expect(page.get_by_role("heading", level=1)).to_have_text("どなたについての申請ですか")
        audit(page)
        page.get_by_role("radio", name="ほかの方の代わりに申請する").check()
        subject = group(page, "申請の対象となる方")
        by_label(subject, "氏名").fill(proxy_for["name"])
        by_label(subject, "フリガナ").fill(proxy_for["kana"])
        by_label(subject, "生年月日").fill(proxy_for["birth_date"])
        by_label(page, "その方とのご関係").select_option(
            label="ケアマネジャー（居宅介護支援事業者）"
        )
        by_label(page, "委任状").set_input_files(sample_pdf(files_dir, "委任状.pdf"))
        page.get_by_role("button", name="次へ進む").click()
    titles = {step.title: step for step in procedure.steps}
    for _ in range(len(procedure.steps) + 1):
        heading = page.get_by_role("heading", level=1).inner_text()
        if heading == "申請内容の確認":
            break
        assert heading in titles, f"{procedure.id}: unexpected page {heading!r}"
        audit(page)
        fill_step(page, titles[heading], answers, files_dir)
        page.get_by_role("button", name="次へ進む").click()
        errors = page.locator("[data-error-summary]")
        if errors.count():
            raise AssertionError(f"{procedure.id} / {heading}: {errors.inner_text()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("申請内容の確認")
    audit(page)
    if procedure.declaration:
        page.get_by_role("checkbox", name=procedure.declaration).check()
    if procedure.identity_level == "signature":
        page.get_by_role("button", name="署名して申請する").click()
        sign_with_card(page, persona)
    else:
        page.get_by_role("button", name="この内容で申請する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請を受け付けました")
    audit(page)


@pytest.mark.parametrize("procedure", ONLINE, ids=lambda p: p.id)
def test_every_online_procedure_can_be_completed(make_page, audit, tmp_path, procedure):
    complete(make_page("phone"), audit, procedure, tmp_path)


CARE_MANAGER_PROCEDURE = "kaigo-koshin"  # 要介護・要支援更新認定の申請


def test_a_care_manager_applies_for_an_elderly_resident(make_page, audit, tmp_path):
    procedure = CATALOG.procedure(CARE_MANAGER_PROCEDURE)
    page = make_page("phone")
    complete(page, audit, procedure, tmp_path, persona="care-manager", proxy_for=ELDERLY)
    page.get_by_role("link", name="申請一覧").click()
    expect(page.get_by_text("中村 キヨ さんの代理で申請").first).to_be_visible()


@pytest.mark.parametrize("procedure", ENDED, ids=lambda p: p.id)
def test_an_ended_procedure_says_what_to_do_instead(make_page, audit, procedure):
    page = make_page("phone")
    page.goto(f"/procedures/{procedure.id}")
    expect(page.get_by_role("heading", name="受付終了")).to_be_visible()
    expect(page.get_by_text(procedure.ended.instead)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("申請を始める"))).to_have_count(0)
    audit(page)


def test_every_procedure_page_in_three_languages(make_page, audit):
    page = make_page("phone")
    for language, heading in (("en", "en"), ("easy", "ja"), ("ja", "ja")):
        page.goto(f"/?lang={language}")
        audit(page)
        for procedure in CATALOG.procedures:
            page.goto(f"/procedures/{procedure.id}")
            # The title as the portal reads it: the translation files (or inline English).
            title = TEXTS.text(f"procedures/{procedure.id}", "title", language, procedure.title)
            expect(page.get_by_role("heading", level=1)).to_have_text(str(title))
            expect(page.locator("html")).to_have_attribute("lang", heading)
            audit(page)
