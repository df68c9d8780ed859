"""Kiosk mode, first slice (issue 20): a registered terminal, visits that start and end clean
on the server, the idle reset (by the kiosk's next request and by the worker's duty), the
out-of-service page when a wipe fails, and the 「続きはスマートフォンで」 hand-over.

Marked `db`: the wipe deletes sessions by a JSON field, which PostgreSQL and SQLite spell
differently, so CI runs these on both."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from portal import clock, create_app
from portal.config import ConfigError
from portal.db import db
from portal.identity.models import WebSession
from portal.kiosk import service
from portal.kiosk.models import Kiosk, KioskAlert, KioskHandoff, KioskVisit
from portal.mock_jpki.ca import MockCA
from portal.security import token_hash
from portal.submissions.models import Submission
from tests.conftest import check_page, csrf_token
from tests.factories import staff_sign_in
from tests.web.test_engine import APPLICANT, JUMINHYO
from tests.web.test_identity_features import StubProvider

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 6, 1, 1, 30, tzinfo=dt.UTC)  # 10:30 in Japan
PLACE = "本庁舎1階 市民課前"
STEP = f"{JUMINHYO}/apply/applicant"


@pytest.fixture
def stub(app, tmp_path):
    provider = StubProvider(MockCA(tmp_path / "ca"))
    app.extensions["identity_provider"] = provider
    return provider


@pytest.fixture
def now():
    clock.set_override(NOW)
    return NOW


def form_post(client, page_url: str, url: str, data: dict | None = None):
    token = csrf_token(client.get(page_url).text)
    return client.post(url, data={**(data or {}), "csrf_token": token})


def register_terminal(app, staff, name="本庁舎1号機", place=PLACE):
    """A terminal on which the administrator registered a kiosk: its client."""
    terminal = app.test_client()
    staff_sign_in(terminal, "admin", staff["admin"])
    response = form_post(
        terminal, "/staff/kiosks", "/staff/kiosks/register", {"name": name, "place": place}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/kiosk/"
    return terminal, response


def start_visit(terminal):
    response = form_post(terminal, "/kiosk/", "/kiosk/visit")
    assert response.headers["Location"] == "/kiosk/procedures"
    return response


def fill_half(terminal, persona: str | None = "parent") -> Submission:
    """A resident (signed in with their card when `persona`) starts 住民票 and answers its
    first step."""
    if persona:
        assert terminal.get(f"/login/callback?as={persona}").status_code == 302
    response = form_post(terminal, JUMINHYO, f"{JUMINHYO}/start")
    assert response.headers["Location"] == STEP, response.text
    assert form_post(terminal, STEP, STEP, APPLICANT).status_code == 302
    return latest_draft()


def latest_draft() -> Submission:
    return db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def visit_sessions() -> int:
    return count(WebSession, WebSession.data[service.SESSION_KEY].as_string().is_not(None))


# --- registration ---------------------------------------------------------------------------


def test_an_administrator_registers_the_terminal_itself_and_is_signed_out(app, staff, now):
    terminal, response = register_terminal(app, staff)
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("portal_kiosk=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    with app.app_context():
        kiosk = db.session.scalar(select(Kiosk))
        assert (kiosk.name, kiosk.place, kiosk.token_hash) == (
            "本庁舎1号機",
            PLACE,
            token_hash(token),
        )
        assert token not in repr(kiosk.__dict__)  # only the hash is stored
    assert terminal.get("/staff/").status_code == 404  # the administrator is signed out
    start = check_page(terminal.get("/kiosk/"))
    assert PLACE in start.get_text()
    assert start.find("button", string="手続をする")
    # What this slice does not do yet says so.
    soon = [p.get_text(" ", strip=True) for p in start.select(".kiosk-tile--soon")]
    assert soon == []  # every service of the start screen is built (0057)
    assert start.find("button", string="予約の受付（チェックイン）")
    assert start.find("button", string="職員を呼ぶ")
    assert start.find("button", string="証明書を印刷する")

    # The list shows it with its last-seen time; clerks do not see the page at all.
    admin = staff_sign_in(app.test_client(), "admin", staff["admin"], ahead=1)
    listing = check_page(admin.get("/staff/kiosks")).get_text(" ", strip=True)
    assert "本庁舎1号機" in listing and PLACE in listing and "2026年6月1日 10時30分" in listing
    clerk = staff_sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"])
    assert clerk.get("/staff/kiosks").status_code == 404


def test_registering_needs_a_name_and_a_place_and_keeps_what_was_typed(app, staff):
    admin = staff_sign_in(app.test_client(), "admin", staff["admin"])
    response = form_post(admin, "/staff/kiosks", "/staff/kiosks/register", {"name": "1号機"})
    soup = check_page(response, 400)
    assert "設置場所を入力してください" in soup.get_text()
    assert soup.find("input", id="f-name")["value"] == "1号機"
    assert "portal_kiosk" not in response.headers.get("Set-Cookie", "")


def test_an_unregistered_browser_only_learns_what_a_kiosk_is(app, client, staff):
    about = check_page(client.get("/kiosk/"))
    assert about.h1.get_text() == "キオスク端末について"
    assert not about.find("button", string="手続をする")
    assert client.get("/kiosk/procedures").status_code == 403
    assert client.get("/kiosk/end").status_code == 403
    client.set_cookie("portal_kiosk", "typed-by-hand")
    assert check_page(client.get("/kiosk/")).h1.get_text() == "キオスク端末について"
    # An ordinary page is ordinary (no kiosk frame, nothing redirected).
    home = client.get("/")
    assert home.status_code == 200 and "kiosk-timeout" not in home.text


def test_a_revoked_kiosk_is_an_ordinary_browser_again(app, staff, stub, now):
    terminal, _ = register_terminal(app, staff)
    start_visit(terminal)
    assert terminal.get("/login/callback?as=parent").status_code == 302
    with app.app_context():
        public_id = db.session.scalar(select(Kiosk.public_id))
    admin = staff_sign_in(app.test_client(), "admin", staff["admin"], ahead=1)
    response = form_post(admin, "/staff/kiosks", f"/staff/kiosks/{public_id}/revoke")
    assert response.status_code == 303
    assert "登録取消" in admin.get("/staff/kiosks").text
    response = terminal.get("/kiosk/")
    assert check_page(response).h1.get_text() == "キオスク端末について"
    assert any(c.startswith("portal_kiosk=;") for c in response.headers.getlist("Set-Cookie"))
    # Nothing of the visit it had when revoked: not the card login, not the visit's pages.
    home = terminal.get("/")
    assert (
        home.status_code == 200 and "岬 花子" not in home.text and "kiosk-timeout" not in home.text
    )


# --- a visit starts and ends clean ------------------------------------------------------------


def test_the_engine_pages_of_a_visit_wear_the_kiosk_frame_and_leave_nothing_behind(
    app, staff, stub, now
):
    terminal, _ = register_terminal(app, staff)
    start_visit(terminal)
    with app.app_context():
        fill_half(terminal)
    response = terminal.get(f"{JUMINHYO}/apply/target")
    page = check_page(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert page.find("a", string="終了")["href"] == "/kiosk/end"
    dialog = page.find("dialog", id="kiosk-timeout")
    assert dialog["data-seconds-left"] == "90" and dialog["data-warning-seconds"] == "30"
    assert page.find("form", method="post")["autocomplete"] == "off"
    for field in page.select("main input:not([type=hidden]), main textarea"):
        assert field.get("autocomplete", "off") == "off", field
    assert "あとで続ける" not in page.get_text()
    links = [a["href"] for a in page.find_all("a", href=True)]
    assert not [h for h in links if h.startswith("http") or "download" in h], links
    assert not page.select("[target], a[download]")
    # What a kiosk does not serve: resume codes, status links, my applications, other pages.
    for url in (f"{JUMINHYO}/save", "/resume", "/my/applications", "/"):
        response = terminal.get(url)
        assert (response.status_code, response.headers.get("Location")) == (
            303,
            "/kiosk/procedures",
        ), url


def test_ending_a_visit_deletes_its_session_and_drafts_and_says_so(app, staff, stub, now):
    terminal, _ = register_terminal(app, staff)
    start_visit(terminal)
    with app.app_context():
        draft = fill_half(terminal)
        assert draft.answers["phone"] == APPLICANT["phone"]
        assert draft.entered_by.startswith("kiosk:")  # no card login elsewhere takes it over
        assert visit_sessions() == 1
    end = check_page(terminal.get("/kiosk/end")).get_text()
    assert (
        "住民票の写し等の交付請求" in end
        and "マイナンバーカードと、印刷した紙をお取りください" in end
    )

    clock.set_override(NOW + dt.timedelta(seconds=60))
    response = form_post(terminal, "/kiosk/end", "/kiosk/end")
    assert (response.status_code, response.headers["Location"]) == (303, "/kiosk/")
    with app.app_context():
        assert count(Submission) == 0
        assert visit_sessions() == 0
        visit = db.session.scalar(select(KioskVisit))
        assert visit.end_reason == "ended" and visit.ended_at == NOW + dt.timedelta(seconds=60)
    start = check_page(terminal.get("/kiosk/"))
    assert "前の方の情報は消去されました（10:31）" in start.get_text()
    assert "岬" not in terminal.get("/kiosk/").text  # the parent persona, 岬 花子
    # A form left on screen from the ended visit goes to the start screen, CSRF token or not.
    stale = terminal.post(STEP, data={**APPLICANT, "csrf_token": "from-the-ended-visit"})
    assert (stale.status_code, stale.headers["Location"]) == (303, "/kiosk/")
    # A stale page of the ended visit (Back) shows the start screen, nothing of the resident.
    for url in (STEP, f"{JUMINHYO}/check", "/kiosk/procedures", "/kiosk/end"):
        response = terminal.get(url)
        assert (response.status_code, response.headers["Location"]) == (303, "/kiosk/"), url


def test_the_next_request_after_the_idle_time_wipes_the_visit_first(app, staff, stub, now):
    terminal, _ = register_terminal(app, staff)
    start_visit(terminal)
    with app.app_context():
        fill_half(terminal)
    clock.set_override(NOW + dt.timedelta(seconds=89))
    assert terminal.get("/kiosk/time-left").json == {"seconds_left": 1}
    clock.set_override(NOW + dt.timedelta(seconds=95))
    response = terminal.get(STEP)
    assert response.headers["Location"] == "/kiosk/"
    with app.app_context():
        assert count(Submission) == 0 and visit_sessions() == 0
        assert db.session.scalar(select(KioskVisit.end_reason)) == "idle"
    assert "前の方の情報は消去されました（10:31）" in terminal.get("/kiosk/").text


def test_activity_and_continue_keep_a_visit_going_and_asking_does_not(app, staff, now):
    terminal, _ = register_terminal(app, staff)
    start_visit(terminal)
    clock.set_override(NOW + dt.timedelta(seconds=80))
    assert terminal.get("/kiosk/time-left").json == {"seconds_left": 10}
    token = csrf_token(terminal.get("/kiosk/procedures").text)  # activity: back to 90
    clock.set_override(NOW + dt.timedelta(seconds=160))
    response = terminal.post(
        "/kiosk/continue", headers={"Accept": "application/json", "X-CSRFToken": token}
    )
    assert response.json == {"seconds_left": 90}
    clock.set_override(NOW + dt.timedelta(seconds=240))
    assert terminal.get("/kiosk/procedures").status_code == 200


def test_the_server_ends_an_idle_visit_by_itself(app, staff, stub, now):
    """An unplugged kiosk never asks again: the worker's duty wipes the visit."""
    terminal, _ = register_terminal(app, staff)
    start_visit(terminal)
    with app.app_context():
        fill_half(terminal)
    runner = app.test_cli_runner()
    clock.set_override(NOW + dt.timedelta(seconds=60))
    result = runner.invoke(args=["portal", "worker", "--once"])
    assert not any(line.startswith("kiosk:") for line in result.output.splitlines())
    with app.app_context():
        assert count(Submission) == 1 and visit_sessions() == 1
    clock.set_override(NOW + dt.timedelta(minutes=3))
    result = runner.invoke(args=["portal", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "kiosk: 1 idle visit(s) wiped, 0 failed" in result.output.splitlines()
    with app.app_context():
        assert count(Submission) == 0 and visit_sessions() == 0
        assert count(KioskVisit, KioskVisit.ended_at.is_(None)) == 0


def test_a_wipe_that_fails_puts_the_kiosk_out_of_service_and_alerts_staff(
    app, staff, stub, now, monkeypatch
):
    terminal, _ = register_terminal(app, staff)
    start_visit(terminal)
    with app.app_context():
        fill_half(terminal)

    def broken(_session, _visit):
        raise OSError("disk on fire")

    monkeypatch.setattr(service, "_delete_sessions", broken)
    response = form_post(terminal, "/kiosk/end", "/kiosk/end")
    page = check_page(response, 503)
    assert page.h1.get_text() == "ただいま使用できません。職員にお声がけください"
    with app.app_context():
        # Nothing was called wiped: the transaction rolled back as a whole.
        assert count(Submission) == 1
        assert count(KioskVisit, KioskVisit.ended_at.is_(None)) == 1
        alert = db.session.scalar(select(KioskAlert))
        assert (alert.kind, alert.detail) == ("wipe-failed", "OSError")
    # Nobody is served: not the start screen, not a new visit, not the old pages.
    for url in ("/kiosk/", "/kiosk/procedures", STEP):
        assert check_page(terminal.get(url), 503).h1.get_text().startswith("ただいま使用できません")
    assert "前の方の情報は消去されました" not in terminal.get("/kiosk/").text

    admin = staff_sign_in(app.test_client(), "admin", staff["admin"], ahead=1)
    listing = admin.get("/staff/kiosks").text
    assert "消去に失敗しました（OSError）" in listing and "停止中" in listing
    with app.app_context():
        public_id = db.session.scalar(select(Kiosk.public_id))
    form_post(admin, "/staff/kiosks", f"/staff/kiosks/{public_id}/wipe")
    assert "また失敗しました" in admin.get("/staff/kiosks").text  # still broken: still stopped
    monkeypatch.undo()
    form_post(admin, "/staff/kiosks", f"/staff/kiosks/{public_id}/wipe")
    assert "使える状態に戻りました" in admin.get("/staff/kiosks").text
    with app.app_context():
        assert count(Submission) == 0 and visit_sessions() == 0
        assert count(KioskAlert, KioskAlert.resolved_at.is_(None)) == 0
    assert "前の方の情報は消去されました（10:30）" in terminal.get("/kiosk/").text


def test_a_failure_found_by_the_duty_also_stops_the_kiosk(app, staff, stub, now, monkeypatch):
    terminal, _ = register_terminal(app, staff)
    start_visit(terminal)
    with app.app_context():
        fill_half(terminal)
    monkeypatch.setattr(service, "_delete_drafts", lambda *_a: 1 / 0)
    clock.set_override(NOW + dt.timedelta(minutes=3))
    result = app.test_cli_runner().invoke(args=["portal", "worker", "--once"])
    assert "kiosk: 0 idle visit(s) wiped, 1 failed" in result.output.splitlines()
    assert terminal.get("/kiosk/").status_code == 503


# --- 「続きはスマートフォンで」 ------------------------------------------------------------


def hand_over(app, staff, persona="parent") -> tuple[str, int]:
    terminal, _ = register_terminal(app, staff)
    start_visit(terminal)
    with app.app_context():
        draft = fill_half(terminal, persona)
        public_id, draft_id = draft.public_id, draft.id
    end = terminal.get("/kiosk/end")
    assert "続きはスマートフォンで" in end.text
    response = terminal.post(
        f"/kiosk/handoff/{public_id}", data={"csrf_token": csrf_token(end.text)}
    )
    assert response.headers["Location"] == "/kiosk/handoff"
    page = check_page(terminal.get("/kiosk/handoff"))
    code = page.find(id="handoff-code").get_text()
    assert re.fullmatch(r"[34679ACEFGHJKMNPQRTWXY]{4}-[34679ACEFGHJKMNPQRTWXY]{4}", code)
    text = page.get_text()
    assert f"{PLACE}で10:30に入力を始めた" in text and "11:00までの1回だけ" in text
    assert "「http://localhost/continue」を開いて" in text
    assert page.find("svg", attrs={"aria-label": re.compile(code)})
    # The resident presses 終了: the visit goes, the handed-over draft stays for its code only.
    assert form_post(terminal, "/kiosk/end", "/kiosk/end").headers["Location"] == "/kiosk/"
    with app.app_context():
        assert visit_sessions() == 0
        assert count(Submission, Submission.id == draft_id) == 1
    return code, draft_id


def redeem(phone, code):
    return form_post(phone, "/continue", "/continue", {"code": code})


def test_the_handoff_opens_the_draft_for_its_owner_only_after_their_login_and_once(
    app, staff, stub, now
):
    code, draft_id = hand_over(app, staff)
    phone = app.test_client()
    # The QR code's address keeps the code out of the address bar and asks for the card.
    response = phone.get(f"/continue?code={code.replace('-', '')}")
    assert response.headers["Location"] == "/continue"
    page = check_page(phone.get("/continue"))
    assert page.find("button", string="マイナンバーカードでログイン")
    assert not page.find("input", id="f-code")

    # Someone else's card: refused, and the code still works for its owner.
    other = app.test_client()
    other.get("/login/callback?as=adult")
    refused = check_page(redeem(other, code))
    assert "コードが正しくないか" in refused.get_text()

    # The owner's own login alone does not bring the draft back (no other way back).
    phone.get("/login/callback?as=parent")
    start = phone.get(JUMINHYO).text
    assert "入力中の申請があります" not in start
    assert "09012345678" not in phone.get(STEP, follow_redirects=True).text

    response = redeem(phone, code.lower().replace("-", " "))
    assert (
        response.status_code == 302
        and "/procedures/juminhyo-copy/apply/" in response.headers["Location"]
    )
    step = phone.get(STEP)
    assert step.status_code == 200 and 'value="09012345678"' in step.text
    with app.app_context():
        draft = db.session.get(Submission, draft_id)
        assert draft.entered_by is None  # an ordinary draft of the resident's now
        assert db.session.scalar(select(KioskHandoff.used_at)) == NOW

    again = app.test_client()
    again.get("/login/callback?as=parent")
    assert "コードが正しくないか" in redeem(again, code).text


def test_a_handoff_code_expires_and_its_draft_goes(app, staff, stub, now):
    code, draft_id = hand_over(app, staff)
    clock.set_override(NOW + dt.timedelta(minutes=30))
    phone = app.test_client()
    phone.get("/login/callback?as=parent")
    assert "コードが正しくないか" in redeem(phone, code).text
    result = app.test_cli_runner().invoke(args=["portal", "worker", "--once"])
    assert "kiosk: 1 expired hand-over draft(s) deleted" in result.output.splitlines()
    with app.app_context():
        assert count(Submission) == 0 and count(KioskHandoff) == 0


def test_no_handoff_without_a_card_login(app, staff, stub, now):
    terminal, _ = register_terminal(app, staff)
    start_visit(terminal)
    with app.app_context():
        public_id = fill_half(terminal, persona=None).public_id
    end = terminal.get("/kiosk/end")
    assert "スマートフォンに引き継げません" in end.text
    assert "続きはスマートフォンで" not in end.text
    response = terminal.post(
        f"/kiosk/handoff/{public_id}", data={"csrf_token": csrf_token(end.text)}
    )
    assert response.status_code == 404


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"KIOSK_PROCEDURES": ["no-such-procedure"]}, "PORTAL_KIOSK_PROCEDURES"),
        ({"KIOSK_PROCEDURES": ["inkan-toroku"]}, "PORTAL_KIOSK_PROCEDURES"),
        ({"KIOSK_IDLE_WARNING_SECONDS": 90}, "PORTAL_KIOSK_IDLE_WARNING_SECONDS"),
        ({"KIOSK_SERVICES": ["fax"]}, "PORTAL_KIOSK_SERVICES"),
    ],
)
def test_kiosk_settings_are_checked_at_start(database_url, tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        create_app(
            "test",
            {
                "DATABASE_URL": database_url,
                "SECRET_KEY": "t" * 64,
                "INSTANCE_PATH": str(tmp_path),
                **overrides,
            },
        )
