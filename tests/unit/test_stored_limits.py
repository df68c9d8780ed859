"""Stored input has limits (issue 25, decision 0044): every input of every catalog field has an
explicit maximum (answers are stored as JSON, where no column bounds them), names allow the
longest names on residence cards, and every limit of a form whose value is stored in a column
fits that column (with whatever the portal adds to it)."""

from __future__ import annotations

import pytest

from portal.appointments.models import AppointmentClosure
from portal.audit.models import REASON_MAX as AUDIT_REASON_MAX
from portal.catalog import load_catalog
from portal.catalog.fields.composite import AddressType, BankAccountType, GroupType, PersonType
from portal.input_policy import NAME_MAX, TEXT_MAX
from portal.mock_pay.models import REASON_MAX as PROVIDER_REASON_MAX
from portal.payments.models import Payment, PaymentItem
from portal.staff import appointments as staff_appointments
from portal.staff import payments as staff_payments
from portal.staff import views as staff_views
from portal.submissions.models import Submission
from portal.submissions.service import normalize_search
from tests.conftest import ROOT

CATALOG = load_catalog(ROOT / "procedure_catalog.yaml")
LONG_NAME = "GONZALEZ RODRIGUEZ MARIA FERNANDA ISABEL DE LOS ANGELES DEL CARMEN"  # 66 letters
NAME_LABELS = ("氏名", "フリガナ")


def all_fields():
    """(where, field) for every field of every procedure and life event, group items included."""

    def walk(where, fields):
        for field in fields:
            yield f"{where}.{field.name}", field
            yield from walk(f"{where}.{field.name}", getattr(field, "fields", []) or [])

    for procedure in CATALOG.procedures:
        yield from walk(procedure.id, procedure.fields())
    for event in CATALOG.life_events:
        if event.screening:
            yield from walk(f"life-event:{event.id}", event.screening.fields)


def inputs(field) -> list[str]:
    """The names of the inputs a field type reads ("" for the field itself)."""
    field_type = field.field_type
    if isinstance(field_type, AddressType):
        return [part.name for part in field_type.parts]
    if isinstance(field_type, PersonType):
        return [part.name for part in field_type.parts(field)] + (
            ["relationship"] if field.options else []
        )
    if isinstance(field_type, BankAccountType):
        return list(field_type.part_names)
    if isinstance(field_type, GroupType):
        return ["count"] + [f"0.{sub.name}" for sub in field.fields]
    return [""]


FIELDS = list(all_fields())


def test_the_catalog_has_fields_to_check():
    assert len(FIELDS) > 300
    assert any(isinstance(f.field_type, PersonType) for _w, f in FIELDS)
    assert any(isinstance(f.field_type, AddressType) for _w, f in FIELDS)


@pytest.mark.parametrize(("where", "field"), FIELDS, ids=[w for w, _f in FIELDS])
def test_every_input_of_every_field_has_an_explicit_limit(where, field):
    for name in inputs(field):
        limit = field.field_type.input_limit(field, name)
        assert 0 < limit <= TEXT_MAX, (where, name, limit)
        if isinstance(field.field_type, (AddressType, PersonType, BankAccountType)):
            assert limit < TEXT_MAX, (where, name, "a part has a limit of its own")


def test_names_allow_the_longest_names_on_residence_cards():
    assert len(LONG_NAME) <= NAME_MAX
    names = [
        (where, field)
        for where, field in FIELDS
        if field.type in ("text", "kana") and field.label.endswith(NAME_LABELS)
    ]
    assert len(names) > 40
    short = [w for w, f in names if f.field_type.input_limit(f, "") < NAME_MAX]
    assert not short, short
    for where, field in FIELDS:
        if isinstance(field.field_type, PersonType):
            for part in ("name", "kana"):
                assert field.field_type.input_limit(field, part) >= NAME_MAX, where


def column_length(column) -> int:
    return column.property.columns[0].type.length


def test_form_limits_fit_the_columns_they_are_stored_in():
    # A refund's reason: the payment row, the provider's refund, the audit log after a prefix.
    reason = staff_payments.REASON_MAX
    assert reason <= column_length(Payment.refund_reason)
    assert reason <= PROVIDER_REASON_MAX
    assert len(staff_payments.REFUND_PREFIX) + reason <= AUDIT_REASON_MAX
    # Why a masked field was shown: the audit log.
    assert staff_views.REASON_MAX <= AUDIT_REASON_MAX
    # A counter closure's reason: its row and the audit log.
    closure = staff_appointments.CLOSURE_REASON_MAX
    assert closure <= column_length(AppointmentClosure.reason)
    assert closure <= AUDIT_REASON_MAX
    # A counter charge's description.
    assert column_length(PaymentItem.description) >= staff_payments.DESCRIPTION_MAX
    # The inbox's search text (name and reading, spaces removed) of the longest name is whole.
    longest = normalize_search("A" * NAME_MAX + " " + "ア" * NAME_MAX)
    assert len(longest) <= column_length(Submission.applicant_search)
