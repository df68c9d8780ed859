"""Booking a counter through the pages (Flask test client, clock fixed): the calendar's day
names, booking with the contact details, the manage page with its ticket and .ics, cancelling
and rescheduling (and both stopping when the appointment starts), the per-resident limit,
"already taken" with alternatives that keep what was typed, messages in the outbox, and the
staff side: day view, check-in by ticket token with queue numbers, statuses, blocked slots and
closures, each scoped to the member's departments."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import vobject
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal import clock
from portal.appointments.models import Appointment, AppointmentSlot
from portal.clock import TOKYO
from portal.db import db
from portal.outbox.models import OutboxMessage
from tests.conftest import check_page, csrf_token
from tests.factories import staff_sign_in as sign_in

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)  # Monday
COUNTER = "/appointments/shimin-main"
QUERY = "service=juminhyo&people=1"


@pytest.fixture(autouse=True)
def fixed_clock(app):
    clock.set_override(NOW)
    yield
    clock.set_override(None)


def day_url(counter: str, day: str, query: str = QUERY) -> str:
    return f"/appointments/{counter}/{day}?{query}"


def book(client, counter="shimin-main", day="2026-12-01", time="09:00", query=QUERY, **fields):
    url = day_url(counter, day, query)
    page = client.get(url)
    data = {"time": time, "name": "夷隅 花子", "email": "hanako@example.jp", "phone": ""}
    data.update(fields)
    for pair in query.split("&"):
        key, value = pair.split("=")
        data.setdefault(key, value)
    return client.post(url, data={**data, "csrf_token": csrf_token(page.text)})


def manage_path(response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["Location"].split("?")[0]


def test_the_calendar_names_each_day_with_its_date_and_whether_it_has_room(client, app):
    soup = check_page(client.get(f"{COUNTER}?{QUERY}&month=2026-12"))
    links = {a["aria-label"] for a in soup.select("a.calendar__link")}
    cells = {td.get("aria-label") for td in soup.select("td.calendar__day")}
    assert "12月1日（火） 空きあり" in links
    assert "12月5日（土） 予約できません" in cells  # a Saturday
    assert "12月29日（火） 予約できません" in cells  # year-end closure
    assert "12月1日（火） 予約できません" not in cells
    # Book out 2 December (blocked slots count as taken): the day becomes 満員, not closed.
    with app.app_context():
        for slot in db.session.scalars(select(AppointmentSlot)):
            db.session.delete(slot)
        from portal.appointments import service

        counter = app.extensions["catalog"].counter("shimin-main")
        for start in service.availability.slot_starts(counter.booking, dt.date(2026, 12, 2)):
            service.set_blocked(db.session, counter, start, True)
        db.session.commit()
    soup = check_page(client.get(f"{COUNTER}?{QUERY}&month=2026-12"))
    cells = {td["aria-label"] for td in soup.select("td.calendar__day--full")}
    assert cells == {"12月2日（水） 満員"}


def test_choosing_no_service_says_what_to_do(client):
    soup = check_page(client.get(f"{COUNTER}?people=1"))
    assert "用件を1つ以上選んでください" in soup.select_one(".error-summary").get_text()
    assert soup.select_one("table.calendar") is None


def test_book_see_the_ticket_and_calendar_file_then_cancel(client, app):
    response = book(
        client, day="2026-12-02", people="2", query="service=juminhyo&service=inkan&people=2"
    )
    path = manage_path(response)
    soup = check_page(client.get(path))
    text = soup.get_text(" ", strip=True)
    assert "予約しました" not in text  # only right after booking (?booked=1)
    assert "2026年12月2日（水） 9時00分から9時45分まで" in text  # 15 + 15 + 5 for the second person
    assert "住民票の写しなどの受け取り、印鑑登録" in text
    assert soup.select_one("svg.qr[role=img]") is not None
    ticket = soup.select_one("code.ticket-token").get_text()
    assert "hanako" not in ticket and len(ticket) >= 40
    assert client.get(path).headers["Referrer-Policy"] == "no-referrer"

    ics = client.get(path + "/appointment.ics")
    assert ics.mimetype == "text/calendar"
    event = vobject.readOne(ics.get_data(as_text=True)).vevent
    assert event.dtstart.value.astimezone(TOKYO) == dt.datetime(2026, 12, 2, 9, 0, tzinfo=TOKYO)
    assert event.dtstart.value.tzinfo is not None  # a local time with its zone, not floating
    assert event.dtend.value.astimezone(TOKYO) == dt.datetime(2026, 12, 2, 9, 45, tzinfo=TOKYO)
    assert "市民課" in event.summary.value

    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [m.kind for m in messages] == ["appointment_confirmation", "appointment_reminder"]
        assert messages[0].to_address == "hanako@example.jp"
        assert messages[0].attachments[0]["filename"] == "appointment.ics"
        assert "http://localhost" + path in messages[0].body
        # The reminder: the day before at 9:00 (a booking for tomorrow after 9:00 gets none).
        assert messages[1].send_after == dt.datetime(2026, 12, 1, 9, 0, tzinfo=TOKYO)
        booked = db.session.scalar(select(func.sum(AppointmentSlot.booked)))
        assert booked == 3  # 45 minutes: three 15-minute slots

    page = client.get(path + "/cancel")
    check_page(page)
    response = client.post(path + "/cancel", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert "この予約は取り消されています" in client.get(path).text
    with app.app_context():
        assert db.session.scalar(select(func.sum(AppointmentSlot.booked))) == 0
        kinds = {m.kind: m.status for m in db.session.scalars(select(OutboxMessage))}
        assert kinds["appointment_reminder"] == "cancelled"
        assert "appointment_cancelled" in kinds
    check_page(client.get(path + "/cancel"), 410)


def test_bad_input_is_explained_and_nothing_typed_is_lost(client):
    response = book(client, name="", email="hanako＠example", note="車椅子で行きます")
    soup = check_page(response, 422)
    summary = soup.select_one(".error-summary").get_text()
    assert "お名前を入力してください" in summary
    assert "メールアドレスの形式が正しくありません" in summary
    assert soup.select_one("#f-email")["value"] == "hanako@example"  # NFKC, kept
    assert soup.select_one("#f-note").get_text() == "車椅子で行きます"
    assert soup.select_one("input[name=time][value='09:00']").has_attr("checked")


def test_one_resident_holds_at_most_three_upcoming_appointments(client, app):
    for time in ("09:00", "09:15", "09:30"):
        assert book(client, time=time).status_code == 303
    soup = check_page(book(client, time="09:45"), 422)
    assert "予約できるのは1人3件までです" in soup.select_one(".error-summary").get_text()
    assert soup.select_one("#f-name")["value"] == "夷隅 花子"
    other = book(client, time="09:45", email="taro@example.jp")
    assert other.status_code == 303


def test_a_time_taken_meanwhile_offers_other_times_that_keep_the_details(client, app):
    query = "service=ninshin-mensetsu&people=1"
    day = "2026-12-02"  # the counter asks for 24 hours' notice
    assert book(client, "kosodate-main", day, time="09:00", query=query).status_code == 303
    response = book(
        client, "kosodate-main", day, "09:00", query, name="岬 次郎", email="jiro@example.jp"
    )
    soup = check_page(response, 409)
    assert "この時間は予約が埋まりました" in soup.h1.get_text()
    buttons = soup.select("ul.alternatives button")
    assert buttons[0].get_text(strip=True) == "2026年12月2日（水） 9時30分からで予約する"
    form = buttons[0].find_parent("form")
    hidden = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert hidden["name"] == "岬 次郎" and hidden["email"] == "jiro@example.jp"
    assert hidden["time"] == "09:30"
    response = client.post(form["action"], data=hidden)
    assert response.status_code == 303
    with app.app_context():
        names = {a.details["name"] for a in db.session.scalars(select(Appointment))}
        assert names == {"夷隅 花子", "岬 次郎"}


def test_reschedule_keeps_the_link_and_frees_the_old_time(client, app):
    path = manage_path(book(client))
    page = client.get(path + "/reschedule?month=2026-12")
    soup = check_page(page)
    link = soup.find("a", class_="calendar__link", string=None, href=re.compile("2026-12-03"))
    day_page = client.get(link["href"])
    check_page(day_page)
    response = client.post(
        link["href"], data={"time": "14:00", "csrf_token": csrf_token(day_page.text)}
    )
    assert response.status_code == 303
    text = client.get(path).text
    assert "2026年12月3日（木） 14時00分から14時15分まで" in text
    with app.app_context():
        appointment = db.session.scalar(select(Appointment))
        assert appointment.sequence == 1
        slots = {
            s.starts_at.astimezone(TOKYO).strftime("%d %H:%M"): s.booked
            for s in db.session.scalars(select(AppointmentSlot))
        }
        assert slots == {"01 09:00": 0, "03 14:00": 1}
        kinds = [m.kind for m in db.session.scalars(select(OutboxMessage).order_by("id"))]
        assert kinds.count("appointment_confirmation") == 2


def test_the_manage_link_stops_changing_at_the_start_and_shows_nothing_after_the_day(client):
    path = manage_path(book(client))
    clock.set_override(dt.datetime(2026, 12, 1, 9, 0, tzinfo=TOKYO))
    soup = check_page(client.get(path))
    assert "変更や取り消しはできません" in soup.get_text()
    assert soup.select_one("svg.qr") is not None  # the ticket still shows at the counter
    check_page(client.get(path + "/cancel"), 410)
    check_page(client.get(path + "/reschedule"), 410)
    clock.set_override(dt.datetime(2026, 12, 2, 0, 0, tzinfo=TOKYO))
    soup = check_page(client.get(path), 410)
    assert "夷隅" not in soup.get_text()
    assert client.get("/appointments/manage/not-a-token").status_code == 404


def test_staff_check_in_by_ticket_gives_queue_numbers(app, staff):  # noqa: F811
    resident = app.test_client()
    tickets = []
    for time, email in (("09:00", "a@example.jp"), ("09:15", "b@example.jp")):
        path = manage_path(book(resident, time=time, email=email, name=f"住民 {time}"))
        soup = BeautifulSoup(resident.get(path).text, "html.parser")
        tickets.append(soup.select_one("code.ticket-token").get_text())

    clock.set_override(dt.datetime(2026, 12, 1, 8, 50, tzinfo=TOKYO))
    clerk = sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"])
    soup = check_page(clerk.get("/staff/appointments?counter=shimin-main"))
    rows = [r.get_text(" ", strip=True) for r in soup.select("table.table tbody tr")]
    assert any("住民 09:00" in r and "予約済み" in r for r in rows)

    def check_in(ticket):
        page = clerk.get("/staff/appointments?counter=shimin-main")
        return clerk.post(
            "/staff/appointments/check-in",
            data={"counter": "shimin-main", "ticket": ticket, "csrf_token": csrf_token(page.text)},
            follow_redirects=True,
        ).text

    assert "受付番号 1 番" in check_in(tickets[1])
    assert "受付番号 2 番" in check_in(" " + tickets[0] + "\n")  # a scanner's Enter
    assert "受付済みです。受付番号は 1 番" in check_in(tickets[1])
    assert "見つかりません" in check_in("nonsense")

    page = clerk.get("/staff/appointments?counter=shimin-main")
    public_id = re.search(r"/staff/appointments/([0-9a-f]{32})/status", page.text).group(1)
    clerk.post(
        f"/staff/appointments/{public_id}/status",
        data={"status": "served", "csrf_token": csrf_token(page.text)},
    )
    with app.app_context():
        statuses = sorted(a.status for a in db.session.scalars(select(Appointment)))
        assert statuses == ["arrived", "served"]

    # Another department's clerk does not see this counter.
    other = sign_in(app.test_client(), "kosodate-clerk", staff["kosodate-clerk"])
    assert other.get("/staff/appointments?counter=shimin-main").status_code == 404
    page = other.get("/staff/appointments")
    assert "子育て支援課" in page.text
    response = other.post(
        "/staff/appointments/check-in",
        data={
            "counter": "kosodate-main",
            "ticket": tickets[0],
            "csrf_token": csrf_token(page.text),
        },
        follow_redirects=True,
    )
    assert "見つかりません" in response.text


def test_staff_block_slots_and_close_days(app, staff, client):  # noqa: F811
    clerk = sign_in(app.test_client(), "shimin-clerk", staff["shimin-clerk"])
    page = clerk.get("/staff/appointments?counter=shimin-main&day=2026-12-01")
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=TOKYO).isoformat()
    clerk.post(
        "/staff/appointments/slots",
        data={
            "counter": "shimin-main",
            "start": start,
            "action": "block",
            "csrf_token": csrf_token(page.text),
        },
    )
    soup = BeautifulSoup(client.get(day_url("shimin-main", "2026-12-01")).text, "html.parser")
    times = [i["value"] for i in soup.select("input[name=time]")]
    assert "09:00" not in times and "09:15" in times

    page = clerk.get("/staff/appointments/closures")
    check_page(page)
    bad = clerk.post(
        "/staff/appointments/closures",
        data={"counter": "shimin-main", "first": "2026-12-04", "last": "2026-12-03", "reason": ""},
        headers={},
    )
    assert bad.status_code == 400  # no CSRF token
    bad = clerk.post(
        "/staff/appointments/closures",
        data={
            "counter": "shimin-main",
            "first": "2026-12-04",
            "last": "2026-12-03",
            "reason": "",
            "csrf_token": csrf_token(page.text),
        },
    )
    soup = check_page(bad, 422)
    assert "最後の日は" in soup.select_one(".error-summary").get_text()
    assert soup.select_one("#f-first")["value"] == "2026-12-04"
    ok = clerk.post(
        "/staff/appointments/closures",
        data={
            "counter": "shimin-main",
            "first": "2026-12-03",
            "last": "2026-12-04",
            "reason": "庁舎の電気設備の点検",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert ok.status_code == 303
    soup = check_page(client.get(f"{COUNTER}?{QUERY}&month=2026-12"))
    cells = {td["aria-label"] for td in soup.select("td.calendar__day--closed")}
    assert {"12月3日（木） 予約できません", "12月4日（金） 予約できません"} <= cells
    assert "all" not in {o["value"] for o in soup.select("#f-counter option")}  # admins only


def test_booking_from_an_application_links_it_for_the_counter(app, client, tmp_path):
    from portal.mock_jpki.ca import MockCA
    from tests.factories import submitted
    from tests.web.test_identity_features import StubProvider, login

    app.extensions["identity_provider"] = StubProvider(MockCA(tmp_path / "ca"))
    login(client, "parent")
    with client.session_transaction() as web_session:
        sub = web_session["user"]["sub"]
    mine = submitted(app, "ninshin-todoke")
    someone_elses = submitted(app, "ninshin-todoke")
    with app.app_context():
        db.session.get(type(mine), mine.id).owner_sub = sub
        db.session.commit()

    query = f"procedure=ninshin-todoke&application={someone_elses.public_id}"
    soup = check_page(client.get(f"/appointments/kosodate-main?{query}"))
    assert someone_elses.reference not in soup.get_text()  # not theirs: not linked

    query = f"procedure=ninshin-todoke&application={mine.public_id}"
    soup = check_page(client.get(f"/appointments/kosodate-main?{query}"))
    notice = soup.select_one("p.notice").get_text()
    assert f"「妊娠の届出」（受付番号 {mine.reference}）のための予約です" in notice
    assert soup.select_one("#f-service")["value"] == "ninshin-mensetsu"
    assert soup.select_one("#f-service").has_attr("checked")
    response = book(
        client,
        "kosodate-main",
        "2026-12-02",
        email="",  # logged in: the e-mail address is optional
        query=f"service=ninshin-mensetsu&people=1&{query}",
    )
    path = manage_path(response)
    with app.app_context():
        appointment = db.session.scalar(select(Appointment))
        assert appointment.submission_id == mine.id and appointment.owner_sub == sub
        assert appointment.details["application_reference"] == mine.reference
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    soup = check_page(client.get("/appointments/"))
    assert soup.find("a", href=path) is not None  # the resident's own list links to it
