"""The mock card service and the mock resident records stand on their own: each has its own
setting, neither imports the other, and both read the demo people of portal/demo_data. So the
real card service, or a real records adapter, can replace either one alone."""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path

import pytest

from portal.demo_data.people import load_personas
from portal.records.mock import MockResidentRecords
from tests.conftest import make_app

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def imported_modules(package: str) -> set[str]:
    """Every module named by an import statement in the package's files (relative imports are
    resolved against the package)."""
    names: set[str] = set()
    for path in (PORTAL / package).rglob("*.py"):
        module = ".".join(("portal", *path.relative_to(PORTAL).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = module.split(".")[: -node.level]
                    base = ".".join([*parent, base] if base else parent)
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def under(names: set[str], *packages: str) -> set[str]:
    return {n for n in names if any(n == p or n.startswith(f"{p}.") for p in packages)}


MOCKS = ("portal.mock_jpki", "portal.mock_pay")


def test_the_records_package_imports_no_mock():
    assert under(imported_modules("records"), *MOCKS) == set()


def test_the_mock_card_service_does_not_import_the_records():
    assert under(imported_modules("mock_jpki"), "portal.records") == set()


def test_the_demo_data_belongs_to_neither_mock():
    assert under(imported_modules("demo_data"), *MOCKS, "portal.records") == set()


def test_the_mock_records_run_without_the_mock_card_service(database_url, clean_db, tmp_path):
    app = make_app(database_url, tmp_path, MOCK_JPKI_ENABLED=False)
    assert "mock_jpki" not in app.blueprints
    records = app.extensions["resident_records"]
    assert isinstance(records, MockResidentRecords)
    adult = load_personas()["adult"]
    with app.app_context():
        person_id = records.find_person(
            adult.name, adult.birth_date, reader="test", purpose="記録だけの確認"
        )
        assert records.resident(person_id, reader="test", purpose="記録だけの確認").name == (
            adult.name
        )


def test_the_mock_card_service_runs_without_the_mock_records(database_url, clean_db, tmp_path):
    app = make_app(database_url, tmp_path, MOCK_RECORDS_ENABLED=False)
    assert "mock_jpki" in app.blueprints
    assert "resident_records" not in app.extensions
    response = app.test_client().get("/mock-jpki/.well-known/openid-configuration")
    assert response.status_code == 200


@pytest.mark.parametrize("setting", ["MOCK_JPKI_ENABLED", "MOCK_RECORDS_ENABLED"])
def test_both_mocks_are_on_by_default_outside_production(database_url, tmp_path, setting):
    assert make_app(database_url, tmp_path).config[setting] is True


def test_the_demo_people_are_one_file_read_by_both_mocks():
    people = load_personas()
    assert people["adult"].auth_pin and people["adult"].records.resident_since < dt.date.today()
    assert (PORTAL / "demo_data" / "people.yaml").is_file()
    assert not list((PORTAL / "mock_jpki").glob("*.yaml"))
    assert not list((PORTAL / "records").glob("*.yaml"))


def test_the_mock_card_gives_the_my_number_only_to_the_citys_portal(app):
    """The scope my_number (the card's 券面事項入力補助: its 個人番号) is allowed for the
    portal's own client only; any other relying party asking for it gets the rest."""
    from portal.mock_jpki import provider

    with app.test_request_context():
        other = {"client_id": "other-rp", "client_secret": "s", "redirect_uris": ["http://x/cb"]}
        clients = provider.load_clients({**app.config, "MOCK_JPKI_CLIENTS": json.dumps([other])})
        portal = clients[app.config["JPKI_CLIENT_ID"]]
        others = [c for c in clients.values() if c is not portal]
        asked = "openid name my_number"
        assert portal.get_allowed_scope(asked) == asked
        assert others and all(c.get_allowed_scope(asked) == "openid name" for c in others)
        claims = provider.user_claims("elderly", asked, portal.client_id)
        assert claims["my_number"] == load_personas()["elderly"].my_number
        assert "my_number" not in provider.user_claims("elderly", "openid name", "x")
