"""What is left of a submitted bundle: progress, the counter visit, and deadline reminders.

`progress` lists every part of the life event for this resident: the applications filed in the
bundle (done, waiting for the city, or with something still to do: a fee, a correction), the
counter procedures still to visit for, the procedures of the checklist not filed yet, and what
other offices and companies handle. `visit_of` plans the counter visit: the counters in order
with what to bring, and one booking for the counter that takes appointments, its duration the
sum of the procedures' services there. `queue_reminders` puts a reminder in the outbox three
days before each legal deadline still open, for a resident who gave an e-mail address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.appointments import service as appointments
from portal.appointments.models import Appointment
from portal.bundles import service
from portal.bundles.models import Bundle
from portal.catalog.schema import CatalogData, Counter, Procedure
from portal.i18n import translate
from portal.life_events import checklist
from portal.localization import localized_states, procedure_title, shown_event
from portal.outbox import service as outbox
from portal.submissions import service as submissions
from portal.submissions.models import PAYMENT_UNPAID, Submission

TOKYO = ZoneInfo("Asia/Tokyo")
State = Literal["done", "waiting", "todo"]
STATE_LABELS: dict[State, str] = {"done": "完了", "waiting": "市で手続中", "todo": "これから"}
DONE_STATUSES = {"approved", "completed", "rejected", "withdrawn"}
REMIND_DAYS_BEFORE = 3


@dataclass
class Part:
    """One line of a bundle's progress."""

    title: str
    kind: checklist.Kind
    state: State
    note: str
    procedure: Procedure | None = None
    submission: Submission | None = None
    line: checklist.Line | None = None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def _member_part(submission: Submission, line: checklist.Line | None) -> Part:
    procedure = submissions.procedure_of(submission)
    workflow = submissions.workflow_of(submission)
    label = localized_states(procedure.workflow, workflow.states)[submission.status].label
    if submission.payment_status == PAYMENT_UNPAID and submission.status not in DONE_STATUSES:
        state, note = "todo", translate("%(label)s・手数料が未払いです", label=label)
    elif submission.status == "returned":
        state, note = "todo", translate("%(label)s：申請内容の修正をお願いしています", label=label)
    elif submission.status in DONE_STATUSES:
        state, note = "done", label
    else:
        state, note = "waiting", label
    return Part(procedure_title(procedure), "online", state, note, procedure, submission, line)


def progress(session: Session, catalog: CatalogData, bundle: Bundle, today: dt.date) -> list[Part]:
    """Every part of the life event for this resident, the bundle's applications first; titles
    and notes in the resident's language (decision 0072), kinds and states the same."""
    event = shown_event(service.event_of(bundle))
    lines = checklist.lines(catalog, event, bundle.screening, today)
    by_procedure = {line.procedure.id: line for line in lines if line.procedure}
    parts = [
        _member_part(member, by_procedure.get(member.procedure_id))
        for member in service.members_of(session, bundle)
    ]
    for line in lines:
        if line.procedure is not None and line.procedure.id in bundle.procedures:
            continue
        if line.kind == "counter":
            note = translate("窓口で手続します（「窓口に行く日」をご覧ください）")
        elif line.kind == "online":
            note = translate("まだ申請していません")
        else:
            note = translate("手続する場所：") + line.item.where
        title = procedure_title(line.procedure) if line.procedure else line.item.title
        parts.append(Part(title, line.kind, "todo", note, line.procedure, None, line))
    return parts


@dataclass
class Stop:
    """A counter of the visit, with the procedures done there and what to bring."""

    counter: Counter
    procedures: list[Procedure] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    bring: list[str] = field(default_factory=list)


@dataclass
class Visit:
    stops: list[Stop]
    booking: Stop | None  # the counter the one booking is for
    appointment: Appointment | None
    minutes: int | None  # of the booking's visit


def _counter_of(catalog: CatalogData, procedure: Procedure) -> Counter | None:
    counter_id = procedure.appointment.counter if procedure.appointment else procedure.counter
    return catalog.counter(counter_id) if counter_id else None


def appointment_of(session: Session, bundle: Bundle) -> Appointment | None:
    return session.scalar(
        select(Appointment)
        .where(Appointment.bundle_id == bundle.id, Appointment.status == appointments.BOOKED)
        .order_by(Appointment.starts_at)
    )


def visit_of(session: Session, catalog: CatalogData, bundle: Bundle, parts: list[Part]) -> Visit:
    """The counters to visit, in the checklist's order (nearest deadline first), with what to
    bring; the booking covers the first counter that takes appointments."""
    stops: dict[str, Stop] = {}
    for part in parts:
        if part.kind != "counter" or part.procedure is None:
            continue
        counter = _counter_of(catalog, part.procedure)
        if counter is None:
            continue
        stop = stops.setdefault(counter.id, Stop(counter))
        stop.procedures.append(part.procedure)
        if part.procedure.appointment and part.procedure.appointment.service not in stop.services:
            stop.services.append(part.procedure.appointment.service)
        stop.bring.extend(b for b in part.procedure.what_you_need if b not in stop.bring)
    booking = next((s for s in stops.values() if s.counter.booking and s.services), None)
    minutes = None
    if booking is not None:
        planned = appointments.visit_of(booking.counter, booking.services, 1)
        minutes = planned.minutes if planned else None
    return Visit(list(stops.values()), booking, appointment_of(session, bundle), minutes)


def queue_reminders(
    session: Session,
    catalog: CatalogData,
    bundle: Bundle,
    now: dt.datetime,
) -> int:
    """A reminder three days before each open legal deadline (9:00 Tokyo), when the resident
    gave the e-mail address the bundle notifies (`notify`). Returns how many were queued."""
    spec = service.spec_of(bundle)
    address = bundle.shared.get(spec.notify) if spec.notify else None
    if not address:
        return 0
    today = now.astimezone(TOKYO).date()
    event = service.event_of(bundle)
    queued = 0
    for line in checklist.lines(catalog, event, bundle.screening, today):
        if line.last_day is None or line.procedure is None:
            continue
        if line.procedure.id in bundle.procedures:
            continue  # filed with the bundle
        remind_on = line.last_day - dt.timedelta(days=REMIND_DAYS_BEFORE)
        send_after = dt.datetime.combine(remind_on, dt.time(9, 0), tzinfo=TOKYO)
        if send_after <= now:
            continue
        outbox.enqueue(
            session,
            kind="bundle_deadline_reminder",
            to=address,
            subject=f"【{catalog.city.name}】{line.title}の期限が近づいています",
            body=_reminder_body(catalog, bundle, line),
            send_after=send_after,
            related=f"bundle:{bundle.public_id}",
            now=now,
        )
        queued += 1
    return queued


def _reminder_body(catalog: CatalogData, bundle: Bundle, line: checklist.Line) -> str:
    last = line.last_day
    return (
        f"{line.title}の期限は {last.year}年{last.month}月{last.day}日 です。\n"
        f"まだお済みでない場合は、期限までに手続をしてください。\n\n"
        f"まとめて申請した手続の受付番号：{bundle.reference}\n"
        f"手続の状況と、窓口に行く日の予約は「申請した手続の一覧」から確認できます。\n\n"
        f"{catalog.city.name}（このメールは送信専用です。お問い合わせは {catalog.city.phone} へ）\n"
        "※これはデモンストレーション用のポータルから送られたメールです。"
    )
