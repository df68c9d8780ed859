"""Life events: the screening answers select the checklist's items by the catalog's rules, items
are grouped (online now / counter / elsewhere), and legal deadlines count from the event date
as the law counts them (転入届 14 days from the next day, 出生届 14 days including the day of
birth, 死亡届 7 days including the day one learned of it; closed days move to the next open
day). The catalog check refuses an item or rule that names something unknown."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.catalog import load_catalog
from portal.catalog.checks import check_catalog
from portal.config import PROJECT_ROOT
from portal.life_events import checklist

CATALOG = load_catalog(PROJECT_ROOT / "procedure_catalog.yaml")
TODAY = dt.date(2026, 11, 30)


def event(event_id: str):
    return next(e for e in CATALOG.life_events if e.id == event_id)


def found(event_id: str, **answers):
    return checklist.lines(CATALOG, event(event_id), answers, TODAY)


def test_six_life_events_each_with_a_screening_and_a_checklist():
    ids = {e.id for e in CATALOG.life_events if e.screening and e.items}
    assert ids == {"moving", "birth", "bereavement", "nursing-care", "single-parent", "disaster"}


def test_moving_in_with_a_child_on_national_health_insurance():
    # Moved in six days ago: 国保, 児童手当 and 子ども医療費 are offered only once the resident
    # lives here (tests/web/test_future_bundle.py covers a move ahead).
    lines = found(
        "moving",
        direction="into",
        move_date="2026-11-24",
        children=True,
        insurance="kokuho",
        care=False,
    )
    ids = [line.procedure.id for line in lines if line.procedure]
    # The two with a deadline first (the same day: then in catalog order).
    assert ids[:2] == ["tennyu-todoke", "kokuho-kanyu-dattai"]
    assert {"tennyu-yoyaku", "jidoteate-nintei", "kodomo-iryohi", "hoiku-riyou"} <= set(ids)
    assert "tenshutsu" not in ids and "kaigo-tennyu-nintei" not in ids
    tennyu = next(line for line in lines if line.procedure and line.procedure.id == "tennyu-todoke")
    # 住み始めた日は数えない: 11/24 → 12/8 (a Tuesday), 8 days after TODAY (11/30).
    assert (tennyu.kind, tennyu.last_day, tennyu.days_left) == (
        "counter",
        dt.date(2026, 12, 8),
        8,
    )
    school = [line.title for line in lines if line.kind == "elsewhere"]
    assert "小学校・中学校の転校の手続" in school and "郵便物の転送" in school


def test_moving_out_alone_on_an_employer_insurance():
    lines = found(
        "moving",
        direction="out",
        move_date="2026-12-10",
        children=False,
        insurance="employer",
        care=False,
    )
    ids = {line.procedure.id for line in lines if line.procedure}
    assert ids == {"tenshutsu"}
    assert [line.kind for line in lines].count("online") == 1


def test_birth_deadline_counts_the_day_of_birth_and_skips_closed_days():
    # Born on Saturday 2026-12-19: 14 days including that day end on Friday 1 January, a
    # closed day (年末年始) → the next open day, Monday 4 January 2027.
    lines = found("birth", stage="born", event_date="2026-12-19", nursery=False)
    shussei = next(
        line for line in lines if line.procedure and line.procedure.id == "shussei-todoke"
    )
    assert shussei.last_day == dt.date(2027, 1, 4)
    assert "ninshin-todoke" not in {line.procedure.id for line in lines if line.procedure}


def test_death_notification_within_seven_days():
    lines = found("bereavement", death_date="2026-11-27", insurance="koki", care=False)
    first = lines[0]
    assert (first.procedure.id, first.last_day, first.days_left) == (
        "shibo-todoke",
        dt.date(2026, 12, 3),
        3,
    )
    ids = {line.procedure.id for line in lines if line.procedure}
    assert "sosaihi-koki" in ids and "sosaihi-kokuho" not in ids


def test_groups_keep_their_order():
    lines = found(
        "moving",
        direction="into",
        move_date="2026-12-01",
        children=False,
        insurance="employer",
        care=False,
    )
    assert [label for label, _ in checklist.grouped(lines)] == list(checklist.GROUPS.values())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"procedure": "no-such-procedure"}, "unknown procedure 'no-such-procedure'"),
        ({"when": "childrn"}, "items[0].when"),
    ],
)
def test_the_catalog_check_refuses_unknown_names(change, problem):
    moving = event("moving")
    item = moving.items[0].model_copy(update=change)
    broken = moving.model_copy(update={"items": [item, *moving.items[1:]]})
    data = CATALOG.model_copy(
        update={"life_events": [broken if e.id == "moving" else e for e in CATALOG.life_events]}
    )
    assert any(problem in line for line in check_catalog(data)), check_catalog(data)


def test_suggestions_after_a_submission_follow_the_answers():
    tennyu = CATALOG.procedure("tennyu-yoyaku")
    picked = checklist.suggestions(CATALOG, tennyu, {"related": ["kokuho", "hoiku"]}, TODAY)
    assert [p.id for p, _ in picked] == ["kokuho-kanyu-dattai", "hoiku-riyou"]
    assert checklist.suggestions(CATALOG, tennyu, {"related": []}, TODAY) == []
    ninshin = CATALOG.procedure("ninshin-todoke")
    picked = checklist.suggestions(CATALOG, ninshin, {}, TODAY)
    assert [p.id for p, _ in picked] == ["shussei-todoke", "jidoteate-nintei", "kodomo-iryohi"]
    assert "14日以内" in picked[0][1]
