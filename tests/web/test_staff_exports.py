"""Exports for staff and the city's core systems, and the print view of a case: the CSV (columns,
UTF-8 with a BOM, masked My Numbers, formula cells neutralised, the period in Japanese days),
the JSON API with a staff token (401 for no, bad, expired or revoked tokens; keyset pages), a
clerk of another department getting the same 404 for the CSV, the print view and the API, and
the audit entries all of them leave."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from portal import audit, clock
from portal.db import db
from portal.demo import demo_pdf, example_answers
from portal.staff.models import StaffApiToken, StaffMember
from portal.submissions import service
from portal.submissions.models import Submission
from tests.conftest import check_page
from tests.factories import staff_sign_in as sign_in

JST = clock.TOKYO
MASKED = "●●●● ●●●● 0021"
FORMULAS = ['=HYPERLINK("http://evil")', "+81 90", "-2+3", "@SUM(A1)", "\tタブ", "\r改行"]


@pytest.fixture
def clerks(staff):  # noqa: F811  (the fixture imported above)
    """login_id -> TOTP secret: kosodate-clerk, shimin-clerk and admin (both departments)."""
    return staff


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=JST)


def file_ninshin(app, when: dt.datetime, *, notes: str | None = None, attach: bool = False):
    """A 妊娠の届出 (子育て支援課) submitted at `when`, from the catalog's example answers."""
    clock.set_override(when)
    with app.app_context():
        catalog = app.extensions["catalog"]
        procedure = catalog.procedure("ninshin-todoke")
        submission, _token = service.start_draft(db.session, catalog, procedure, clock.now())
        answers = example_answers(app, db.session, submission, procedure, clock.today_local())
        if notes is not None:
            answers["notes"] = notes
        if attach:
            ctx = service.FormContext(
                db.session, submission, app.extensions["submission_services"], clock.now()
            )
            field = procedure.field("diagnosis_document")
            info, error = ctx.store_upload(field, demo_pdf("妊娠の診断書"))
            assert error is None
            answers["diagnosis_document"] = [info["token"]]
        submission.answers = answers
        submission.steps_done = [s.id for s in procedure.steps]
        db.session.flush()
        service.submit(
            db.session,
            submission,
            True,
            app.config["STATUS_LINK_KEY"],
            clock.today_local(),
            clock.now(),
        )
        db.session.commit()
        return submission.reference, submission.public_id


def entries(app) -> list[audit.AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.id)))
        assert audit.verify(db.session).ok
        return rows


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # the BOM, for Excel
    return list(csv.reader(io.StringIO(body.decode("utf-8")[1:], newline="")))


# --- the export page and the CSV --------------------------------------------------------------


def test_the_export_page_offers_the_departments_procedures_only(app, clerks):
    client = sign_in(app.test_client(), "kosodate-clerk", clerks["kosodate-clerk"])
    home = check_page(client.get("/staff/"))
    assert home.find("a", string="申請データの出力（CSV）")["href"] == "/staff/exports"
    page = check_page(client.get("/staff/exports"))
    options = {o["value"] for o in page.find("select", id="f-procedure").find_all("option")}
    assert "ninshin-todoke" in options and "hoiku-riyou" in options
    assert "juminhyo-copy" not in options  # 市民課
    form = page.find("form", action="/staff/exports/submissions.csv")
    assert form["method"] == "get"
    assert {i["name"] for i in form.find_all(["input", "select"])} == {"procedure", "from", "to"}


def test_the_csv_has_fixed_columns_then_every_field_masked_and_neutralised(app, clerks):
    ref_attached, _ = file_ninshin(app, at(2026, 4, 1, 0, 5), attach=True)
    formula_refs = [
        file_ninshin(app, at(2026, 4, 10, 9, n), notes=f)[0] for n, f in enumerate(FORMULAS)
    ]
    ref_late, _ = file_ninshin(app, at(2026, 4, 30, 23, 59))
    outside = [
        file_ninshin(app, at(2026, 3, 31, 23, 59))[0],  # the day before, in Japan
        file_ninshin(app, at(2026, 5, 1, 0, 0))[0],  # the day after
    ]
    client = sign_in(app.test_client(), "kosodate-clerk", clerks["kosodate-clerk"])
    response = client.get(
        "/staff/exports/submissions.csv?procedure=ninshin-todoke&from=2026-04-01&to=2026-04-30"
    )
    assert (
        'filename="ninshin-todoke_20260401-20260430.csv"' in response.headers["Content-Disposition"]
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    header, body = rows[0], rows[1:]
    procedure = app.extensions["catalog"].procedure("ninshin-todoke")
    assert header == ["受付番号", "申請日時", "状態", "手数料", "支払い"] + [
        f.label for f in procedure.fields()
    ]
    assert [r[0] for r in body] == [ref_attached, *formula_refs, ref_late]
    assert not set(outside) & {r[0] for r in body}
    column = {label: i for i, label in enumerate(header)}
    first = body[0]
    assert first[1] == "2026/04/01 00:05" and first[2] == "申請済み"
    assert first[3] == "" and first[4] == ""  # no fee
    assert first[column["個人番号（マイナンバー）"]] == MASKED
    assert first[column["妊娠の診断書"]] == "demo-妊娠の診断書.pdf"
    assert first[column["診断を受けた医療機関"]] == "いすみ医療センター（デモ）"
    assert "100000000021" not in response.get_data(as_text=True)
    notes = [r[column["そのほか伝えたいこと"]] for r in body[1 : 1 + len(FORMULAS)]]
    assert notes == ["'" + f for f in FORMULAS]
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

    (export,) = [e for e in entries(app) if e.action == "export"]
    assert export.target == "procedure:ninshin-todoke" and export.department == "kosodate"
    assert export.reason == f"CSV 2026-04-01〜2026-04-30 {len(body)}件"
    with app.app_context():
        clerk = db.session.scalar(
            select(StaffMember).where(StaffMember.login_id == "kosodate-clerk")
        )
        assert export.actor == f"staff:{clerk.id}"


def test_an_empty_period_gives_the_header_and_is_audited(app, clerks):
    client = sign_in(app.test_client(), "kosodate-clerk", clerks["kosodate-clerk"])
    rows = read_csv(
        client.get(
            "/staff/exports/submissions.csv?procedure=hoiku-riyou&from=2026-01-01&to=2026-01-31"
        )
    )
    assert len(rows) == 1 and rows[0][0] == "受付番号"
    assert [e.reason for e in entries(app) if e.action == "export"] == [
        "CSV 2026-01-01〜2026-01-31 0件"
    ]


def test_a_wrong_form_is_shown_again_with_its_errors(app, clerks):
    client = sign_in(app.test_client(), "kosodate-clerk", clerks["kosodate-clerk"])
    page = check_page(client.get("/staff/exports/submissions.csv?procedure=&from=&to="), 400)
    assert page.find("a", href="#f-procedure", string="出力する手続を選んでください")
    url = "/staff/exports/submissions.csv?procedure=ninshin-todoke&from=2026-04-30&to=2026-04-01"
    page = check_page(client.get(url), 400)
    assert page.find("a", href="#f-to", string=re.compile("開始日と同じ日か"))
    assert page.find("option", value="ninshin-todoke").has_attr("selected")
    url = "/staff/exports/submissions.csv?procedure=ninshin-todoke&from=4月1日&to=2026-04-01"
    page = check_page(client.get(url), 400)
    assert page.find("a", href="#f-from")
    assert not [e for e in entries(app) if e.action == "export"]


def test_another_departments_clerk_gets_404_for_the_csv_and_the_print_view(app, clerks):
    _ref, public_id = file_ninshin(app, at(2026, 4, 2, 10, 0))
    shimin = sign_in(app.test_client(), "shimin-clerk", clerks["shimin-clerk"])
    csv_url = (
        "/staff/exports/submissions.csv?procedure=ninshin-todoke&from=2026-04-01&to=2026-04-30"
    )
    not_found = shimin.get(csv_url)
    assert not_found.status_code == 404
    unknown = shimin.get(csv_url.replace("ninshin-todoke", "no-such-procedure"))
    assert unknown.status_code == 404  # the same page (its language links repeat the URL)
    assert unknown.text == not_found.text.replace("ninshin-todoke", "no-such-procedure")
    assert shimin.get(f"/staff/submissions/{public_id}/print").status_code == 404
    # Their own department's procedure works.
    assert read_csv(shimin.get(csv_url.replace("ninshin-todoke", "juminhyo-copy")))
    # Nobody signed in: the same 404.
    assert app.test_client().get(csv_url).status_code == 404
    assert not [e for e in entries(app) if e.department == "kosodate"]


# --- the print view ------------------------------------------------------------------------------


def test_the_print_view_shows_the_case_masked_and_is_audited(app, clerks):
    reference, public_id = file_ninshin(app, at(2026, 4, 2, 10, 0), attach=True)
    client = sign_in(app.test_client(), "kosodate-clerk", clerks["kosodate-clerk"])
    case = check_page(client.get(f"/staff/submissions/{public_id}"))
    link = case.find("a", string="印刷用の表示")
    assert link["href"] == f"/staff/submissions/{public_id}/print"
    page = check_page(client.get(link["href"]))
    text = page.get_text()
    assert page.h1.get_text() == f"妊娠の届出（受付番号 {reference}）"
    assert MASKED in text and "100000000021" not in text
    assert "demo-妊娠の診断書.pdf" in text and "いすみ医療センター（デモ）" in text
    assert "印刷：kosodate-clerk さん" in text
    assert page.find("button", attrs={"data-print": True})
    views = [e for e in entries(app) if e.action == "view"]
    assert [e.target for e in views] == [f"submission:{public_id}"] * 2
    assert {e.department for e in views} == {"kosodate"}


# --- the JSON API ----------------------------------------------------------------------------------


def make_token(app, login_id: str, days: int = 30) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(
        args=[
            "staff",
            "token",
            "create",
            login_id,
            "--label",
            "住民記録システム連携",
            "--days",
            str(days),
        ]
    )
    assert result.exit_code == 0, result.output
    token_id = int(re.search(r"^token (\d+) for", result.output, re.M).group(1))
    token = re.search(r"token \(shown once\): (isp_\S+)", result.output).group(1)
    return token_id, token


def api(client, token: str | None, procedure="ninshin-todoke", **params):
    query = {"from": "2026-04-01", "to": "2026-04-30", **params}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(
        f"/api/staff/v1/procedures/{procedure}/submissions", query_string=query, headers=headers
    )


def test_the_api_pages_through_a_period_with_masked_answers(app, clerks):
    refs = [file_ninshin(app, at(2026, 4, 1 + n, 9, 0))[0] for n in range(5)]
    file_ninshin(app, at(2026, 5, 1, 9, 0))  # outside the period
    clock.set_override(at(2026, 5, 2, 9, 0))
    token_id, token = make_token(app, "kosodate-clerk")
    client = app.test_client()
    seen, pages, params = [], 0, {"limit": 2}
    while True:
        response = api(client, token, **params)
        assert response.status_code == 200, response.text
        assert response.mimetype == "application/json"
        data = response.get_json()
        assert data["procedure"] == {"id": "ninshin-todoke", "title": "妊娠の届出"}
        assert (data["from"], data["to"]) == ("2026-04-01", "2026-04-30")
        seen += data["items"]
        pages += 1
        if not data["next_cursor"]:
            assert data["next_url"] is None
            break
        assert f"after={data['next_cursor']}" in data["next_url"]
        params = {"limit": 2, "after": data["next_cursor"]}
    assert pages == 3 and [item["reference"] for item in seen] == refs
    item = seen[0]
    assert item["submitted_at"] == "2026-04-01T09:00:00+09:00"
    assert (item["status"], item["status_label"]) == ("submitted", "申請済み")
    assert (item["payment_status"], item["fee"]) == ("none", None)
    answers = item["answers"]
    assert answers["my_number"] == MASKED
    assert answers["phone"] == "09012345678"  # as stored (normalised), not as displayed
    assert answers["mother"]["name"] == "岬 花子"  # the catalog example
    assert "100000000021" not in str(seen) and "v1:" not in str(seen)

    exports = [e for e in entries(app) if e.action == "export"]
    assert [e.reason for e in exports] == [
        f"API 2026-04-01〜2026-04-30 {n}件（トークン {token_id}）" for n in (2, 2, 1)
    ]
    assert {(e.target, e.department) for e in exports} == {("procedure:ninshin-todoke", "kosodate")}
    with app.app_context():
        row = db.session.get(StaffApiToken, token_id)
        assert row.last_used_at == clock.now() and row.token_hash != token


def test_the_api_refuses_missing_wrong_expired_and_revoked_tokens(app, clerks):
    clock.set_override(at(2026, 5, 2, 9, 0))
    token_id, token = make_token(app, "kosodate-clerk", days=30)
    client = app.test_client()

    def refused(response, challenge: str) -> None:
        assert response.status_code == 401, response.text
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert "APIトークン" in response.get_json()["error"]["message"]
        assert response.headers["WWW-Authenticate"] == challenge

    refused(api(client, None), 'Bearer realm="staff-api"')
    invalid = 'Bearer realm="staff-api", error="invalid_token"'
    refused(api(client, "isp_not-a-real-token"), invalid)
    refused(api(client, token[:-1] + ("A" if token[-1] != "A" else "B")), invalid)
    refused(
        client.get(
            "/api/staff/v1/procedures/ninshin-todoke/submissions",
            headers={"Authorization": f"Basic {token}"},
        ),
        invalid,
    )
    # A staff session is no token.
    staff_client = sign_in(app.test_client(), "kosodate-clerk", clerks["kosodate-clerk"])
    refused(api(staff_client, None), 'Bearer realm="staff-api"')
    assert api(client, token).status_code == 200

    clock.set_override(at(2026, 6, 1, 9, 0, 1))  # 30 days later
    refused(api(client, token), invalid)

    clock.set_override(at(2026, 5, 3, 9, 0))
    _other_id, other = make_token(app, "kosodate-clerk")
    assert api(client, other).status_code == 200
    result = app.test_cli_runner().invoke(args=["staff", "token", "revoke", str(_other_id)])
    assert result.exit_code == 0 and f"token {_other_id} revoked" in result.output
    refused(api(client, other), invalid)
    again = app.test_cli_runner().invoke(args=["staff", "token", "revoke", str(_other_id)])
    assert again.exit_code == 1

    # A deactivated member's token stops working too.
    with app.app_context():
        member = db.session.scalar(
            select(StaffMember).where(StaffMember.login_id == "kosodate-clerk")
        )
        member.active = False
        db.session.commit()
    _third_id, third = make_token(app, "admin")
    assert api(client, third).status_code == 200
    actions = [e.action for e in entries(app)]
    assert actions.count("token_created") == 3 and actions.count("token_revoked") == 1


def test_the_api_gives_another_departments_procedure_404_and_bad_queries_400(app, clerks):
    file_ninshin(app, at(2026, 4, 2, 10, 0))
    clock.set_override(at(2026, 5, 2, 9, 0))
    _id, token = make_token(app, "shimin-clerk")
    client = app.test_client()
    other = api(client, token)
    unknown = api(client, token, procedure="no-such-procedure")
    assert other.status_code == unknown.status_code == 404
    assert (
        other.get_json()
        == unknown.get_json()
        == {"error": {"code": "not_found", "message": "手続が見つかりません"}}
    )
    assert api(client, token, procedure="juminhyo-copy").status_code == 200
    for params, message in (
        ({"from": "2026-04"}, "YYYY-MM-DD"),
        ({"to": ""}, "YYYY-MM-DD"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "to は、from と同じ日か"),
        ({"limit": "0"}, "limit は 1 から 500"),
        ({"limit": "x"}, "limit は 1 から 500"),
        ({"after": "not-a-cursor"}, "next_cursor"),
    ):
        response = api(client, token, procedure="juminhyo-copy", **params)
        assert response.status_code == 400, params
        assert response.get_json()["error"]["code"] == "bad_request"
        assert message in response.get_json()["error"]["message"]
    missing = client.get("/api/staff/v1/nothing-here", headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert client.post("/api/staff/v1/procedures/juminhyo-copy/submissions").status_code == 405
    assert not [e for e in entries(app) if e.department == "kosodate"]


def test_token_create_refuses_unknown_members_and_bad_lifetimes(app, clerks):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "token", "create", "nobody", "--label", "x"])
    assert result.exit_code == 1 and "no active staff account" in result.output
    result = runner.invoke(
        args=["staff", "token", "create", "admin", "--label", "x", "--days", "400"]
    )
    assert result.exit_code == 2
    with app.app_context():
        assert db.session.scalars(select(StaffApiToken)).all() == []


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "a=1", "１"])
def test_neutralise(cell):
    from portal.staff.exports import neutralise

    expected = "'" + cell if cell[0] in "=+-@\t\r" else cell
    assert neutralise(cell) == expected


def test_purged_applications_are_left_out_of_exports(app, clerks):
    reference, public_id = file_ninshin(app, at(2026, 4, 2, 10, 0))
    kept, _ = file_ninshin(app, at(2026, 4, 3, 10, 0))
    with app.app_context():
        row = db.session.scalar(select(Submission).where(Submission.public_id == public_id))
        row.purged_at = clock.now()
        row.answers = {}
        db.session.commit()
    client = sign_in(app.test_client(), "kosodate-clerk", clerks["kosodate-clerk"])
    rows = read_csv(
        client.get(
            "/staff/exports/submissions.csv?procedure=ninshin-todoke&from=2026-04-01&to=2026-04-30"
        )
    )
    assert [r[0] for r in rows[1:]] == [kept]
    page = check_page(client.get(f"/staff/submissions/{public_id}/print"))
    assert "保存期間（5年）を過ぎたため" in page.get_text() and reference in page.get_text()
