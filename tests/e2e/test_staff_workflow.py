"""The back office's workflow in a real browser (issue 12): a resident files 妊娠の届出 without the
diagnosis document; a 子育て支援課 clerk starts the review and asks for it; the resident sees the
request (status page and "my applications"), attaches the document and resubmits; the clerk sees
what changed and resumes; a reviewer requests approval; an approver approves; the resident sees
each status and the next step. The share of electronic decisions is then reported. Staff work on
a desktop, the resident on a phone; axe runs on every page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.catalog import load_catalog
from tests.e2e.people import by_label, fill_step, sample_pdf
from tests.e2e.staff_people import create_member, sign_in
from tests.e2e.test_juminhyo import ROOT
from tests.e2e.test_login import use_card

PROCEDURE = load_catalog(ROOT / "procedure_catalog.yaml").procedure("ninshin-todoke")
PASSWORD = "e2e-workflow-password"
REQUEST = (
    "妊娠の診断書の添付をお願いします。お手元の診断書をスマートフォンで撮影して添付してください。"
)


def expect_status(page, label: str) -> None:
    expect(page.locator(".status-tag").first).to_have_text(label)


def test_a_case_goes_from_submission_through_a_correction_to_approval(
    make_page, audit, live_server, tmp_path
):
    clerk_secret = create_member(
        live_server, "e2e-wf-clerk", "窓口 一美", "clerk:kosodate", PASSWORD
    )
    reviewer_secret = create_member(
        live_server, "e2e-wf-reviewer", "審査 二郎", "reviewer:kosodate", PASSWORD
    )
    approver_secret = create_member(
        live_server, "e2e-wf-approver", "決裁 三恵", "approver:kosodate", PASSWORD
    )

    # The resident files, leaving out the optional diagnosis document.
    resident = make_page("phone")
    resident.goto("/login")
    resident.get_by_role("button", name="マイナンバーカードでログインする").click()
    use_card(resident, "parent")
    resident.goto(f"/procedures/{PROCEDURE.id}")
    resident.get_by_role("button", name="申請を始める").click()
    for step in PROCEDURE.steps:
        expect(resident.get_by_role("heading", level=1)).to_have_text(step.title)
        fill_step(resident, step, PROCEDURE.example_answers)
        resident.get_by_role("button", name="次へ進む").click()
    resident.get_by_role("checkbox", name=PROCEDURE.declaration).check()
    resident.get_by_role("button", name="この内容で申請する").click()
    reference = resident.locator(".reference").inner_text()
    resident.get_by_role("link", name=f"申請の状況を見る（受付番号 {reference}）").click()
    expect_status(resident, "申請済み")
    status_url = resident.url

    # The clerk opens it, starts the review and asks for the document.
    clerk = make_page("desktop")
    sign_in(clerk, "e2e-wf-clerk", clerk_secret, PASSWORD)
    clerk.get_by_role("link", name=reference).click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text(f"受付番号 {reference}")
    case_url = clerk.url
    audit(clerk)
    clerk.get_by_role("button", name="審査を始める").click()
    expect(clerk.get_by_text("状況を「審査中」にしました。")).to_be_visible()
    audit(clerk)
    clerk.get_by_role("button", name="申請者に補正を依頼する").click()  # nothing filled in
    expect(
        clerk.get_by_role("link", name=re.compile("申請者へのお願いを4文字以上"))
    ).to_be_visible()
    expect(clerk.get_by_role("link", name=re.compile("直してもらう項目を1つ以上"))).to_be_visible()
    audit(clerk)
    by_label(clerk, "申請者へのお願い").fill(REQUEST)
    clerk.get_by_role("group", name=re.compile("直してもらう項目")).get_by_role(
        "checkbox", name="妊娠の診断書"
    ).check()
    clerk.get_by_role("button", name="申請者に補正を依頼する").click()
    expect(clerk.get_by_text("申請者に補正を依頼しました。")).to_be_visible()
    expect_status(clerk, "補正のお願い")
    audit(clerk)

    # The resident sees the request, on "my applications" too, and attaches the document.
    resident.goto("/my/applications")
    expect(
        resident.get_by_text("担当課から、足りない内容についてお願いがあります。")
    ).to_be_visible()
    audit(resident)
    resident.goto(status_url)
    expect_status(resident, "補正のお願い")
    expect(resident.get_by_text(REQUEST)).to_be_visible()
    audit(resident)
    resident.get_by_role("link", name="お願いされた項目を直して再提出する").click()
    expect(resident.get_by_role("heading", level=1)).to_have_text("お願いされた項目を直す")
    expect(resident.get_by_label("電話番号")).to_have_count(0)  # only what was asked for
    audit(resident)
    by_label(resident, "妊娠の診断書").set_input_files(sample_pdf(tmp_path, "診断書.pdf"))
    by_label(resident, "担当課への連絡（任意）").fill("診断書を撮影して添付しました")
    resident.get_by_role("button", name="直した内容で再提出する").click()
    expect(resident.get_by_text("直した内容を再提出しました。")).to_be_visible()
    expect_status(resident, "補正済み")
    audit(resident)

    # The clerk sees what changed, opens the document, and resumes the review.
    clerk.reload()
    corrections = clerk.get_by_role("table", name=re.compile("1回目の補正"))
    expect(
        corrections.get_by_role("row", name=re.compile("妊娠の診断書 変更あり"))
    ).to_contain_text("診断書.pdf")
    expect(clerk.get_by_text("診断書を撮影して添付しました")).to_be_visible()
    with clerk.expect_download() as download:
        clerk.get_by_role("link", name="診断書.pdf").click()
    assert download.value.suggested_filename == "診断書.pdf"
    clerk.get_by_role("button", name="補正を確認して審査を再開する").click()
    expect_status(clerk, "審査中")
    audit(clerk)

    # The reviewer requests approval; the approver approves.
    reviewer = make_page("desktop")
    sign_in(reviewer, "e2e-wf-reviewer", reviewer_secret, PASSWORD)
    reviewer.goto(case_url)
    by_label(reviewer, "決裁を依頼する：コメント").fill(
        "診断書を確認しました。受理してよいと考えます。"
    )
    reviewer.get_by_role("button", name="決裁を依頼する").click()
    expect_status(reviewer, "決裁中")
    audit(reviewer)
    resident.reload()
    expect_status(resident, "決裁中")

    approver = make_page("desktop")
    sign_in(approver, "e2e-wf-approver", approver_secret, PASSWORD)
    approver.goto(case_url)
    expect(approver.get_by_text("診断書を確認しました。受理してよいと考えます。")).to_be_visible()
    approver.get_by_role("button", name="承認する").click()
    expect_status(approver, "承認")
    history = approver.get_by_role("table", name="この申請の状況の変化")
    for who in ("窓口 一美", "審査 二郎", "決裁 三恵", "申請者"):
        expect(history.get_by_role("cell", name=who).first).to_be_visible()
    audit(approver)

    # The resident sees the decision and what happens next.
    resident.reload()
    expect_status(resident, "承認")
    expect(resident.get_by_text(PROCEDURE.next_steps)).to_be_visible()
    audit(resident)

    # The department's share of electronic decisions.
    approver.goto("/staff/reports/decisions")
    row = approver.get_by_role("row", name=re.compile("子育て支援課"))
    expect(row).to_contain_text("100.0%")
    audit(approver)
