"""The personal checklist of a life event, from the screening answers (pure: no database).

Each catalog item whose `when` rule holds becomes a line: a procedure the resident can do online
now, one that needs a counter visit (with what to bring and, where the counter takes bookings,
a booking link), or something handled by another office or a company. A procedure with a legal
deadline counted from an event (転入届 14 days, 出生届 14 days, 死亡届 7 days) gets its last day,
counted from the screening's event date as the law counts it (portal.deadlines), and the days
left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from portal import deadlines
from portal.catalog import logic
from portal.catalog.schema import CatalogData, ChecklistItem, LifeEvent, Procedure
from portal.i18n import translate

Kind = Literal["online", "counter", "elsewhere"]
GROUPS: dict[Kind, str] = {
    "online": "オンラインで今すぐできる手続",
    "counter": "窓口に行く必要がある手続",
    "elsewhere": "ほかの機関・会社での手続",
}


@dataclass(frozen=True)
class Line:
    item: ChecklistItem
    kind: Kind
    procedure: Procedure | None
    last_day: dt.date | None
    days_left: int | None

    @property
    def title(self) -> str:
        return self.procedure.title if self.procedure else self.item.title


def _kind(procedure: Procedure | None) -> Kind:
    if procedure is None:
        return "elsewhere"
    if procedure.channel == "counter" or procedure.ended is not None:
        return "counter"
    return "online"


def _last_day(procedure: Procedure | None, event_day: dt.date | None) -> dt.date | None:
    counting = procedure.deadline.counting if procedure and procedure.deadline else None
    if counting is None or event_day is None:
        return None
    return deadlines.deadline(event_day, counting)


def event_day(event: LifeEvent, answers: dict[str, Any]) -> dt.date | None:
    value = answers.get(event.event_date) if event.event_date else None
    return dt.date.fromisoformat(value) if value else None


def lines(
    catalog: CatalogData, event: LifeEvent, answers: dict[str, Any], today: dt.date
) -> list[Line]:
    """The items that apply, the ones with the nearest deadline first, then in catalog order."""
    day = event_day(event, answers)
    found = []
    for position, item in enumerate(event.items):
        if item.when is not None and not logic.rule(item.when).is_true(
            logic.context(answers, today)
        ):
            continue
        procedure = catalog.procedure(item.procedure) if item.procedure else None
        last = _last_day(procedure, day)
        line = Line(
            item=item,
            kind=_kind(procedure),
            procedure=procedure,
            last_day=last,
            days_left=(last - today).days if last else None,
        )
        found.append((last or dt.date.max, position, line))
    return [line for _, _, line in sorted(found, key=lambda entry: entry[:2])]


def grouped(found: list[Line]) -> list[tuple[str, list[Line]]]:
    return [
        (translate(label), [line for line in found if line.kind == kind])
        for kind, label in GROUPS.items()
        if any(line.kind == kind for line in found)
    ]


def suggestions(
    catalog: CatalogData, procedure: Procedure, answers: dict[str, Any], today: dt.date
) -> list[tuple[Procedure, str | None]]:
    """The procedures this submitted one suggests next (catalog rules on its answers), each
    with its note; procedures no longer offered are left out."""
    found = []
    for suggestion in procedure.suggestions:
        if suggestion.when is not None and not logic.rule(suggestion.when).is_true(
            logic.context(answers, today)
        ):
            continue
        suggested = catalog.procedure(suggestion.procedure)
        if suggested is not None and suggested.ended is None:
            found.append((suggested, suggestion.note))
    return found
