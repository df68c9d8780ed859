"""The catalog's `sensitive` attribute (decision 0054): fields that always hold a secret of the
resident's must carry it, and it marks a step's own field, never a group's sub-field. Checked
at start-up and by `flask catalog check`."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.catalog import CatalogError, load_catalog
from portal.catalog.checks import SECRET_TYPES
from tests.catalog_files import ENTRY, edit, procedure_file, small_catalog

JUMINHYO = "catalog/procedures/juminhyo-copy.yaml"


def with_field(field: dict):
    def change(data: dict) -> None:
        data["steps"][0]["fields"].append({"required": False, **field})

    return change


def test_every_secret_field_of_the_real_catalog_is_marked_sensitive():
    catalog = load_catalog(ENTRY)
    secrets = [
        (p.id, f.name, f.sensitive)
        for p in catalog.procedures
        for f in p.fields()
        if f.type in SECRET_TYPES
    ]
    assert len(secrets) >= 20  # My Numbers and bank accounts
    assert all(sensitive for _, _, sensitive in secrets)
    kogaku = catalog.procedure("kaigo-kogaku")
    assert kogaku is not None
    assert [f.name for f in kogaku.fields() if f.sensitive] == ["my_number", "bank_account"]


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            {"name": "my_number", "type": "mynumber", "label": "個人番号"},
            "sensitive: a mynumber field is always sensitive: true",
        ),
        (
            {"name": "account", "type": "bank_account", "label": "口座"},
            "sensitive: a bank_account field is always sensitive: true",
        ),
        (
            {
                "name": "people",
                "type": "group",
                "label": "世帯の方",
                "fields": [
                    {"name": "name", "type": "text", "label": "氏名"},
                    {"name": "income", "type": "text", "label": "所得", "sensitive": True},
                ],
            },
            "fields[1].sensitive: a sensitive answer is a step's own field, not a group's",
        ),
    ],
)
def test_a_misplaced_or_missing_sensitive_flag_is_refused(tmp_path, field, expected):
    entry = small_catalog(tmp_path)
    edit(procedure_file(entry, "juminhyo-copy"), with_field(field))
    with pytest.raises(CatalogError) as raised:
        load_catalog(entry)
    assert f"{JUMINHYO}: steps[0].fields[" in str(raised.value)
    assert expected in str(raised.value)


def test_a_sensitive_field_where_it_belongs_is_accepted_and_flask_catalog_check_reports(
    tmp_path,
):
    good = small_catalog(tmp_path / "good")
    field = {"name": "my_number", "type": "mynumber", "label": "個人番号", "sensitive": True}
    edit(procedure_file(good, "juminhyo-copy"), with_field(field))
    procedure = load_catalog(good).procedure("juminhyo-copy")
    assert procedure is not None and procedure.field("my_number").sensitive

    app = create_app("test", {"INSTANCE_PATH": str(tmp_path)})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["catalog", "check", str(good)]).exit_code == 0
    bad = small_catalog(tmp_path / "bad")
    edit(procedure_file(bad, "juminhyo-copy"), with_field(field | {"sensitive": False}))
    result = runner.invoke(args=["catalog", "check", str(bad)])
    assert result.exit_code == 1
    assert "sensitive: a mynumber field is always sensitive: true" in result.output
