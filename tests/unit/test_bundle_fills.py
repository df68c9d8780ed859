"""How a bundle's shared answers fill its members (portal.bundles.service, pure parts) with the
real catalog: constants, names, dotted names, groups made from a shared group (`where` picks
the items, `map` renames their answers), and a rule that cannot be evaluated filling nothing;
which shared questions are asked for the chosen procedures; and the catalog check refusing
fills that do not fit the checklist, the procedure's fields or the shared answers."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from portal.bundles import service
from portal.bundles.models import Bundle
from portal.catalog import CatalogError, load_catalog
from portal.catalog.checks import check_catalog
from portal.catalog.loader import read_catalog
from portal.catalog.schema import CatalogData
from tests.catalog_files import copy_catalog, edit, life_event_file

ROOT = Path(__file__).resolve().parents[2]
CATALOG_PATH = ROOT / "procedure_catalog.yaml"
CATALOG = load_catalog(CATALOG_PATH)
RAW = read_catalog(CATALOG_PATH).data  # as validated: each file read, option lists in place
TODAY = dt.date(2026, 11, 22)

MOVING = next(e for e in CATALOG.life_events if e.id == "moving")
BIRTH = next(e for e in CATALOG.life_events if e.id == "birth")
SCREENING = {
    "direction": "into",
    "move_date": "2026-11-20",
    "children": True,
    "insurance": "kokuho",
    "care": False,
}
FUNABASHI = {
    "postal_code": "2730005",
    "prefecture": "千葉県",
    "city": "船橋市",
    "town": "本町",
    "block": "4丁目8番2号",
    "building": "",
}
ISUMI = {
    "postal_code": "2980004",
    "prefecture": "千葉県",
    "city": "いすみ市",
    "town": "大原",
    "block": "2000番地",
    "building": "",
}
MOTHER = {
    "name": "山本 結衣",
    "kana": "ヤマモト ユイ",
    "birth_date": "1992-09-12",
    "relationship": "head",
    "has_card": True,
}
SON = {
    "name": "山本 湊",
    "kana": "ヤマモト ミナト",
    "birth_date": "2021-06-03",
    "relationship": "child",
    "has_card": False,
}
SHARED = {
    "phone": "09012345678",
    "email": "yui@example.jp",
    "previous_address": FUNABASHI,
    "new_address": ISUMI,
    "movers": [MOTHER, SON],
}
CONTEXT = {**SCREENING, **SHARED}


def fill(procedure_id: str, context: dict = CONTEXT, today: dt.date = TODAY, event=MOVING):
    return service.fill_values(event.bundle, CATALOG.procedure(procedure_id), context, today)


# --- fill_values ----------------------------------------------------------------------------------


def test_constants_and_names_fill_their_fields():
    values = fill("kokuho-kanyu-dattai")
    assert values["kind"] == "join"
    assert values["join_reason"] == "other"
    assert values["reason_detail"] == "ほかの市区町村からの転入"
    assert values["phone"] == "09012345678"
    assert values["address"] == ISUMI  # a shared answer under the procedure's own name
    assert values["change_date"] == "2026-11-20"  # from the screening
    assert fill("jidoteate-nintei")["claim_reason"] == "move-in"
    assert fill("kodomo-iryohi")["reason"] == "moved-in"


def test_every_field_of_the_fill_and_nothing_else():
    values = fill("tennyu-yoyaku")
    assert values == {
        "phone": "09012345678",
        "email": "yui@example.jp",
        "previous_address": FUNABASHI,
        "new_address": ISUMI,
        "move_date": "2026-11-20",
        "movers": [MOTHER, SON],  # every sub-answer mapped onto the same names
    }
    assert set(values) <= {f.name for f in CATALOG.procedure("tennyu-yoyaku").fields()}


def test_a_dotted_name_reads_one_part_of_an_answer():
    values = fill("kaigo-tennyu-nintei")
    assert values["previous_city"] == "船橋市"
    assert values["insured_address"] == ISUMI
    assert values["contact_phone"] == "09012345678"
    assert values["moved_in_date"] == "2026-11-20"


def test_a_group_fill_takes_only_the_items_where_holds_and_renames_their_answers():
    assert fill("jidoteate-nintei")["children"] == [
        {
            "child_name": "山本 湊",
            "child_kana": "ヤマモト ミナト",
            "child_birth_date": "2021-06-03",
            "child_relationship": "child",  # a constant in the map
        }
    ]
    assert fill("kodomo-iryohi")["children"] == [
        {"child_name": "山本 湊", "child_kana": "ヤマモト ミナト", "child_birth_date": "2021-06-03"}
    ]
    # Without `where`: every mover, renamed.
    assert [m["member_name"] for m in fill("kokuho-kanyu-dattai")["members"]] == [
        "山本 結衣",
        "山本 湊",
    ]
    assert fill("kokuho-kanyu-dattai")["members"][0] == {
        "member_name": "山本 結衣",
        "member_kana": "ヤマモト ユイ",
        "member_birth_date": "1992-09-12",
        "member_relationship": "head",
    }


def test_where_may_use_today_and_an_empty_group_fills_nothing():
    # 保育: children under 6. 湊 (born 2021-06-03) is 5 now and 6 on 3 June 2027.
    assert [c["child_name"] for c in fill("hoiku-riyou")["children"]] == ["山本 湊"]
    later = fill("hoiku-riyou", today=dt.date(2027, 6, 3))
    assert "children" not in later
    assert later["phone"] == "09012345678"
    assert "children" not in fill("jidoteate-nintei", {**CONTEXT, "movers": [MOTHER]})


def test_a_rule_that_cannot_be_evaluated_fills_nothing():
    # years_between() cannot read a birth date that is not a date: the group is left out (the
    # resident answers it on the member's page), the other fields are still filled.
    odd = {**CONTEXT, "movers": [MOTHER, {**SON, "birth_date": "令和3年6月3日"}]}
    values = fill("hoiku-riyou", odd)
    assert "children" not in values
    assert values["phone"] == "09012345678" and values["address"] == ISUMI
    # jidoteate's where does not compute with the date: the same item fills it.
    assert [c["child_name"] for c in fill("jidoteate-nintei", odd)["children"]] == ["山本 湊"]


def test_missing_or_empty_answers_fill_nothing():
    values = fill("kaigo-tennyu-nintei", {**SCREENING, "phone": "", "previous_address": None})
    assert values == {"moved_in_date": "2026-11-20"}
    assert fill("tennyu-yoyaku", {}) == {}
    assert "email" not in fill("hoiku-riyou", {**CONTEXT, "email": None})


def test_a_procedure_without_a_fill_gets_nothing():
    assert fill("juminhyo-copy") == {}
    assert fill("tennyu-todoke") == {}


def test_the_birth_bundle_fills_from_its_own_shared_answers():
    context = {
        "stage": "born",
        "event_date": "2026-11-20",
        "nursery": False,
        "juminhyo": True,
        "applicant": {"name": "岬 花子", "kana": "ミサキ ハナコ", "birth_date": "1990-04-01"},
        "phone": "0470623111",
        "babies": [
            {"name": "岬 一郎", "kana": "ミサキ イチロウ", "birth_date": "2026-11-20"},
            {"name": "岬 二郎", "kana": "ミサキ ジロウ", "birth_date": "2026-11-20"},
        ],
    }
    jidoteate = fill("jidoteate-nintei", context, event=BIRTH)
    assert jidoteate["claim_reason"] == "birth" and jidoteate["event_date"] == "2026-11-20"
    assert [c["child_name"] for c in jidoteate["children"]] == ["岬 一郎", "岬 二郎"]
    assert fill("juminhyo-copy", context, event=BIRTH) == {
        "applicant_name": "岬 花子",
        "applicant_kana": "ミサキ ハナコ",
        "phone": "0470623111",
        "relationship": "self",
    }


# --- used_names and the shared questions asked ----------------------------------------------------


def test_used_names_are_what_the_chosen_fills_read():
    spec = MOVING.bundle
    # The e-mail address is always asked: the bundle's deadline reminders go to it (notify).
    assert spec.notify == "email"
    assert service.used_names(spec, []) == {"email"}
    assert service.used_names(spec, ["kaigo-tennyu-nintei"]) == {
        "email",
        "phone",
        "new_address",
        "previous_address",  # from previous_address.city
        "move_date",
    }
    assert service.used_names(spec, ["jidoteate-nintei"]) == {
        "email",
        "phone",
        "new_address",
        "previous_address",
        "move_date",
        "movers",
    }
    assert "previous_address" in service.used_names(spec, ["tennyu-yoyaku"])
    assert "previous_address" not in service.used_names(
        spec, ["kokuho-kanyu-dattai", "kodomo-iryohi"]
    )
    assert service.used_names(spec, ["juminhyo-copy"]) == {"email"}  # not in the fills


def a_bundle(procedures: list[str], shared: dict | None = None) -> Bundle:
    return Bundle(
        definition=MOVING.model_dump(mode="json", by_alias=True),
        procedures=procedures,
        screening=dict(SCREENING),
        shared=dict(shared or {}),
        shared_done=[],
    )


def test_only_the_shared_questions_a_chosen_procedure_uses_are_asked():
    steps = service.shared_steps(a_bundle(["kaigo-tennyu-nintei"]), TODAY)
    assert [(s.id, [f.name for f in s.fields]) for s in steps] == [
        ("contact", ["phone", "email"]),
        ("addresses", ["previous_address", "new_address"]),
    ]
    steps = service.shared_steps(a_bundle(["tennyu-yoyaku", "hoiku-riyou"]), TODAY)
    assert [(s.id, [f.name for f in s.fields]) for s in steps] == [
        ("contact", ["phone", "email"]),
        ("addresses", ["previous_address", "new_address"]),
        ("movers", ["movers"]),
    ]
    # The bundle snapshot's steps themselves are left whole.
    assert [f.name for f in MOVING.bundle.shared[0].fields] == ["phone", "email"]


# --- the catalog check ----------------------------------------------------------------------------


def moving_bundle(data: dict) -> dict:
    event = next(e for e in data["life_events"] if e["id"] == "moving")
    assert data["life_events"].index(event) == 0
    return event["bundle"]


def fill_of(data: dict, procedure_id: str) -> dict:
    return next(f for f in moving_bundle(data)["fills"] if f["procedure"] == procedure_id)


def problems_after(change) -> list[str]:
    data = copy.deepcopy(RAW)
    change(data)
    return check_catalog(CatalogData.model_validate(data))


def test_the_real_catalog_bundles_pass_the_check():
    assert check_catalog(CATALOG) == []
    assert problems_after(lambda data: None) == []


def add_fill(data: dict, procedure_id: str) -> None:
    moving_bundle(data)["fills"].append({"procedure": procedure_id, "answers": {"phone": "phone"}})


def add_shared_field(data: dict, field: dict) -> None:
    moving_bundle(data)["shared"][0]["fields"].append(field)


FILL = "life_events[0].bundle.fills"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (  # a real procedure, but not on the moving checklist
            lambda d: add_fill(d, "juminhyo-copy"),
            f"{FILL}[7].procedure: 'juminhyo-copy' is not on the checklist",
        ),
        (
            lambda d: add_fill(d, "no-such-procedure"),
            f"{FILL}[7].procedure: 'no-such-procedure' is not on the checklist",
        ),
        (
            lambda d: fill_of(d, "tennyu-yoyaku")["answers"].update(fax="phone"),
            f"{FILL}[0].answers.fax: tennyu-yoyaku has no such field",
        ),
        (
            lambda d: fill_of(d, "tennyu-yoyaku")["answers"].update(phone="telephone"),
            f"{FILL}[0].answers.phone: unknown name 'telephone'",
        ),
        (
            lambda d: fill_of(d, "kaigo-tennyu-nintei")["answers"].update(
                previous_city="old_address.city"
            ),
            f"{FILL}[5].answers.previous_city: unknown name 'old_address.city'",
        ),
        (
            lambda d: fill_of(d, "jidoteate-nintei")["answers"]["children"].update(
                where='relation == "child"'
            ),
            f"{FILL}[2].children.where: unknown name 'relation'",
        ),
        (
            lambda d: fill_of(d, "kodomo-iryohi")["answers"]["children"]["map"].update(
                child_age="age"
            ),
            f"{FILL}[3].answers.children.map: no item field 'child_age'",
        ),
        (
            lambda d: fill_of(d, "kodomo-iryohi")["answers"]["children"]["map"].update(
                child_kana="furigana"
            ),
            f"{FILL}[3].children.map.child_kana: unknown name 'furigana'",
        ),
        (  # a group made from something that is not a shared group
            lambda d: fill_of(d, "kodomo-iryohi")["answers"]["children"].update({"from": "phone"}),
            f"{FILL}[3].answers.children: fill a group from a shared group",
        ),
        (
            lambda d: add_shared_field(
                d, {"name": "lease", "type": "file", "label": "賃貸借契約書"}
            ),
            "life_events[0].bundle.shared[0].fields[2]: a file is not shared",
        ),
        (
            lambda d: add_shared_field(
                d, {"name": "my_number", "type": "mynumber", "label": "マイナンバー"}
            ),
            "life_events[0].bundle.shared[0].fields[2]: a mynumber is not shared",
        ),
        (  # a shared name that is also a screening answer
            lambda d: add_shared_field(
                d, {"name": "move_date", "type": "date", "label": "引っ越した日"}
            ),
            "life_events[0].bundle.shared: field name 'move_date' is used twice",
        ),
    ],
)
def test_the_check_refuses_fills_that_do_not_fit(change, expected):
    problems = problems_after(change)
    assert any(p.startswith(expected) for p in problems), problems


def test_a_refused_bundle_stops_the_catalog_loading(tmp_path):
    entry = copy_catalog(tmp_path)
    edit(
        life_event_file(entry, "moving"),
        lambda event: add_fill({"life_events": [event]}, "juminhyo-copy"),
    )
    with pytest.raises(CatalogError) as raised:
        load_catalog(entry)
    assert (
        "catalog/life-events/moving.yaml: bundle.fills[7].procedure: 'juminhyo-copy' is not on "
        "the checklist" in raised.value.problems
    )
