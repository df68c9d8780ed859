"""Procedures that must be done in person have honest pages: why in person, which counter, its
place and hours, the deadline and how it is counted, who may come and what to bring; none can
be started online. The list marks them, so a resident searching for 出生届 finds the page."""

from __future__ import annotations

import pytest

from portal.catalog import load_catalog
from tests.conftest import ROOT, check_page

CATALOG = load_catalog(ROOT / "procedure_catalog.yaml")
COUNTER = [p for p in CATALOG.procedures if p.channel == "counter"]


def test_there_are_counter_procedures_and_forty_in_all():
    assert len(COUNTER) >= 10
    assert len(CATALOG.procedures) >= 40


@pytest.mark.parametrize("procedure", COUNTER, ids=lambda p: p.id)
def test_every_counter_page_says_where_when_and_what_to_bring(client, procedure):
    page = check_page(client.get(f"/procedures/{procedure.id}"))
    text = page.main.get_text()
    counter = next(c for c in CATALOG.counters if c.id == procedure.counter)
    facts = {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True)
        for row in page.select(".facts__row")
    }
    assert facts["窓口"] == counter.name
    assert facts["場所"] == counter.location
    assert facts["受付時間"] == counter.hours
    assert "期限" in facts
    if procedure.deadline:
        assert procedure.deadline.description in facts["期限"]
        if procedure.deadline.counting:
            assert procedure.deadline.counting.law in facts["期限"]
    assert procedure.in_person_reason in text
    for item in procedure.what_you_need + procedure.who_may_come:
        assert item in text
    assert page.find("h2", string="持ち物")
    assert page.find("button", string="申請を始める") is None
    assert client.post(f"/procedures/{procedure.id}/start").status_code in (400, 404)


def test_searching_finds_a_counter_procedure_marked_as_such(client):
    page = check_page(client.get("/", query_string={"q": "しゅっせい"}))
    cards = [c for c in page.select(".card") if "出生届" in c.get_text()]
    assert cards and "窓口で手続" in cards[0].get_text()
