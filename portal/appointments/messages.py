"""What the resident is sent about an appointment, queued in the outbox (sent by the worker):
the confirmation with an .ics file, a reminder the day before at 9:00, and notices of a new
time or a cancellation. Nothing is sent without an e-mail address. Every message of an
appointment is `related` to it, so a change cancels the reminder not yet sent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from portal.appointments.ics import appointment_ics
from portal.appointments.models import Appointment
from portal.appointments.service import Visit
from portal.clock import TOKYO
from portal.i18n import FOREIGN, current_language, in_language, local_date, translate
from portal.localization import localized_visit
from portal.outbox import service as outbox

REMINDER_HOUR = 9  # the day before, in Asia/Tokyo
WEEKDAYS_JA = "月火水木金土日"


def _related(appointment: Appointment) -> str:
    return f"appointment:{appointment.public_id}"


def _when(appointment: Appointment) -> str:
    start = appointment.starts_at.astimezone(TOKYO)
    end = appointment.ends_at.astimezone(TOKYO)
    if current_language() in FOREIGN:
        return translate(
            "%(day)s %(start)sから%(end)sまで",
            day=local_date(start.date(), current_language()),
            start=f"{start.hour}:{start.minute:02d}",
            end=f"{end.hour}:{end.minute:02d}",
        )
    return (
        f"{start.year}年{start.month}月{start.day}日（{WEEKDAYS_JA[start.weekday()]}）"
        f"{start.hour}時{start.minute:02d}分から{end.hour}時{end.minute:02d}分まで"
    )


def _summary(visit: Visit) -> str:
    return f"{visit.counter.name}の予約（{visit.service_names}）"


def ics_of(appointment: Appointment, visit: Visit, manage_url: str, now: dt.datetime) -> str:
    return appointment_ics(
        uid=f"{appointment.public_id}@appointments.portal",
        start=appointment.starts_at,
        end=appointment.ends_at,
        summary=_summary(visit),
        location=f"{visit.counter.name}（{visit.counter.location}）",
        description=f"用件：{visit.service_names}\n人数：{visit.people}人"
        + (f"\n予約の確認・変更・取り消し：{manage_url}" if manage_url else ""),
        url=manage_url or None,
        now=now,
        cancelled=appointment.status == "cancelled",
        sequence=appointment.sequence,
    )


def _body(appointment: Appointment, visit: Visit, lead: str, manage_url: str | None) -> str:
    """The message in the current language (`in_language` of the booking's)."""
    _ = translate
    visit = localized_visit(visit)
    name = appointment.details.get("name", "")
    lines = [
        f"{name} 様" if current_language() not in FOREIGN else name,
        "",
        _(lead),
        _("（このメールはデモンストレーション用のシステムから送られています）"),
        "",
        _("日時：%(value)s", value=_when(appointment)),
        _("窓口：%(value)s", value=visit.counter.name),
        _("場所：%(value)s", value=visit.counter.location),
        _("用件：%(value)s", value=visit.service_names),
        _("人数：%(value)s", value=_("%(n)s人", n=visit.people)),
    ]
    if manage_url:
        lines += [
            "",
            _("予約の確認・変更・取り消し、窓口で見せる予約票（QRコード）："),
            manage_url,
            _("開始時刻を過ぎると、変更や取り消しはできません。"),
        ]
    return "\n".join(lines) + "\n"


def _send(session, appointment, *, kind, subject, body, send_after, now, attachments=()):
    email = appointment.details.get("email")
    if not email:
        return
    outbox.enqueue(
        session,
        kind=kind,
        to=email,
        subject=translate(subject),
        body=body,
        send_after=send_after,
        related=_related(appointment),
        now=now,
        attachments=attachments,
    )


def _reminder(session, appointment, visit, manage_url, now) -> None:
    day_before = appointment.starts_at.astimezone(TOKYO).date() - dt.timedelta(days=1)
    at = dt.datetime.combine(day_before, dt.time(REMINDER_HOUR), tzinfo=TOKYO)
    if at <= now:  # booked less than a day ahead: the confirmation is the reminder
        return
    _send(
        session,
        appointment,
        kind="appointment_reminder",
        subject="【明日】窓口の予約のお知らせ",
        body=_body(appointment, visit, "明日、次の予約があります。", manage_url),
        send_after=at,
        now=now,
    )


def _calendar_attachment(appointment, visit, manage_url, now) -> list[dict]:
    return [
        {
            "filename": "appointment.ics",
            "content_type": "text/calendar",
            "content": ics_of(appointment, visit, manage_url, now),
        }
    ]


def _confirm(session, appointment, visit, manage_url, now, *, subject: str, lead: str) -> None:
    """The confirmation (with the .ics) and the reminder for the day before."""
    _send(
        session,
        appointment,
        kind="appointment_confirmation",
        subject=subject,
        body=_body(appointment, visit, lead, manage_url),
        send_after=now,
        now=now,
        attachments=_calendar_attachment(appointment, visit, manage_url, now),
    )
    _reminder(session, appointment, visit, manage_url, now)


def booked(session: Session, appointment: Appointment, visit: Visit, manage_url, now) -> None:
    with in_language(appointment.details.get("lang")):
        _confirm(
            session,
            appointment,
            visit,
            manage_url,
            now,
            subject="窓口の予約を受け付けました",
            lead="次のとおり、窓口の予約を受け付けました。",
        )


def rescheduled(session: Session, appointment: Appointment, visit: Visit, manage_url, now):
    with in_language(appointment.details.get("lang")):
        outbox.cancel_pending(
            session, _related(appointment), kinds=["appointment_reminder"], now=now
        )
        _confirm(
            session,
            appointment,
            visit,
            manage_url,
            now,
            subject="窓口の予約の日時を変更しました",
            lead="予約の日時を次のとおり変更しました。",
        )


def cancelled(session: Session, appointment: Appointment, visit: Visit, now) -> None:
    with in_language(appointment.details.get("lang")):
        outbox.cancel_pending(
            session, _related(appointment), kinds=["appointment_reminder"], now=now
        )
        _send(
            session,
            appointment,
            kind="appointment_cancelled",
            subject="窓口の予約を取り消しました",
            body=_body(appointment, visit, "次の予約を取り消しました。", None),
            send_after=now,
            now=now,
            attachments=_calendar_attachment(appointment, visit, "", now),
        )
