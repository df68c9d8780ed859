"""Staff in a real browser (desktop, as at a city-hall desk): a resident signed in with the card
files 妊娠の届出; a 子育て支援課 clerk signs in with a password and a one-time code (generated
here, as an authenticator app would), opens the application, reveals the masked My Number with a
reason; the resident's status page then says that 子育て支援課 looked at it. axe runs on every
staff page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pyotp
from playwright.sync_api import expect

from portal.catalog import load_catalog
from tests.e2e.people import by_label, fill_step
from tests.e2e.test_juminhyo import ROOT
from tests.e2e.test_login import use_card

PROCEDURE = load_catalog(ROOT / "procedure_catalog.yaml").procedure("ninshin-todoke")
MY_NUMBER = "123456789018"  # a demo number with a valid check digit
PASSWORD = "e2e-clerk-password"


def create_clerk(live_server) -> str:
    """A 子育て支援課 clerk made with `flask staff create`; returns the TOTP secret."""
    output = live_server.flask(
        "staff",
        "create",
        "e2e-kosodate",
        "--name",
        "子育て 花子",
        "--role",
        "clerk:kosodate",
        "--password",
        PASSWORD,
    )
    uri = re.search(r"otpauth://\S+", output).group(0)
    return parse_qs(urlparse(uri).query)["secret"][0]


def test_a_clerk_reveals_a_my_number_and_the_resident_sees_who_looked(
    make_page, audit, live_server
):
    secret = create_clerk(live_server)

    resident = make_page("phone")
    resident.goto("/login")
    resident.get_by_role("button", name="マイナンバーカードでログインする").click()
    use_card(resident, "parent")
    resident.goto(f"/procedures/{PROCEDURE.id}")
    resident.get_by_role("button", name="申請を始める").click()
    answers = {**PROCEDURE.example_answers, "my_number": MY_NUMBER}
    for step in PROCEDURE.steps:
        expect(resident.get_by_role("heading", level=1)).to_have_text(step.title)
        fill_step(resident, step, answers)
        resident.get_by_role("button", name="次へ進む").click()
    resident.get_by_role("checkbox", name=PROCEDURE.declaration).check()
    resident.get_by_role("button", name="この内容で申請する").click()
    reference = resident.locator(".reference").inner_text()
    # What the resident may need next, from the catalog's suggestions.
    expect(resident.get_by_role("heading", name="次に必要かもしれない手続")).to_be_visible()
    expect(resident.get_by_role("link", name="出生届")).to_be_visible()
    resident.get_by_role("link", name=f"申請の状況を見る（受付番号 {reference}）").click()
    expect(resident.get_by_text("まだ、市の職員はこの申請を開いていません。")).to_be_visible()
    # The interview can be booked from here; the counter will see the application.
    resident.get_by_role("link", name="窓口に行く日時を予約する").click()
    expect(
        resident.get_by_text(f"「妊娠の届出」（受付番号 {reference}）のための予約です。")
    ).to_be_visible()
    expect(resident.get_by_role("checkbox", name=re.compile("妊娠届の面談"))).to_be_checked()
    audit(resident)
    resident.go_back()

    clerk = make_page("desktop")
    clerk.goto("/staff/login")
    expect(clerk.get_by_role("heading", level=1)).to_have_text("職員ログイン")
    audit(clerk)
    by_label(clerk, "ログインID").fill("e2e-kosodate")
    by_label(clerk, "パスワード").fill(PASSWORD)
    clerk.get_by_role("button", name="次へ").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("確認コードの入力")
    audit(clerk)
    by_label(clerk, "確認コード（数字6桁）").fill("000000")
    clerk.get_by_role("button", name="ログインする").click()
    expect(clerk.get_by_role("link", name=re.compile("確認コードが違います"))).to_be_visible()
    audit(clerk)
    by_label(clerk, "確認コード（数字6桁）").fill(pyotp.TOTP(secret).now())
    clerk.get_by_role("button", name="ログインする").click()

    expect(clerk.get_by_role("heading", level=1)).to_have_text("新しい申請")
    audit(clerk)
    clerk.get_by_role("link", name=reference).click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text(f"受付番号 {reference}")
    expect(clerk.get_by_text("●●●● ●●●● 9018")).to_be_visible()
    expect(clerk.get_by_text("1234 5678 9018")).to_have_count(0)
    audit(clerk)
    clerk.get_by_role("button", name="理由を記録してマイナンバーを表示する").click()
    expect(clerk.get_by_role("link", name=re.compile("表示する理由を4文字以上"))).to_be_visible()
    audit(clerk)
    by_label(clerk, "表示する理由").fill("住民基本台帳との照合のため")
    clerk.get_by_role("button", name="理由を記録してマイナンバーを表示する").click()
    expect(clerk.get_by_text("1234 5678 9018")).to_be_visible()
    expect(clerk.get_by_text("表示した理由：住民基本台帳との照合のため")).to_be_visible()
    audit(clerk)

    resident.reload()
    looked = resident.get_by_role("heading", name="市の担当課による確認")
    expect(looked).to_be_visible()
    expect(resident.get_by_role("listitem").filter(has_text="子育て支援課").first).to_be_visible()
    audit(resident)

    clerk.get_by_role("button", name="サインアウト").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("サインアウトしました")
    audit(clerk)
    assert clerk.goto("/staff/").status == 404
    assert "OK" in live_server.flask("audit", "verify")


def test_an_administrator_signs_a_member_out_everywhere(make_page, audit, live_server):
    output = live_server.flask(
        "staff",
        "create",
        "e2e-admin",
        "--name",
        "管理 太郎",
        "--role",
        "admin:kosodate",
        "--password",
        PASSWORD,
    )
    secret = parse_qs(urlparse(re.search(r"otpauth://\S+", output).group(0)).query)["secret"][0]
    admin = make_page("desktop")
    admin.goto("/staff/login")
    by_label(admin, "ログインID").fill("e2e-admin")
    by_label(admin, "パスワード").fill(PASSWORD)
    admin.get_by_role("button", name="次へ").click()
    by_label(admin, "確認コード（数字6桁）").fill(pyotp.TOTP(secret).now())
    admin.get_by_role("button", name="ログインする").click()
    # Previews of every procedure, as residents will see them, with the example answers.
    admin.goto("/staff/preview")
    expect(admin.get_by_role("heading", level=1)).to_have_text("手続のプレビュー")
    audit(admin)
    for procedure in load_catalog(ROOT / "procedure_catalog.yaml").procedures:
        admin.goto(f"/staff/preview/{procedure.id}")
        expect(admin.get_by_role("heading", level=1)).to_have_text(procedure.title)
        audit(admin)
    admin.goto("/staff/")
    admin.get_by_role("link", name="職員の管理").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("職員の管理")
    audit(admin)
    admin.get_by_role(
        "button", name=re.compile(r"すべての端末からサインアウト\s*（管理 太郎）")
    ).click()
    # Signing oneself out everywhere ends this session too.
    expect(admin.get_by_role("heading", level=1)).to_have_text("職員ログイン")
    expect(
        admin.get_by_text("管理 太郎 さんを、すべての端末からサインアウトさせました。")
    ).to_be_visible()
    audit(admin)
