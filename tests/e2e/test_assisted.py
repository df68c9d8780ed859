"""Assisted sessions in a real browser (issue 21). First, on a phone: an administrator
registers a helper; the helper signs in with their own card and presses 「お手伝いを始める」;
the hand-over screen gives the phone to the resident, who logs in with their own card and PIN
and consents; the helper fills 要介護・要支援認定の申請, handing over for the step with the My
Number (entered by the resident); the check page shows it masked to the helper; the
application is filed; the resident ends the session. The banner shows on every page of the
session. Then, on a tablet, from a registered helper (prepared): 高額介護（予防）サービス費 with the
bank account handed over and masked, the signature password typed by the resident, the record
on the status page and the staff case page; and a スマホ教室's practice run that leaves nothing.
axe runs on every page."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from portal.catalog import load_catalog, logic
from portal.submissions.summary import MASKED
from tests.e2e import prepared
from tests.e2e.people import by_label, fill_step
from tests.e2e.staff_people import create_member, sign_in
from tests.e2e.test_hoiku import sign_with_card
from tests.e2e.test_juminhyo import ROOT
from tests.e2e.test_login import use_card

CATALOG = load_catalog(ROOT / "procedure_catalog.yaml")
PROCEDURE = CATALOG.procedure("kaigo-nintei")  # 要介護・要支援認定の申請
BANNER = "渡辺 健さん（デジタル推進委員）がお手伝いしています"
KOGAKU = CATALOG.procedure("kaigo-kogaku")  # 高額介護（予防）サービス費の支給申請
# The account the resident types herself (the example uses her 公金受取口座 instead).
ACCOUNT = {
    "bank_code": "4893",
    "branch_code": "012",
    "account_type": "ordinary",
    "account_number": "0012345",
    "holder_kana": "ナカムラ キヨ",
}
PRACTICE = CATALOG.procedure("ninshin-todoke")


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

    page = make_page("tablet")  # the helper's tablet (the resident's phone works the same)
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


def test_on_a_tablet_the_bank_account_and_the_signature_stay_the_residents(
    make_page, audit, live_server, live_app
):
    prepared.registered_helper(live_app, "渡辺 健", "1980-10-30", "市社会福祉協議会")
    banner = "渡辺 健さん（市社会福祉協議会）がお手伝いしています"
    began = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    account = ACCOUNT

    def helping(page) -> None:
        expect(page.get_by_role("region", name="お手伝い中")).to_contain_text(banner)
        audit(page)

    page = make_page("tablet")
    page.goto("/assist/")
    page.get_by_role("button", name="お手伝いの方のカードでログインする").click()
    use_card(page, "care-manager")
    page.get_by_role("button", name="お手伝いを始める").click()
    page.get_by_role("button", name="ご本人のマイナンバーカードでログインする").click()
    use_card(page, "elderly")
    expect(heading(page)).to_have_text("お手伝いへの同意")
    by_label(page, "お手伝いを頼む手続").select_option(label=KOGAKU.title)
    page.get_by_role("radio", name=re.compile("^1時間")).check()
    page.get_by_role("button", name="同意して、お手伝いを頼む").click()
    page.get_by_role("button", name="お手伝いの方が続ける").click()
    helping(page)
    page.get_by_role("button", name="申請を始める").click()
    expect(heading(page)).to_have_text("どなたについての申請ですか")
    # What the first journey proved (the hand-over for a My Number) is prepared: every step
    # but the one with the bank account.
    draft, _files = prepared.filled_but(live_app, KOGAKU.id, began, "payment")

    page.goto(f"/procedures/{KOGAKU.id}/apply/payment")
    expect(heading(page)).to_have_text("ここからはご本人が入力してください")
    helping(page)
    page.get_by_role("button", name="ご本人が入力する").click()
    expect(heading(page)).to_have_text(KOGAKU.step("payment").title)
    helping(page)
    # another account than the 公金受取口座 of the example: the one the resident hands over
    answers = KOGAKU.example_answers | {"account_choice": "other", "bank_account": ACCOUNT}
    fill_step(page, KOGAKU.step("payment"), answers)
    page.get_by_role("button", name="次へ進む").click()
    expect(heading(page)).to_have_text("お手伝いの方に端末をお渡しください")
    helping(page)
    page.get_by_role("button", name="お手伝いの方が続ける").click()

    expect(heading(page)).to_have_text("申請内容の確認")
    helping(page)
    main = page.get_by_role("main")
    expect(main).to_contain_text(MASKED)  # the bank account, masked on the server
    number = account["account_number"]
    # Neither the number nor the type's own partial mask (its last three digits) is sent.
    for secret in (f" {number} ", "●" + number[-3:]):
        assert secret not in page.content()
    page.get_by_role("checkbox", name=KOGAKU.declaration).check()
    page.get_by_role("button", name="署名して申請する").click()

    # The signature password is the resident's: the tablet goes to her first.
    expect(heading(page)).to_have_text("ここからはご本人が入力してください")
    helping(page)
    page.get_by_role("button", name="ご本人が入力する").click()
    expect(heading(page)).to_have_text("申請内容の確認")
    expect(main).to_contain_text("●" + number[-3:])  # her own answer, as shown to her
    page.get_by_role("checkbox", name=KOGAKU.declaration).check()
    page.get_by_role("button", name="署名して申請する").click()
    audit(page)  # the card service's page, in her turn only
    sign_with_card(page, "elderly")
    expect(heading(page)).to_have_text("申請を受け付けました")
    helping(page)
    status_link = page.get_by_role("link", name=re.compile("申請の状況を見る")).get_attribute(
        "href"
    )
    page.get_by_role("button", name="お手伝いを終了する").click()
    expect(heading(page)).to_have_text("お手伝いを終了しました")

    # The record: on the status page (her own phone, later) and on the staff case page.
    phone = make_page("phone")
    phone.goto(urlsplit(status_link).path)  # opens only for her: the login first
    phone.get_by_role("button", name=re.compile("マイナンバーカードでログイン")).first.click()
    use_card(phone, "elderly")
    expect(heading(phone)).to_have_text("申請の状況")
    expect(phone.get_by_role("main")).to_contain_text(
        "渡辺 健さん（市社会福祉協議会）がお手伝いしました"
    )
    audit(phone)
    staff = make_page("desktop")
    secret = create_member(live_server, "kaigo-assist", "介護 職員", "clerk:kaigo", "pw-" * 5)
    sign_in(staff, "kaigo-assist", secret, "pw-" * 5)
    staff.goto(f"/staff/submissions/{prepared.public_id(live_app, draft)}")
    expect(staff.get_by_role("main")).to_contain_text(
        "入力の支援：渡辺 健さん（市社会福祉協議会）がお手伝いしました"
    )
    audit(staff)


def test_a_practice_run_at_a_smartphone_class_leaves_nothing(make_page, audit, live_app):
    prepared.registered_helper(live_app, "渡辺 健", "1980-10-30", "デジタル推進委員")
    began = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    page = make_page("tablet")
    page.goto("/assist/")
    page.get_by_role("button", name="お手伝いの方のカードでログインする").click()
    use_card(page, "care-manager")
    page.get_by_role("button", name="練習を始める").click()
    expect(heading(page)).to_have_text("練習：スマホ教室")
    practice = page.get_by_role("region", name="練習")
    expect(practice).to_contain_text("練習")
    audit(page)
    page.get_by_role("link", name=PRACTICE.title).click()
    expect(practice).to_be_visible()
    page.get_by_role("button", name="申請を始める").click()
    expect(practice).to_be_visible()
    draft, files = prepared.filled_but(live_app, PRACTICE.id, began, practice=True)
    assert files, "the practice draft holds a file (its example answers attach one)"
    page.goto(f"/procedures/{PRACTICE.id}/check")
    expect(heading(page)).to_have_text("申請内容の確認")
    expect(practice).to_be_visible()
    page.get_by_role("checkbox", name=PRACTICE.declaration).check()
    page.get_by_role("button", name="この内容で申請する").click()
    expect(heading(page)).to_have_text("練習はここまでです")
    expect(practice).to_be_visible()
    audit(page)
    assert prepared.gone(live_app, draft, files)  # no submission, draft or file left
