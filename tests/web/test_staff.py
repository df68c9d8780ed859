"""Staff accounts: sign-in with a password and a one-time code, lockout, department scoping
(404 for another department's case), the separation of staff and resident sessions (every staff
route is a 404 to a resident, enumerated from the URL map), revealing a masked My Number with a
reason, sign-out everywhere, and the audit trail residents see on their status page."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from portal import audit, clock
from portal.db import db
from portal.staff.models import StaffMember
from portal.submissions import service
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token
from tests.factories import PASSWORD, code_for, submitted
from tests.factories import post_form as post
from tests.factories import staff_sign_in as sign_in


def test_sign_in_with_password_and_code(app, staff):
    client = sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    page = check_page(client.get("/staff/"))
    assert "kosodate-clerk さん（職員）" in page.header.get_text()
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(audit.AuditEntry))]
    assert actions == ["sign_in"]


def test_a_code_is_accepted_once(app, staff):
    clock.set_override(clock.now())  # both sign-ins in one 30-second step of the code
    secret = staff["kosodate-clerk"]
    sign_in(app.test_client(), "kosodate-clerk", secret)
    other = app.test_client()
    post(other, "/staff/login", {"login_id": "kosodate-clerk", "password": PASSWORD})
    response = post(other, "/staff/login/code", {"code": code_for(secret)})
    page = check_page(response)
    assert page.find("a", string=re.compile("確認コードが違います"))


def test_wrong_codes_and_passwords_lock_the_account(app, staff):
    client = app.test_client()
    post(client, "/staff/login", {"login_id": "kosodate-clerk", "password": PASSWORD})
    for _ in range(2):
        response = post(client, "/staff/login/code", {"code": "000000"})
        assert "確認コードが違います" in response.text
    for _ in range(2):
        response = post(client, "/staff/login", {"login_id": "kosodate-clerk", "password": "nope"})
        assert "ログインIDまたはパスワードが違うか" in response.text
    post(client, "/staff/login", {"login_id": "kosodate-clerk", "password": PASSWORD})
    response = post(client, "/staff/login/code", {"code": "111111"})  # the fifth failure
    assert "15分間ロックされています" in response.text
    # Locked: even the right password is refused, in the words of a wrong password (whether an
    # account exists or is locked is not told; tests/web/test_account_enumeration.py).
    response = post(client, "/staff/login", {"login_id": "kosodate-clerk", "password": PASSWORD})
    assert "ログインIDまたはパスワードが違うか" in response.text
    assert "/staff/login/code" not in response.headers.get("Location", "")
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(audit.AuditEntry))]
    assert actions.count("sign_in_failed") == 6 and actions.count("lockout") == 1
    # 15 minutes later it opens again.
    clock.set_override(clock.now() + dt.timedelta(minutes=16))
    sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])


def test_an_unknown_login_id_gets_the_same_answer(app, staff):
    response = post(app.test_client(), "/staff/login", {"login_id": "nobody", "password": "x"})
    assert "ログインIDまたはパスワードが違うか" in check_page(response).get_text()


def test_a_clerk_sees_only_their_departments_cases(app, staff):
    hoiku = submitted(app, "ninshin-todoke")  # 子育て支援課
    juminhyo = submitted(app, "juminhyo-copy")  # 市民課
    kosodate = sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    listing = check_page(kosodate.get("/staff/")).main.get_text()
    assert hoiku.reference in listing and juminhyo.reference not in listing
    assert kosodate.get(f"/staff/submissions/{hoiku.public_id}").status_code == 200
    shimin = sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"])
    assert shimin.get(f"/staff/submissions/{hoiku.public_id}").status_code == 404
    assert shimin.post(f"/staff/submissions/{hoiku.public_id}/reveal").status_code in (400, 404)


def staff_urls(app):
    """Every staff route with made-up arguments, and its methods."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint in {"staff.login", "staff.code"}:
            continue
        values = {arg: 1 if "id" in arg and "public" not in arg else "x" for arg in rule.arguments}
        url = rule.build(values)[1]
        yield url, sorted(rule.methods - {"HEAD", "OPTIONS"})


def test_a_resident_session_gets_404_on_every_staff_route(app, staff):
    resident = app.test_client()
    with resident.session_transaction() as web_session:
        web_session["user"] = {"sub": "r", "name": "住民", "provider": "jpki", "person_id": "adult"}
    urls = list(staff_urls(app))
    assert len(urls) >= 6
    for url, methods in urls:
        for method in methods:
            response = resident.open(url, method=method)
            assert response.status_code == 404, (method, url, response.status_code)


def test_a_staff_session_does_not_act_as_a_resident(app, staff):
    client = sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    response = client.get("/my/applications")
    assert response.headers["Location"].startswith("/login")
    # The staff cookie is scoped to /staff.
    cookie = client.get_cookie("portal_staff_session", path="/staff")
    assert cookie is not None and cookie.path == "/staff" and cookie.http_only


def test_revealing_a_my_number_needs_a_reason_and_is_shown_to_the_resident(app, staff):
    ninshin = submitted(app, "ninshin-todoke")  # 妊娠の届出: the mother's My Number
    client = sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    url = f"/staff/submissions/{ninshin.public_id}"
    page = check_page(client.get(url))
    assert "1000 0000 0021" not in page.get_text() and "●●●● ●●●● 0021" in page.get_text()
    response = post(client, f"{url}/reveal", {"reason": "い"})
    assert "表示する理由を4文字以上" in check_page(response, 400).get_text()
    response = post(client, f"{url}/reveal", {"reason": "住民基本台帳との照合のため"})
    page = check_page(response)
    assert "1000 0000 0021" in page.get_text()
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        entries = list(db.session.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.id)))
        assert audit.verify(db.session).ok
    reveal = entries[-1]
    assert (reveal.action, reveal.target, reveal.department, reveal.reason) == (
        "reveal",
        f"submission:{ninshin.public_id}",
        "kosodate",
        "住民基本台帳との照合のため",
    )
    assert "1234" not in " ".join(f"{e.target} {e.reason}" for e in entries if e.reason is None)

    token = service.status_token(app.config["STATUS_LINK_KEY"], ninshin)
    status = check_page(app.test_client().get(f"/status/{token}")).main.get_text()
    assert "子育て支援課" in status.split("市の担当課による確認")[1].split("申請した内容")[0]


def test_an_administrator_signs_a_member_out_everywhere(app, staff):
    member = sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    assert member.get("/staff/").status_code == 200
    admin = sign_in(app.test_client(), "admin", staff["admin"])
    page = check_page(admin.get("/staff/members"))
    assert "kosodate-clerk" in page.get_text()
    with app.app_context():
        member_id = db.session.scalar(
            select(StaffMember.id).where(StaffMember.login_id == "kosodate-clerk")
        )
    response = admin.post(
        f"/staff/members/{member_id}/sign-out-everywhere",
        data={"csrf_token": csrf_token(admin.get("/staff/members").text)},
    )
    assert response.status_code == 302
    assert member.get("/staff/").status_code == 404
    # A clerk is no administrator.
    again = sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"], ahead=1)
    assert again.get("/staff/members").status_code == 404


def test_staff_sessions_end_after_15_idle_minutes(app, staff):
    client = sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    clock.set_override(clock.now() + dt.timedelta(minutes=16))
    assert client.get("/staff/").status_code == 404


def test_demo_accounts_are_refused_outside_demo_deployments(app, staff):
    with app.app_context():
        db.session.scalar(
            select(StaffMember).where(StaffMember.login_id == "kosodate-clerk")
        ).demo = True
        db.session.commit()
    app.config["DEMO_DEPLOYMENT"] = False
    response = post(
        app.test_client(), "/staff/login", {"login_id": "kosodate-clerk", "password": PASSWORD}
    )
    assert "ログインIDまたはパスワードが違うか" in response.text


def test_staff_preview_every_procedure_with_its_examples(app, staff):
    client = sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"])
    listing = check_page(client.get("/staff/preview"))
    catalog = app.extensions["catalog"]
    assert len(listing.select("main li a")) == len(catalog.procedures)
    for procedure in catalog.procedures:
        page = check_page(client.get(f"/staff/preview/{procedure.id}"))
        assert page.h1.get_text() == procedure.title
        steps = page.select("section.summary-card h2")
        assert len(steps) == len(procedure.steps)
    # Example answers are in the inputs.
    page = check_page(client.get("/staff/preview/juminhyo-copy"))
    assert page.find("input", attrs={"name": "applicant_name"})["value"] == "大原 太郎"
    assert "記入例では 600円" in page.get_text()
    assert app.test_client().get("/staff/preview").status_code == 404


def test_a_case_filed_for_someone_else_shows_who_acted(app, staff):
    """The case page of a 代理 application lists the acting-for rows (it used to fail building
    the resident's "change" link from a staff page)."""
    case = submitted(app, "ninshin-todoke")
    with app.app_context():
        row = db.session.get(Submission, case.id)
        row.acting_for = {
            "relationship": "household",
            "applicant_name": "岬 健一",
            "subject_name": "岬 花子",
            "subject_birth_date": "1990-04-10",
            "delegation": "household_record",
            "letter": [],
        }
        db.session.commit()
    clerk = sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    page = check_page(clerk.get(f"/staff/submissions/{case.public_id}")).main.get_text()
    assert "同じ世帯の家族" in page
    assert "岬 健一" in page and "岬 花子" in page
