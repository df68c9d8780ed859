"""The catalog: the real one loads; malformed ones are refused with the YAML path named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from portal import create_app
from portal.catalog import CatalogError, load_catalog, logic

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "procedure_catalog.yaml"


def write_variant(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_real_catalog_loads():
    catalog = load_catalog(CATALOG)
    procedure = catalog.procedure("juminhyo-copy")
    assert procedure is not None
    assert procedure.title == "住民票の写し等の交付請求"
    assert procedure.national_procedure_id is None
    assert [e.id for e in catalog.life_events][:3] == ["moving", "birth", "bereavement"]


def test_unknown_field_type_stops_start_up_with_the_yaml_path(tmp_path):
    def change(data):
        data["procedures"][0]["steps"][1]["fields"][0]["type"] = "postcode"

    path = write_variant(tmp_path, change)
    with pytest.raises(CatalogError) as raised:
        create_app("test", {"CATALOG_PATH": str(path), "INSTANCE_PATH": str(tmp_path)})
    assert "procedures[0].steps[1].fields[0].type: unknown field type 'postcode'" in str(
        raised.value
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["procedures"][0].update(surprise=1),
            "procedures[0].surprise: Extra inputs are not permitted",
        ),
        (
            lambda d: d["procedures"][0].update(id="Juminhyo Copy"),
            "procedures[0].id: String should match pattern",
        ),
        (
            lambda d: d["procedures"][0].update(department="nowhere"),
            "procedures[0].department: unknown department 'nowhere'",
        ),
        (
            lambda d: d["procedures"][0].update(life_events=["moving", "wedding"]),
            "procedures[0].life_events[1]: unknown life event 'wedding'",
        ),
        (
            lambda d: d["procedures"][0]["fee"].update(rule="copie * 300"),
            "procedures[0].fee.rule: unknown name 'copie'",
        ),
        (
            lambda d: d["procedures"][0]["steps"][1]["fields"][1].update(when="__import__('os')"),
            "procedures[0].steps[1].fields[1].when:",
        ),
        (
            lambda d: d["procedures"][0]["steps"][0]["fields"][3].update(options=[]),
            "procedures[0].steps[0].fields[3].options: a radio field needs options",
        ),
        (
            lambda d: d["procedures"][0]["example_answers"].update(copies=99),
            "procedures[0].example_answers.copies: 通数は10以下で入力してください",
        ),
        (
            lambda d: d["procedures"][0]["example_answers"].pop("phone"),
            "procedures[0].example_answers.phone: missing (required)",
        ),
        (
            lambda d: d["workflows"]["standard"]["transitions"].pop(0),
            "workflows.standard.transitions: no 'submit' transition",
        ),
        (
            lambda d: d["procedures"].append(d["procedures"][0]),
            "procedures: duplicate id 'juminhyo-copy'",
        ),
        (  # a staff transition says which roles may apply it (issue 12)
            lambda d: d["workflows"]["standard"]["transitions"][6].pop("roles"),
            "workflows.standard.transitions[6]: staff transitions need roles and a label",
        ),
        (
            lambda d: d["workflows"]["standard"]["transitions"][6].update(roles=["mayor"]),
            "workflows.standard.transitions[6].roles[0]: Input should be 'clerk', 'reviewer'",
        ),
        (
            lambda d: d["workflows"]["standard"]["transitions"][0].update(decision="paper"),
            "workflows.standard.transitions[0]: roles and decision are for staff only",
        ),
        (
            lambda d: d["procedures"][0].pop("processing_days"),
            "procedures[0].processing_days: Field required",
        ),
    ],
)
def test_malformed_catalogs_are_refused_with_their_path(tmp_path, change, expected):
    path = write_variant(tmp_path, change)
    with pytest.raises(CatalogError) as raised:
        load_catalog(path)
    assert expected in str(raised.value)


def test_invalid_yaml_is_reported(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("procedures: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(path)


def test_includes_append_procedures(tmp_path):
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    extra = dict(data["procedures"][0], id="juminhyo-copy-two")
    (tmp_path / "more.yaml").write_text(
        yaml.safe_dump({"procedures": [extra]}, allow_unicode=True), encoding="utf-8"
    )
    data["include"] = ["more.yaml"]
    main = tmp_path / "catalog.yaml"
    main.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    catalog = load_catalog(main)
    ids = [p.id for p in catalog.procedures]
    assert ids[0] == "juminhyo-copy" and ids[-1] == "juminhyo-copy-two"
    assert len(ids) == len(yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["procedures"]) + 1


def test_fee_and_conditions_follow_the_answers():
    procedure = load_catalog(CATALOG).procedure("juminhyo-copy")
    today = dt.date(2026, 11, 22)
    assert logic.fee_amount(procedure, {"copies": 3}, today) == 900
    target = procedure.step("target")
    members = target.fields[1]
    assert not logic.field_applies(members, {"scope": "self"}, today)
    assert logic.field_applies(members, {"scope": "household-some"}, today)
    pruned = logic.prune(procedure, {"scope": "self", "members": "大原 花子"}, today)
    assert pruned == {"scope": "self"}


def test_booking_hours_are_checked():
    from portal.catalog.checks import check_catalog
    from portal.catalog.schema import CatalogData

    data = yaml.safe_load((ROOT / "procedure_catalog.yaml").read_text(encoding="utf-8"))
    booking = data["counters"][0]["booking"]
    booking["days"][0] = {"weekday": "mon", "open": "17:00", "close": "08:30"}
    booking["days"][1]["breaks"] = [{"start": "18:00", "end": "19:00"}]
    booking["services"].append(dict(booking["services"][0]))
    problems = check_catalog(CatalogData.model_validate(data))
    assert "counters[0].booking.days[0]: opens at 17:00, after closing at 08:30" in problems
    assert "counters[0].booking.days[1].breaks[0]: not within the opening hours" in problems
    assert "counters[0].booking.services: id 'tennyu' is used twice" in problems
