"""Date shortcuts (issue 22, decision 0076): buttons beside a date field that fill it with a date
the portal knows (today, yesterday, or another date the resident already answered, such as the
day the works were finished), so the resident taps instead of typing it. A start date that is
by rule the first of a month (a nursery place) may offer the 1st of next month and the next
1 April (the 一斉入所 of the new year), decision 0077.

They only offer: nothing is filled until the resident taps, and the date stays editable. With
JavaScript the tap fills the input in place (portal.js, announced); without it the button posts
`_action=date:<field>:<ISO date>` and the page comes back with the date filled and everything
else as typed (service.apply_action).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from portal import japanese
from portal.catalog.fields import html_id
from portal.catalog.schema import Field, Procedure
from portal.i18n import current_language, local_date, translate


@dataclass(frozen=True)
class Shortcut:
    what: str  # 今日, 昨日, 工事が終わった日と同じ日
    date: dt.date


def offered(
    procedure: Procedure, field: Field, answers: dict[str, Any], today: dt.date
) -> list[Shortcut]:
    """The shortcuts of a date field, each date once (an answer not given yet offers none)."""
    found: list[Shortcut] = []
    for name in field.shortcuts:
        if name == "today":
            found.append(Shortcut(translate("今日"), today))
        elif name == "yesterday":
            found.append(Shortcut(translate("昨日"), today - dt.timedelta(days=1)))
        elif name == "next_month":
            found.append(Shortcut(translate("来月1日"), first_of_next_month(today)))
        elif name == "next_april":
            found.append(Shortcut(translate("次の4月1日"), next_april_first(today)))
        else:
            other = procedure.field(name)
            try:
                date = dt.date.fromisoformat(str(answers.get(name) or ""))
            except ValueError:
                continue
            if other is not None:
                found.append(Shortcut(translate("%(label)sと同じ日", label=other.label), date))
    unique: dict[dt.date, Shortcut] = {}
    for shortcut in found:
        unique.setdefault(shortcut.date, shortcut)
    return list(unique.values())


def first_of_next_month(today: dt.date) -> dt.date:
    """The 1st of the month after today's: a start date that is "原則として月の初日"."""
    return dt.date(today.year + today.month // 12, today.month % 12 + 1, 1)


def next_april_first(today: dt.date) -> dt.date:
    """The first 1 April after today: the start of the nursery and school year (4月の一斉入所)."""
    april = dt.date(today.year, 4, 1)
    return april if april > today else dt.date(today.year + 1, 4, 1)


def buttons(field: Field, path: str, shortcuts: list[Shortcut]) -> Markup:
    """The buttons, after the field's input: each names what it fills and the date."""
    if not shortcuts:
        return Markup("")
    label = translate("%(label)sの入力の近道", label=field.label)
    parts = [f'<div class="date-shortcuts" role="group" aria-label="{escape(label)}">']
    for shortcut in shortcuts:
        text = translate(
            "%(what)sを入れる（%(date)s）", what=shortcut.what, date=_written(shortcut.date)
        )
        done = translate(
            "%(label)sに%(date)sを入れました", label=field.label, date=_written(shortcut.date)
        )
        parts.append(
            '<button class="button button--secondary button--small" type="submit"'
            f' name="_action" value="date:{escape(path)}:{shortcut.date.isoformat()}"'
            f' formnovalidate data-fill-target="{escape(html_id(path))}"'
            f' data-fill="{escape(japanese.format_wareki(shortcut.date))}"'
            f' data-filled="{escape(done)}">{escape(text)}</button>'
        )
    parts.append("</div>")
    return Markup("".join(parts))  # noqa: S704 - every value in it is escaped


def _written(date: dt.date) -> str:
    """A date in the page's language (chrome, not a displayed answer): "April 1, 2024" on an
    English page, 2024年（令和6年）4月1日 on a Japanese one."""
    return local_date(date, current_language())


def fill(field: Field, raw: dict[str, Any], value: str) -> str | None:
    """The no-JavaScript tap: the field's input holds the date (和暦, as typed dates are shown);
    the notice to show, or None for a value that is not a date."""
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        return None
    raw[field.name] = japanese.format_wareki(date)
    return translate("%(label)sに%(date)sを入れました", label=field.label, date=_written(date))
