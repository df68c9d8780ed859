"""An assisted session in a real browser (issue 21, first slice), on a phone: an administrator
registers a helper; the helper signs in with their own card and presses 「お手伝いを始める」;
the hand-over screen gives the phone to the resident, who logs in with their own card and PIN
and consents; the helper fills 要介護・要支援認定の申請, handing over for the step with the My
Number (entered by the resident); the check page shows it masked to the helper; the
application is filed; the resident ends the session. The banner shows on every page of the
session. axe runs on every page."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from portal.catalog import load_catalog, logic
from portal.submissions.summary import MASKED
from tests.e2e.people import by_label, fill_step
from tests.e2e.staff_people import create_member, sign_in
from tests.e2e.test_juminhyo import ROOT
from tests.e2e.test_login import use_card

CATALOG = load_catalog(ROOT / "procedure_catalog.yaml")
PROCEDURE = CATALOG.procedure("kaigo-nintei")  # 要介護・要支援認定の申請
BANNER = "渡辺 健さん（デジタル推進委員）がお手伝いしています"


def heading(page):
    return page.get_by_role("heading", level=1)


def register_the_helper(make_page, audit, live_server) -> None:
    page = make_page("desktop")
    secret = create_member(
        live_server, "assist-admin", "お手伝い 管理者", "admin:kosodate", "pw-" * 5
    )
    sign_in(page, "assist-admin", secret, "pw-" * 5)
    page.get_by_role("link", name="お手伝いの方").click()
    expect(heading(page)).to_have_text("お手伝いの方")
    audit(page)
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=9)).date()
    by_label(page, "氏名（マイナンバーカードのとおり）").fill("渡辺 健")
    by_label(page, "生年月日").fill("1980-10-30")
    by_label(page, "所属").fill("デジタル推進委員")
    by_label(page, "有効期間の開始日").fill(today.isoformat())
    by_label(page, "有効期間の終了日").fill((today + dt.timedelta(days=365)).isoformat())
    page.get_by_role("button", name="お手伝いの方を登録する").click()
    expect(
        page.get_by_text("渡辺 健さん（デジタル推進委員）をお手伝いの方として登録しました")
    ).to_be_visible()
    audit(page)
    page.context.close()


def with_banner(page, audit) -> None:
    expect(page.get_by_role("region", name="お手伝い中")).to_contain_text(BANNER)
    audit(page)


def test_a_helper_and_a_resident_file_together_and_the_secret_stays_masked(
    make_page, audit, live_server
):
    register_the_helper(make_page, audit, live_server)
    answers = logic.resolve_examples(PROCEDURE.example_answers, dt.date.today())
    my_number = answers["insured_my_number"]

    page = make_page("phone")  # the helper's tablet, or the resident's phone
    page.goto("/assist/")
    expect(heading(page)).to_have_text("お手伝いの方のページ")
    audit(page)
    page.get_by_role("button", name="お手伝いの方のカードでログインする").click()
    use_card(page, "care-manager")  # 渡辺 健's own card
    expect(page.get_by_role("button", name="お手伝いを始める")).to_be_visible()
    audit(page)
    page.get_by_role("button", name="お手伝いを始める").click()

    expect(heading(page)).to_have_text("ここからはご本人が入力してください")
    audit(page)
    page.get_by_role("button", name="ご本人のマイナンバーカードでログインする").click()
    use_card(page, "elderly")  # 中村 キヨ types her own PIN
    expect(heading(page)).to_have_text("お手伝いへの同意")
    expect(page.get_by_text("渡辺 健さん（デジタル推進委員）")).to_be_visible()
    audit(page)
    by_label(page, "お手伝いを頼む手続").select_option(label=PROCEDURE.title)
    page.get_by_role("radio", name=re.compile("^今日の終わり")).check()
    page.get_by_role("button", name="同意して、お手伝いを頼む").click()

    expect(heading(page)).to_have_text("お手伝いの方に端末をお渡しください")
    with_banner(page, audit)
    page.get_by_role("button", name="お手伝いの方が続ける").click()

    with_banner(page, audit)  # the procedure's page
    page.get_by_role("button", name="申請を始める").click()
    expect(heading(page)).to_have_text("どなたについての申請ですか")
    with_banner(page, audit)
    page.get_by_role("radio", name=re.compile(r"^ご本人（.*）の申請$")).check()
    page.get_by_role("button", name="次へ進む").click()

    # The first step holds the My Number: the phone goes to the resident first.
    expect(heading(page)).to_have_text("ここからはご本人が入力してください")
    with_banner(page, audit)
    page.get_by_role("button", name="ご本人が入力する").click()
    titles = {step.title: step for step in PROCEDURE.steps}
    expect(heading(page)).to_have_text(PROCEDURE.steps[0].title)
    with_banner(page, audit)
    fill_step(page, PROCEDURE.steps[0], answers)
    page.get_by_role("button", name="次へ進む").click()
    expect(heading(page)).to_have_text("お手伝いの方に端末をお渡しください")
    audit(page)
    page.get_by_role("button", name="お手伝いの方が続ける").click()

    for _ in range(len(PROCEDURE.steps)):
        title = heading(page).inner_text()
        if title == "申請内容の確認":
            break
        with_banner(page, audit)
        fill_step(page, titles[title], answers)
        page.get_by_role("button", name="次へ進む").click()
    expect(heading(page)).to_have_text("申請内容の確認")
    with_banner(page, audit)
    main = page.get_by_role("main")
    expect(main).to_contain_text(MASKED)  # masked on the server, for the helper
    assert my_number[-4:] not in main.inner_text()
    assert my_number[-4:] not in page.content()
    page.get_by_role("checkbox", name=PROCEDURE.declaration).check()
    page.get_by_role("button", name="この内容で申請する").click()
    expect(heading(page)).to_have_text("申請を受け付けました")
    with_banner(page, audit)

    page.get_by_role("button", name="お手伝いを終了する").click()
    expect(heading(page)).to_have_text("お手伝いを終了しました")
    audit(page)
    expect(page.get_by_role("region", name="お手伝い中")).to_have_count(0)
    page.goto(f"/procedures/{PROCEDURE.id}/check")
    expect(page.get_by_role("region", name="お手伝い中")).to_have_count(0)
    expect(page.get_by_text("中村 キヨ")).to_have_count(0)
