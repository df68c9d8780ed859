"""The amount charged always equals the catalog's fee for the stored answers, checked against
an independent price table (戸籍 450 yen, 除籍・改製原戸籍 750 yen, 附票 300 yen; 住民票 300
yen a copy) for any choice of certificates and copies; nothing is charged for what is exempt or
already paid; the status machine never leaves a final state except paid → refunded."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from portal.catalog import load_catalog
from portal.config import PROJECT_ROOT
from portal.payments import service, states
from portal.submissions.models import Submission

CATALOG = load_catalog(PROJECT_ROOT / "procedure_catalog.yaml")
KOSEKI = CATALOG.procedure("koseki-shomei")
JUMINHYO = CATALOG.procedure("juminhyo-copy")
PRICES = {"koseki-zenbu": 450, "koseki-kojin": 450, "joseki": 750, "kaisei": 750, "fuhyo": 300}
COPIES = {
    "koseki-zenbu": "copies_zenbu",
    "koseki-kojin": "copies_kojin",
    "joseki": "copies_joseki",
    "kaisei": "copies_kaisei",
    "fuhyo": "copies_fuhyo",
}
SUBMITTED = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


def application(procedure, answers, payment_status="unpaid", status="submitted") -> Submission:
    return Submission(
        id=1,
        public_id="p" * 32,
        procedure_id=procedure.id,
        department=procedure.department,
        snapshot={"procedure": procedure.model_dump(mode="json", by_alias=True), "workflow": {}},
        answers=answers,
        status=status,
        payment_status=payment_status,
        reference="ISM-TEST-0001",
        created_at=SUBMITTED,
        updated_at=SUBMITTED,
        submitted_at=SUBMITTED,
    )


@given(
    kinds=st.sets(st.sampled_from(sorted(PRICES)), min_size=1),
    copies=st.fixed_dictionaries({name: st.integers(1, 10) for name in COPIES.values()}),
)
def test_a_koseki_request_is_charged_exactly_its_certificates(kinds, copies):
    answers = {**KOSEKI.example_answers, "kinds": sorted(kinds), **copies}
    submission = application(KOSEKI, answers, "after_review", status="approved")
    expected = sum(PRICES[kind] * copies[COPIES[kind]] for kind in kinds)
    items = service.items_for([submission])
    assert [item.amount for item in items] == [expected]


@given(copies=st.integers(1, 10))
def test_a_juminhyo_request_is_charged_300_yen_a_copy(copies):
    submission = application(JUMINHYO, {**JUMINHYO.example_answers, "copies": copies})
    assert sum(item.amount for item in service.items_for([submission])) == 300 * copies


def test_nothing_is_charged_before_review_or_after_payment():
    answers = {**KOSEKI.example_answers, "kinds": ["fuhyo"], "copies_fuhyo": 1}
    assert service.items_for([application(KOSEKI, answers, "after_review")]) == []
    juminhyo = {**JUMINHYO.example_answers, "copies": 2}
    assert service.items_for([application(JUMINHYO, juminhyo, "paid")]) == []
    assert service.items_for([application(JUMINHYO, juminhyo, "none")]) == []


@given(
    source=st.sampled_from(sorted(states.STATUSES)), target=st.sampled_from(sorted(states.STATUSES))
)
def test_final_states_are_final(source, target):
    if source in {"failed", "expired", "refunded"}:
        assert not states.allowed(source, target)
    if source == "paid":
        assert states.allowed(source, target) == (target == "refunded")
    assert not states.allowed(source, "created")
