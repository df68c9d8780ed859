"""The catalog: the real one loads, one procedure per file; malformed ones are refused with the
file and YAML path named."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from portal import create_app
from portal.catalog import CatalogError, load_catalog, logic
from portal.catalog.checks import check_catalog
from portal.catalog.loader import read_catalog
from portal.catalog.schema import CatalogData
from tests.catalog_files import (
    ENTRY,
    LIFE_EVENTS,
    PROCEDURES,
    edit,
    procedure_file,
    read,
    small_catalog,
    write,
)

CATALOG = ENTRY
JUMINHYO = "catalog/procedures/juminhyo-copy.yaml"


def test_the_real_catalog_loads():
    catalog = load_catalog(CATALOG)
    procedure = catalog.procedure("juminhyo-copy")
    assert procedure is not None
    assert procedure.title == "住民票の写し等の交付請求"
    assert procedure.national_procedure_id is None
    assert [e.id for e in catalog.life_events][:3] == ["moving", "birth", "bereavement"]


@pytest.mark.parametrize(
    ("folder", "key"), [(PROCEDURES, "procedures"), (LIFE_EVENTS, "life_events")]
)
def test_each_file_holds_one_entry_named_by_the_file(folder, key):
    files = sorted(folder.glob("*.yaml"))
    assert files and sorted(path.name for path in folder.iterdir()) == [p.name for p in files]
    for path in files:
        data = read(path)
        assert isinstance(data, dict), f"{path.name}: one mapping (one entry) per file"
        assert data["id"] == path.stem, f"{path.name} holds {data['id']!r}"
    listed = read(ENTRY)[key]
    assert sorted(listed) == [f"catalog/{folder.name}/{path.name}" for path in files]
    assert [entry.id for entry in getattr(load_catalog(CATALOG), key)] == [
        Path(name).stem for name in listed
    ]


def test_the_catalog_uses_no_yaml_anchors():
    """Shared options are named lists: an anchor cannot cross files."""
    for path in [ENTRY, *PROCEDURES.glob("*.yaml"), *LIFE_EVENTS.glob("*.yaml")]:
        text = path.read_text(encoding="utf-8")
        events = yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        anchored = [e for e in events if getattr(e, "anchor", None)]
        assert not anchored, f"{path.name}: line {anchored[0].start_mark.line + 1}"


def test_every_named_option_list_is_used():
    lists = set(read(ENTRY)["option_lists"])
    used = {
        match.group(1)
        for path in PROCEDURES.glob("*.yaml")
        for match in re.finditer(r"options: ([a-z][a-z0-9-]*)\b", path.read_text(encoding="utf-8"))
    }
    assert lists <= used, lists - used


def test_a_named_option_list_gives_the_same_field_as_the_options_written_out(tmp_path):
    entry = small_catalog(tmp_path)
    before = load_catalog(entry).procedure("juminhyo-copy").steps[0].fields[3]
    inline = read(procedure_file(entry, "juminhyo-copy"))["steps"][0]["fields"][3]["options"]
    edit(entry, lambda data: data["option_lists"].update({"applicants": inline}))
    path = procedure_file(entry, "juminhyo-copy")
    edit(path, lambda data: data["steps"][0]["fields"][3].update(options="applicants"))
    assert load_catalog(entry).procedure("juminhyo-copy").steps[0].fields[3] == before


def test_an_unknown_option_list_is_reported_with_its_file_and_path(tmp_path):
    entry = small_catalog(tmp_path)
    path = procedure_file(entry, "juminhyo-copy")
    edit(path, lambda data: data["steps"][0]["fields"][3].update(options="nurserys"))
    with pytest.raises(CatalogError) as raised:
        load_catalog(entry)
    assert (
        f"{JUMINHYO}: steps[0].fields[3].options: unknown option list 'nurserys' (known: nurseries,"
        in str(raised.value)
    )


def test_a_malformed_option_list_is_reported_in_the_entry_file(tmp_path):
    entry = small_catalog(tmp_path)
    edit(entry, lambda data: data["option_lists"]["nurseries"].append({"value": "No Such"}))
    with pytest.raises(CatalogError) as raised:
        load_catalog(entry)
    problems = raised.value.problems
    assert "procedure_catalog.yaml: option_lists.nurseries[5].label: Field required" in problems
    assert any(
        p.startswith("procedure_catalog.yaml: option_lists.nurseries[5].value: ") for p in problems
    )


def test_unknown_field_type_stops_start_up_with_the_file_and_yaml_path(tmp_path):
    entry = small_catalog(tmp_path / "catalog")
    path = procedure_file(entry, "juminhyo-copy")
    edit(path, lambda data: data["steps"][1]["fields"][0].update(type="postcode"))
    with pytest.raises(CatalogError) as raised:
        create_app("test", {"CATALOG_PATH": str(entry), "INSTANCE_PATH": str(tmp_path)})
    assert f"{JUMINHYO}: steps[1].fields[0].type: unknown field type 'postcode'" in str(
        raised.value
    )


def juminhyo(change):
    return ("procedure", change)


def workflow(change):
    return ("entry", change)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            juminhyo(lambda d: d.update(surprise=1)),
            f"{JUMINHYO}: surprise: Extra inputs are not permitted",
        ),
        (
            juminhyo(lambda d: d.update(id="Juminhyo Copy")),
            f"{JUMINHYO}: id: String should match pattern",
        ),
        (
            juminhyo(lambda d: d.update(department="nowhere")),
            f"{JUMINHYO}: department: unknown department 'nowhere'",
        ),
        (
            juminhyo(lambda d: d.update(life_events=["moving", "wedding"])),
            f"{JUMINHYO}: life_events[1]: unknown life event 'wedding'",
        ),
        (
            juminhyo(lambda d: d["fee"].update(rule="copie * 300")),
            f"{JUMINHYO}: fee.rule: unknown name 'copie'",
        ),
        (
            juminhyo(lambda d: d["steps"][1]["fields"][1].update(when="__import__('os')")),
            f"{JUMINHYO}: steps[1].fields[1].when:",
        ),
        (
            juminhyo(lambda d: d["steps"][0]["fields"][3].update(options=[])),
            f"{JUMINHYO}: steps[0].fields[3].options: a radio field needs options",
        ),
        (
            juminhyo(lambda d: d["example_answers"].update(copies=99)),
            f"{JUMINHYO}: example_answers.copies: 通数は10以下で入力してください",
        ),
        (
            juminhyo(lambda d: d["example_answers"].pop("phone")),
            f"{JUMINHYO}: example_answers.phone: missing (required)",
        ),
        (
            juminhyo(lambda d: d.pop("processing_days")),
            f"{JUMINHYO}: processing_days: Field required",
        ),
        (
            workflow(lambda d: d["workflows"]["standard"]["transitions"].pop(0)),
            "procedure_catalog.yaml: workflows.standard.transitions: no 'submit' transition",
        ),
        (  # a staff transition says which roles may apply it (issue 12)
            workflow(lambda d: d["workflows"]["standard"]["transitions"][6].pop("roles")),
            "procedure_catalog.yaml: workflows.standard.transitions[6]: staff transitions need "
            "roles and a label",
        ),
        (
            workflow(
                lambda d: d["workflows"]["standard"]["transitions"][6].update(roles=["mayor"])
            ),
            "procedure_catalog.yaml: workflows.standard.transitions[6].roles[0]: Input should be "
            "'clerk', 'reviewer'",
        ),
        (
            workflow(
                lambda d: d["workflows"]["standard"]["transitions"][0].update(decision="paper")
            ),
            "procedure_catalog.yaml: workflows.standard.transitions[0]: roles and decision are for "
            "staff only",
        ),
        (
            workflow(lambda d: d["counters"][0].update(department="nowhere")),
            "procedure_catalog.yaml: counters[0].department: unknown department 'nowhere'",
        ),
    ],
)
def test_malformed_catalogs_are_refused_with_their_file_and_path(tmp_path, change, expected):
    entry = small_catalog(tmp_path)
    target, alter = change
    edit(entry if target == "entry" else procedure_file(entry, "juminhyo-copy"), alter)
    with pytest.raises(CatalogError) as raised:
        load_catalog(entry)
    assert expected in str(raised.value)


def test_the_small_catalog_of_these_tests_is_valid(tmp_path):
    assert [p.id for p in load_catalog(small_catalog(tmp_path)).procedures] == ["juminhyo-copy"]


def test_a_duplicate_id_names_both_files(tmp_path):
    entry = small_catalog(tmp_path)
    shutil.copy(procedure_file(entry, "juminhyo-copy"), procedure_file(entry, "copy"))
    edit(entry, lambda data: data["procedures"].append("catalog/procedures/copy.yaml"))
    with pytest.raises(CatalogError) as raised:
        load_catalog(entry)
    assert raised.value.problems == [
        f"{JUMINHYO}: id: duplicate id 'juminhyo-copy'",
        "catalog/procedures/copy.yaml: id: duplicate id 'juminhyo-copy'",
    ]


def test_a_procedure_file_that_is_not_listed_is_reported(tmp_path):
    entry = small_catalog(tmp_path)
    shutil.copy(procedure_file(entry, "juminhyo-copy"), procedure_file(entry, "forgotten"))
    with pytest.raises(CatalogError) as raised:
        load_catalog(entry)
    assert raised.value.problems == [
        "catalog/procedures/forgotten.yaml: not listed under procedures: in procedure_catalog.yaml"
    ]


def test_a_listed_file_that_is_missing_or_broken_is_reported(tmp_path):
    entry = small_catalog(tmp_path)
    edit(entry, lambda data: data["procedures"].append("catalog/procedures/gone.yaml"))
    procedure_file(entry, "juminhyo-copy").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(entry)
    problems = raised.value.problems
    assert problems[0].startswith(f"{JUMINHYO}: not valid YAML: ")
    assert problems[0].endswith("(listed as procedures[0] in procedure_catalog.yaml)")
    assert problems[1] == (
        "catalog/procedures/gone.yaml: file not found (listed as procedures[1] in "
        "procedure_catalog.yaml)"
    )


def test_a_life_event_problem_names_its_file(tmp_path):
    entry = small_catalog(tmp_path, ["tenshutsu"], life_events=["moving"])
    edit(entry.parent / "catalog/life-events/moving.yaml", lambda d: d.update(event_date="nope"))
    with pytest.raises(CatalogError) as raised:
        load_catalog(entry)
    assert (
        "catalog/life-events/moving.yaml: event_date: no date field 'nope' in the screening"
        in raised.value.problems
    )


def test_invalid_yaml_is_reported(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("procedures: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError, match="broken.yaml: not valid YAML"):
        load_catalog(path)


def test_includes_append_procedures_and_their_problems_name_the_included_file(tmp_path):
    entry = small_catalog(tmp_path)
    extra = dict(read(procedure_file(entry, "juminhyo-copy")), id="juminhyo-copy-two")
    write(tmp_path / "more.yaml", {"procedures": [extra]})
    edit(entry, lambda data: data.update(include=["more.yaml"]))
    catalog = load_catalog(entry)
    assert [p.id for p in catalog.procedures] == ["juminhyo-copy", "juminhyo-copy-two"]

    extra["department"] = "nowhere"
    write(tmp_path / "more.yaml", {"procedures": [extra]})
    with pytest.raises(CatalogError) as raised:
        load_catalog(entry)
    assert raised.value.problems == [
        "more.yaml: procedures[0].department: unknown department 'nowhere'"
    ]


def test_the_catalog_is_parsed_once_per_content_of_every_file(tmp_path):
    entry = small_catalog(tmp_path, ["juminhyo-copy", "koseki-shomei"])
    first = load_catalog(entry)
    assert load_catalog(entry) is first
    path = procedure_file(entry, "koseki-shomei")
    edit(path, lambda data: data.update(title="戸籍証明書の請求（変更）"))
    changed = load_catalog(entry)
    assert changed is not first
    assert changed.procedure("koseki-shomei").title == "戸籍証明書の請求（変更）"
    assert load_catalog(entry) is changed
    # A file added to a listed folder changes the folder: the new file is reported.
    shutil.copy(path, procedure_file(entry, "added"))
    with pytest.raises(CatalogError, match="added.yaml: not listed"):
        load_catalog(entry)


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
    data = read_catalog(CATALOG).data
    booking = data["counters"][0]["booking"]
    booking["days"][0] = {"weekday": "mon", "open": "17:00", "close": "08:30"}
    booking["days"][1]["breaks"] = [{"start": "18:00", "end": "19:00"}]
    booking["services"].append(dict(booking["services"][0]))
    problems = check_catalog(CatalogData.model_validate(data))
    assert "counters[0].booking.days[0]: opens at 17:00, after closing at 08:30" in problems
    assert "counters[0].booking.days[1].breaks[0]: not within the opening hours" in problems
    assert "counters[0].booking.services: id 'tennyu' is used twice" in problems


def test_flask_catalog_check_prints_each_problem_with_its_file(tmp_path):
    app = create_app("test", {"INSTANCE_PATH": str(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["catalog", "check"])
    assert result.exit_code == 0 and "catalog OK: " in result.output

    entry = small_catalog(tmp_path / "broken")
    edit(procedure_file(entry, "juminhyo-copy"), lambda d: d["fee"].update(rule="copie * 300"))
    result = runner.invoke(args=["catalog", "check", str(entry)])
    assert result.exit_code == 1
    assert f"{JUMINHYO}: fee.rule: unknown name 'copie'" in result.output


def test_a_procedure_without_search_keywords_fails_the_check():
    data = read_catalog(CATALOG).data
    data["procedures"][0]["keywords"] = []
    data["procedures"][1]["keywords"] = ["ひっこし"]  # a reading alone
    data["procedures"][2]["keywords"] = ["引越し"]  # no reading
    problems = check_catalog(CatalogData.model_validate(data))
    assert any(p.startswith("procedures[0].keywords: missing") for p in problems), problems
    assert "procedures[1].keywords: only readings; give the words as they are written too" in (
        problems
    )
    assert "procedures[2].keywords: no reading in hiragana (e.g. ひっこし for 引越し)" in problems


def test_every_procedure_of_the_real_catalog_has_keywords_and_readings():
    catalog = load_catalog(CATALOG)
    assert all(p.keywords for p in catalog.procedures)
    assert not [p for p in check_catalog(catalog) if ".keywords" in p]


def test_an_optional_login_is_for_a_procedure_anyone_may_file():
    """妊娠の届出: anyone may notify, a card holder who logs in gets the prefill (issue 22);
    without optional_login a procedure with no login may not prefill."""
    data = read_catalog(CATALOG).data
    index = next(i for i, p in enumerate(data["procedures"]) if p["id"] == "ninshin-todoke")
    data["procedures"][index]["optional_login"] = False
    problems = check_catalog(CatalogData.model_validate(data))
    assert any(
        p.startswith(f"procedures[{index}].identity_level: prefill and on_behalf need")
        for p in problems
    ), problems
    data["procedures"][index].update(optional_login=True, identity_level="login")
    problems = check_catalog(CatalogData.model_validate(data))
    assert f"procedures[{index}].optional_login: only with identity_level 'none'" in problems
