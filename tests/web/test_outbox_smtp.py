"""Mail through a real SMTP server (aiosmtpd on 127.0.0.1, started here) by `flask portal worker
--once`: headers, the Japanese subject and body in UTF-8, the .ics attachment; a refused address
fails for good, a server that is down is retried; nothing personal reaches the logs. Production
refuses to start without an SMTP server; the development mail page shows the outbox and does not
exist in production."""

from __future__ import annotations

import datetime as dt
import email
import logging
import socket
from email import policy

import pytest
import vobject
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal import clock, create_app
from portal.appointments.ics import appointment_ics
from portal.config import ConfigError, load_config
from portal.db import db
from portal.outbox import FAILED, PENDING, SENT, OutboxMessage, enqueue
from tests.conftest import check_page

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
TO = "ohara.taro@example.jp"
SENDER = "いすみ市 オンライン手続 <noreply@isumi.example.jp>"
SUBJECT = "【いすみ市】窓口予約を受け付けました（12月3日 9時30分 市民課）"
BODY = "大原 太郎 様\n\n市民課の窓口予約を受け付けました。\n日時：2026年12月3日（木）9時30分\n"


class Recorder:
    """aiosmtpd handler: keeps each envelope; refuses the addresses in `refuse` with 550."""

    def __init__(self) -> None:
        self.envelopes = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, recorder
    controller.stop()


def mail_app(database_url, tmp_path, port: int):
    return create_app(
        "test",
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t" * 64,
            "INSTANCE_PATH": str(tmp_path),
            "MAIL_BACKEND": "smtp",
            "MAIL_SMTP_HOST": "127.0.0.1",
            "MAIL_SMTP_PORT": port,
            "MAIL_SMTP_STARTTLS": False,
            "MAIL_FROM": SENDER,
        },
    )


@pytest.fixture
def smtp_app(database_url, clean_db, tmp_path, smtp_server):
    app = mail_app(database_url, tmp_path, smtp_server[0].port)
    clock.set_override(NOW)
    yield app
    clock.set_override(None)


def ics() -> str:
    return appointment_ics(
        uid="appointment-A7K29QXM@isumi.example.jp",
        start=dt.datetime(2026, 12, 3, 0, 30, tzinfo=dt.UTC),
        end=dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC),
        summary="住民票の写しの交付（市民課）",
        location="いすみ市役所 本庁舎1階 市民課",
        description="本人確認書類をお持ちください。",
        url=None,
        now=NOW,
    )


def put(app, to: str = TO) -> int:
    with app.app_context():
        message = enqueue(
            db.session,
            kind="appointment_confirmation",
            to=to,
            subject=SUBJECT,
            body=BODY,
            send_after=NOW,
            related="appointment:A7K29QXM",
            now=NOW,
            attachments=[
                {
                    "filename": "予約.ics",
                    "content_type": "text/calendar; method=PUBLISH",
                    "content": ics(),
                }
            ],
        )
        db.session.commit()
        return message.id


def stored(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        return db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id))


def portal_log(caplog) -> str:
    """Everything the portal (not the test's SMTP server) logged."""
    return "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("mail.")
    )


def run_worker(app) -> str:
    result = app.test_cli_runner().invoke(args=["portal", "worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_worker_sends_utf8_mail_with_the_ics(smtp_app, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    _controller, recorder = smtp_server
    message_id = put(smtp_app)

    output = run_worker(smtp_app)
    assert output.strip() == "outbox: 1 sent, 0 to retry, 0 failed, 0 lost"
    [envelope] = recorder.envelopes
    assert envelope.rcpt_tos == [TO]
    assert envelope.mail_from == "noreply@isumi.example.jp"
    raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
    raw.decode("ascii")  # 7-bit clean: encoded words and base64
    mail = email.message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == TO
    assert mail["From"].addresses[0].display_name == "いすみ市 オンライン手続"
    assert mail["From"].addresses[0].addr_spec == "noreply@isumi.example.jp"
    assert mail["Subject"] == SUBJECT
    assert "=?utf-8?" in raw.decode().split("\r\n\r\n")[0]  # the subject as an encoded word
    assert mail["Date"].datetime == NOW
    assert mail["Message-ID"] == f"<outbox-{message_id}-20261122010000@isumi.example.jp>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/mixed"

    body = mail.get_body(("plain",))
    assert body.get_content_charset() == "utf-8"
    assert body.get_content().replace("\r\n", "\n") == BODY

    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    assert attachment.get_param("charset") == "utf-8"
    assert attachment.get_filename() == "予約.ics"
    calendar_text = attachment.get_content()
    assert "\r\n" in calendar_text  # RFC 5545 line ends survive the trip
    event = vobject.readOne(calendar_text).vevent
    assert event.summary.value == "住民票の写しの交付（市民課）"
    assert event.dtstart.value.hour == 9 and event.dtstart.value.minute == 30

    message = stored(smtp_app, message_id)
    assert (message.status, message.sent_at, message.attempts) == (SENT, NOW, 1)

    logged = portal_log(caplog)
    assert f"message {message_id} sent" in logged
    for secret in (TO, "ohara", SUBJECT, "窓口予約", "大原", "予約.ics"):
        assert secret not in logged
        assert secret not in output


def test_a_refused_address_fails_for_good_without_logging_it(smtp_app, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    smtp_server[1].refuse.add(TO)
    message_id = put(smtp_app)

    output = run_worker(smtp_app)
    assert "0 sent, 0 to retry, 1 failed" in output
    message = stored(smtp_app, message_id)
    assert (message.status, message.attempts) == (FAILED, 1)
    assert message.last_error == "SMTPRecipientsRefused 550"
    logged = portal_log(caplog)
    assert "SMTPRecipientsRefused 550" in logged
    assert TO not in logged and "no such user" not in logged


def test_a_server_that_is_down_is_retried(database_url, clean_db, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    app = mail_app(database_url, tmp_path, _free_port())  # nothing listens there
    clock.set_override(NOW)
    try:
        message_id = put(app)
        assert "0 sent, 1 to retry" in run_worker(app)
    finally:
        clock.set_override(None)
    message = stored(app, message_id)
    assert (message.status, message.attempts) == (PENDING, 1)
    assert message.last_error == "ConnectionRefusedError"
    assert message.send_after == NOW + dt.timedelta(minutes=1)
    assert TO not in portal_log(caplog)


def test_the_outbox_backend_marks_mail_sent_without_a_server(app):
    clock.set_override(NOW)
    message_id = put(app)
    assert app.config["MAIL_BACKEND"] == "outbox"
    assert run_worker(app).strip() == "outbox: 1 sent, 0 to retry, 0 failed, 0 lost"
    assert stored(app, message_id).status == SENT


def production_env(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.jp")
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("PORTAL_MY_NUMBER_KEY", "ab" * 32)
    monkeypatch.setenv("PORTAL_MALWARE_SCANNER", "clamd://127.0.0.1:3310")
    monkeypatch.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite3'}")
    monkeypatch.setenv("PORTAL_MAIL_FROM", "noreply@isumi.example.jp")
    for name in (
        "PORTAL_TEST_CLOCK_FILE",
        "PORTAL_MOCK_JPKI_ENABLED",
        "PORTAL_DEMO_DEPLOYMENT",
        "PORTAL_MAIL_BACKEND",
        "PORTAL_MAIL_SMTP_HOST",
        "PORTAL_MAIL_SMTP_PASSWORD",
        "PORTAL_MAIL_SMTP_STARTTLS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_production_refuses_to_start_without_an_smtp_server(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path)
    with pytest.raises(ConfigError, match="PORTAL_MAIL_SMTP_HOST must be set in production"):
        load_config("production")
    with pytest.raises(ConfigError, match="PORTAL_MAIL_SMTP_HOST must be set in production"):
        create_app("production")

    monkeypatch.setenv("PORTAL_MAIL_SMTP_HOST", "smtp.example.jp")
    monkeypatch.setenv("PORTAL_MAIL_BACKEND", "outbox")
    with pytest.raises(ConfigError, match="set PORTAL_MAIL_BACKEND=smtp"):
        load_config("production")

    monkeypatch.delenv("PORTAL_MAIL_BACKEND")
    monkeypatch.delenv("PORTAL_MAIL_FROM")
    with pytest.raises(ConfigError, match="PORTAL_MAIL_FROM must be set"):
        load_config("production")

    monkeypatch.setenv("PORTAL_MAIL_FROM", "noreply@isumi.example.jp")
    monkeypatch.setenv("PORTAL_MAIL_SMTP_PASSWORD", "secret")
    monkeypatch.setenv("PORTAL_MAIL_SMTP_STARTTLS", "0")
    with pytest.raises(ConfigError, match="sent unencrypted"):
        load_config("production")

    monkeypatch.delenv("PORTAL_MAIL_SMTP_STARTTLS")
    config = load_config("production")
    assert (config["MAIL_BACKEND"], config["MAIL_SMTP_HOST"], config["MAIL_SMTP_PORT"]) == (
        "smtp",
        "smtp.example.jp",
        587,
    )
    assert config["MAIL_SMTP_STARTTLS"] is True


def test_outside_production_mail_stays_in_the_outbox(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path)
    assert load_config("development")["MAIL_BACKEND"] == "outbox"
    monkeypatch.setenv("PORTAL_MAIL_BACKEND", "smtp")
    with pytest.raises(ConfigError, match="PORTAL_MAIL_SMTP_HOST must be set for"):
        load_config("development")
    monkeypatch.setenv("PORTAL_MAIL_BACKEND", "carrier-pigeon")
    with pytest.raises(ConfigError, match="must be outbox or smtp"):
        load_config("development")


def test_the_development_mail_pages(app, client):
    clock.set_override(NOW)
    message_id = put(app)

    listing = check_page(client.get("/dev/mail"))
    assert listing.h1.get_text(strip=True) == "開発用メール"
    assert "開発環境にだけあります" in listing.get_text()
    table = listing.find("table")
    assert table.caption.get_text(strip=True).startswith("メールの一覧")
    headers = [th.get_text(strip=True) for th in table.thead.find_all("th")]
    assert headers == ["作成日時", "宛先", "件名", "状態", "種類"]
    [row] = table.tbody.find_all("tr")
    assert row.th["scope"] == "row"
    cells = [cell.get_text(strip=True) for cell in row.find_all(["td", "th"])]
    assert cells == ["2026年11月22日 10時00分", TO, SUBJECT, "送信待ち", "予約の確認"]
    link = row.th.a["href"]
    assert link == f"/dev/mail/{message_id}"

    page = check_page(client.get(link))
    assert page.h1.get_text(strip=True) == SUBJECT
    text = page.get_text()
    for expected in (
        TO,
        "noreply@localhost",
        "appointment:A7K29QXM",
        "送信待ち",
        "市民課の窓口予約を受け付けました",
    ):
        assert expected in text
    [download] = page.select("a[download]")
    assert download.get_text(strip=True) == "予約.ics"
    assert download["href"] == f"/dev/mail/{message_id}/attachments/1"

    response = client.get(download["href"])
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.get_data(as_text=True) == ics()

    for missing in (
        f"/dev/mail/{message_id}/attachments/0",
        f"/dev/mail/{message_id}/attachments/2",
        f"/dev/mail/{message_id + 1}",
    ):
        assert client.get(missing).status_code == 404


def test_the_development_mail_pages_do_not_exist_in_production(app, database_url, tmp_path):
    clock.set_override(NOW)
    message_id = put(app)
    production = create_app(
        "production",
        {
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "p" * 64,
            "PUBLIC_URL": "https://portal.example.jp",
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "MY_NUMBER_KEY": "ab" * 32,
            "MALWARE_SCANNER": "clamd://127.0.0.1:3310",
            "JPKI_CLIENT_SECRET": "s" * 40,
            "TEST_CLOCK_FILE": None,
            "TESTING": False,
            "MOCK_JPKI_ENABLED": False,
            "MAIL_BACKEND": "smtp",
            "MAIL_SMTP_HOST": "smtp.example.jp",
            "MAIL_FROM": "noreply@isumi.example.jp",
        },
    )
    assert not any(rule.rule.startswith("/dev/") for rule in production.url_map.iter_rules())
    client = production.test_client()
    for path in ("/dev/mail", f"/dev/mail/{message_id}", f"/dev/mail/{message_id}/attachments/1"):
        response = client.get(path, base_url="https://localhost")
        assert response.status_code == 404
        assert TO not in response.get_data(as_text=True)
