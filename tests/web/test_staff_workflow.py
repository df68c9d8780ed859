"""The back office's workflow (issue 12): roles per transition from the catalog, asking the resident
for what is missing and the resident's correction (only the named fields, both versions kept),
electronic approval, the resident told of decisions, a clerk acting on a page that is out of date,
and the share of decisions made electronically."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from portal import audit
from portal.db import db
from portal.outbox.models import OutboxMessage
from portal.submissions import service
from portal.submissions.models import CorrectionRequest, Submission, SubmissionEvent
from tests.conftest import check_page, csrf_token
from tests.factories import staff_members as create_members
from tests.factories import staff_sign_in as sign_in
from tests.factories import submitted

MEMBERS = {
    "k-clerk": [("clerk", "kosodate")],
    "k-reviewer": [("reviewer", "kosodate")],
    "k-approver": [("approver", "kosodate")],
    "s-reviewer": [("reviewer", "shimin")],
    "s-approver": [("approver", "shimin")],
}


@pytest.fixture
def members(app):
    """login_id -> a client signed in as that member."""
    secrets = create_members(app, MEMBERS)
    return {login_id: sign_in(app.test_client(), login_id, s) for login_id, s in secrets.items()}


def hoiku_case(app, procedure_id: str = "hoiku-genkyo", email: str | None = None) -> str:
    """A submitted application (by default 保育の現況届 of the kosodate department, whose answers
    have no e-mail address); its public id."""
    return submitted(app, procedure_id, extra={"email": email} if email else None).public_id


def case_page(client, public_id):
    return client.get(f"/staff/submissions/{public_id}")


def act(client, public_id, transition, *, expected, comment=None):
    page = case_page(client, public_id)
    data = {
        "csrf_token": csrf_token(page.text),
        "transition": transition,
        "expected": expected,
    }
    if comment is not None:
        data["comment"] = comment
    return client.post(f"/staff/submissions/{public_id}/act", data=data)


def status_of(app, public_id):
    with app.app_context():
        return db.session.scalar(select(Submission.status).where(Submission.public_id == public_id))


def buttons(page) -> list[str]:
    return [b.get_text(strip=True) for b in page.select("main form button[type=submit]")]


def test_each_role_sees_only_the_transitions_the_catalog_gives_it(app, members):
    public_id = hoiku_case(app)
    clerk, reviewer, approver = members["k-clerk"], members["k-reviewer"], members["k-approver"]
    assert "審査を始める" in buttons(check_page(case_page(clerk, public_id)))
    assert "審査を始める" not in buttons(check_page(case_page(approver, public_id)))
    assert act(clerk, public_id, "start_review", expected="submitted").status_code == 303
    # In review: the reviewer may ask for approval; a clerk may not, even by posting it anyway.
    assert "決裁を依頼する" in buttons(check_page(case_page(reviewer, public_id)))
    assert "決裁を依頼する" not in buttons(check_page(case_page(clerk, public_id)))
    response = act(clerk, public_id, "request_approval", expected="in_review")
    page = check_page(clerk.get(response.headers["Location"]))
    assert "あなたの役割（この課での権限）ではできません" in page.get_text()
    assert status_of(app, public_id) == "in_review"
    # An approver of the department approves only once approval is requested.
    act(approver, public_id, "approve", expected="in_review")
    assert status_of(app, public_id) == "in_review"
    assert act(reviewer, public_id, "request_approval", expected="in_review").status_code == 303
    assert "承認する" in buttons(check_page(case_page(approver, public_id)))
    # Another department's reviewer cannot even open the case.
    assert case_page(members["s-reviewer"], public_id).status_code == 404
    response = act(members["s-reviewer"], public_id, "approve", expected="approval_requested")
    assert response.status_code == 404


def test_a_page_that_is_out_of_date_changes_nothing_and_says_so(app, members):
    public_id = hoiku_case(app)
    clerk, reviewer = members["k-clerk"], members["k-reviewer"]
    stale = case_page(reviewer, public_id)  # both open the case while it is 申請済み
    assert act(clerk, public_id, "start_review", expected="submitted").status_code == 303
    response = reviewer.post(
        f"/staff/submissions/{public_id}/act",
        data={
            "csrf_token": csrf_token(stale.text),
            "transition": "start_review",
            "expected": "submitted",
        },
    )
    assert response.status_code == 303
    page = check_page(reviewer.get(response.headers["Location"]))
    assert "ほかの職員が先にこの申請を処理した" in page.get_text()
    with app.app_context():
        events = db.session.scalars(
            select(SubmissionEvent.transition)
            .join(Submission)
            .where(Submission.public_id == public_id)
        ).all()
    assert events == ["submit", "start_review"]


def test_rejecting_needs_a_reason_and_keeps_what_was_typed(app, members):
    public_id = hoiku_case(app)
    act(members["k-clerk"], public_id, "start_review", expected="submitted")
    act(members["k-reviewer"], public_id, "request_approval", expected="in_review", comment="")
    response = act(
        members["k-approver"], public_id, "reject", expected="approval_requested", comment=" "
    )
    page = check_page(response, 422)
    assert page.find("a", href="#f-comment", string=re.compile("理由やコメントを入力してください"))
    assert status_of(app, public_id) == "approval_requested"
    response = act(
        members["k-approver"],
        public_id,
        "send_back",
        expected="approval_requested",
        comment="入所希望日の確認をしてください",
    )
    assert response.status_code == 303
    assert status_of(app, public_id) == "in_review"
    page = check_page(case_page(members["k-reviewer"], public_id))
    history = page.find("section", attrs={"aria-labelledby": "history-title"}).get_text()
    assert "入所希望日の確認をしてください" in history and "k-approver さん" in history


def ask(client, public_id, *, message, fields):
    page = case_page(client, public_id)
    return client.post(
        f"/staff/submissions/{public_id}/ask",
        data={
            "csrf_token": csrf_token(page.text),
            "transition": "ask_resident",
            "expected": "in_review",
            "message": message,
            "fields": fields,
        },
    )


def test_asking_the_resident_needs_a_message_and_fields(app, members):
    public_id = hoiku_case(app)
    clerk = members["k-clerk"]
    act(clerk, public_id, "start_review", expected="submitted")
    response = ask(clerk, public_id, message="就労証明書を添付してください", fields=[])
    page = check_page(response, 422)
    assert page.find("a", href="#f-fields")
    assert page.find("textarea", id="f-message").get_text() == "就労証明書を添付してください"
    assert status_of(app, public_id) == "in_review"


def test_the_resident_corrects_only_the_named_fields_and_staff_see_both_versions(app, members):
    public_id = hoiku_case(app)
    clerk = members["k-clerk"]
    act(clerk, public_id, "start_review", expected="submitted")
    response = ask(
        clerk, public_id, message="勤務先の名前を正式な名称で入力してください", fields=["employer"]
    )
    assert response.status_code == 303
    assert status_of(app, public_id) == "waiting_resident"
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        token = service.status_token(app.config["STATUS_LINK_KEY"], submission)
        before = dict(submission.answers)

    resident = app.test_client()
    status = check_page(resident.get(f"/status/{token}"))
    assert "勤務先の名前を正式な名称で入力してください" in status.get_text()
    response = resident.get(f"/status/{token}/correct")
    names = {i["name"] for i in check_page(response).select("main form [name]")}
    assert "employer" in names and "phone" not in names and "weekly_hours" not in names
    # A field that was not named cannot be changed by posting it anyway.
    response = resident.post(
        f"/status/{token}/correct",
        data={
            "csrf_token": csrf_token(response.text),
            "employer": "株式会社いすみ食品",
            "phone": "0470-00-0000",
            "note": "正式名称に直しました",
        },
    )
    assert response.status_code == 303
    assert status_of(app, public_id) == "resident_answered"
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        assert submission.answers["employer"] == "株式会社いすみ食品"
        assert submission.answers["phone"] == before["phone"]
        [correction] = db.session.scalars(select(CorrectionRequest)).all()
        assert correction.answers_before == before
        assert correction.answers_after["employer"] == "株式会社いすみ食品"
        assert correction.resident_note == "正式名称に直しました"
    # Staff see the difference; the case is back with them.
    page = check_page(case_page(clerk, public_id))
    table = page.find("section", attrs={"aria-labelledby": "corrections-title"}).find("table")
    [row] = [th.parent for th in table.find_all("th", scope="row") if "勤務先" in th.get_text()]
    assert "変更あり" in row.th.get_text()
    assert row.find("del").get_text() == before["employer"]
    assert row.find("ins").get_text() == "株式会社いすみ食品"
    assert "補正を確認して審査を再開する" in buttons(page)
    # Asked once: the correction page is closed again.
    response = resident.get(f"/status/{token}/correct")
    assert response.status_code == 302


def mail_of(app, public_id) -> list[OutboxMessage]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.related == f"submission:{public_id}")
                .order_by(OutboxMessage.id)
            )
        )


def test_the_resident_is_told_by_mail_of_requests_and_decisions(app, members):
    """転入届の予約 answers carry an e-mail address: each step the resident must know of is sent."""
    public_id = hoiku_case(app, "tennyu-yoyaku", email="yui@example.jp")
    reviewer, approver = members["s-reviewer"], members["s-approver"]
    act(reviewer, public_id, "start_review", expected="submitted")
    assert mail_of(app, public_id) == []  # starting the review is not news for the resident
    ask(reviewer, public_id, message="転入予定日を確認してください", fields=["move_date"])
    [asked] = mail_of(app, public_id)
    assert asked.to_address == "yui@example.jp" and "補正のお願い" in asked.subject
    assert "転入予定日を確認してください" in asked.body
    assert f"/my/applications/{public_id}" in asked.body
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        token = service.status_token(app.config["STATUS_LINK_KEY"], submission)
        move_date = submission.answers["move_date"]
    resident = app.test_client()
    form = resident.get(f"/status/{token}/correct")
    response = resident.post(
        f"/status/{token}/correct",
        data={"csrf_token": csrf_token(form.text), "move_date": move_date},
    )
    assert response.status_code == 303, response.text
    act(reviewer, public_id, "resume_review", expected="resident_answered")
    act(reviewer, public_id, "request_approval", expected="in_review", comment="")
    response = act(approver, public_id, "approve", expected="approval_requested", comment="")
    assert response.status_code == 303
    with app.app_context():
        procedure = service.procedure_of(
            db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        )
    decided = mail_of(app, public_id)[-1]
    assert len(mail_of(app, public_id)) == 2
    assert "承認" in decided.subject and procedure.next_steps in decided.body
    page = check_page(app.test_client().get(f"/status/{token}"))
    assert "承認" in page.find("strong", class_="status-tag").get_text()
    assert procedure.next_steps in page.get_text()


def test_internal_comments_stay_internal(app, members):
    public_id = hoiku_case(app)
    act(members["k-clerk"], public_id, "start_review", expected="submitted")
    act(
        members["k-reviewer"],
        public_id,
        "request_approval",
        expected="in_review",
        comment="内部メモ",
    )
    act(
        members["k-approver"],
        public_id,
        "reject",
        expected="approval_requested",
        comment="所得要件を満たしません",
    )
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        token = service.status_token(app.config["STATUS_LINK_KEY"], submission)
    text = check_page(app.test_client().get(f"/status/{token}")).get_text()
    assert "所得要件を満たしません" in text and "内部メモ" not in text


def test_the_share_of_decisions_made_electronically(app, members):
    for _ in range(3):
        public_id = hoiku_case(app, email=None)
        act(members["k-clerk"], public_id, "start_review", expected="submitted")
        act(members["k-reviewer"], public_id, "request_approval", expected="in_review", comment="")
        act(members["k-approver"], public_id, "approve", expected="approval_requested", comment="")
    public_id = hoiku_case(app, email=None)
    act(members["k-clerk"], public_id, "start_review", expected="submitted")
    act(
        members["k-reviewer"],
        public_id,
        "record_paper_approval",
        expected="in_review",
        comment="紙の起案（決裁番号123）で承認",
    )
    page = check_page(members["k-reviewer"].get("/staff/reports/decisions"))
    row = page.find("th", string="子育て支援課").parent
    cells = [td.get_text(strip=True) for td in row.find_all("td")]
    assert cells[:2] == ["3件", "1件"] and cells[2].startswith("75.0%")
    # Another department's member sees only their own department.
    page = check_page(members["s-reviewer"].get("/staff/reports/decisions"))
    assert not page.find("th", string="子育て支援課")


def test_an_attachment_added_in_a_correction_is_downloaded_never_shown(app, members):
    from tests.web.test_engine import PDF

    public_id = hoiku_case(app)
    clerk = members["k-clerk"]
    act(clerk, public_id, "start_review", expected="submitted")
    ask(clerk, public_id, message="就労証明書を添付してください", fields=["work_certificate"])
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        token = service.status_token(app.config["STATUS_LINK_KEY"], submission)
    resident = app.test_client()
    form = resident.get(f"/status/{token}/correct")
    response = resident.post(
        f"/status/{token}/correct",
        data={
            "csrf_token": csrf_token(form.text),
            "work_certificate": (io.BytesIO(PDF), "就労証明書.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.text
    page = check_page(case_page(clerk, public_id))
    link = page.find("a", string="就労証明書.pdf")
    download = clerk.get(link["href"])
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert members["s-reviewer"].get(link["href"]).status_code == 404
    with app.app_context():
        reasons = db.session.scalars(
            select(audit.AuditEntry.reason).where(
                audit.AuditEntry.target == f"submission:{public_id}"
            )
        ).all()
    assert "添付ファイル: work_certificate" in reasons


def test_the_resident_may_withdraw_until_a_decision(app, members):
    def withdraw(token):
        resident = app.test_client()
        page = resident.get(f"/status/{token}/withdraw")
        if page.status_code != 200:
            return page.status_code
        return resident.post(
            f"/status/{token}/withdraw",
            data={"csrf_token": csrf_token(page.text), "confirm": "yes"},
        ).status_code

    def token_of(public_id):
        with app.app_context():
            submission = db.session.scalar(
                select(Submission).where(Submission.public_id == public_id)
            )
            return service.status_token(app.config["STATUS_LINK_KEY"], submission)

    asked = hoiku_case(app)
    act(members["k-clerk"], asked, "start_review", expected="submitted")
    ask(members["k-clerk"], asked, message="電話番号を確認してください", fields=["phone"])
    withdraw(token_of(asked))
    assert status_of(app, asked) == "withdrawn"

    decided = hoiku_case(app)
    act(members["k-clerk"], decided, "start_review", expected="submitted")
    act(members["k-reviewer"], decided, "request_approval", expected="in_review", comment="")
    act(members["k-approver"], decided, "approve", expected="approval_requested", comment="")
    withdraw(token_of(decided))
    assert status_of(app, decided) == "approved"


def test_the_inbox_search_knows_the_applicant_whichever_way_the_form_asks(app):
    """A person field (保育の現況届) or two text fields (住民票の写し): either way the name and kana
    are searchable, kana in katakana."""
    person_id = hoiku_case(app)
    fields_id = submitted(app, "juminhyo-copy").public_id
    with app.app_context():
        by_person, by_fields = (
            db.session.scalar(select(Submission).where(Submission.public_id == public_id))
            for public_id in (person_id, fields_id)
        )
        assert by_person.applicant_search
        answers = by_fields.answers
        assert by_fields.applicant_search == service.normalize_search(
            f"{answers['applicant_name']}{answers['applicant_kana']}"
        )
        kana = service.normalize_search(japanese_kana_as_typed(answers["applicant_kana"]))
        assert kana in by_fields.applicant_search


def japanese_kana_as_typed(katakana: str) -> str:
    """How a clerk may type a reading: in hiragana."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)
