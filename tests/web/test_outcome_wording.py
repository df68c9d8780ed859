"""Outcome wording per procedure (issue 22): the status page says what a state means for that
procedure, from the catalog (a nursery application is not yet a place: 利用調整 decides), and the
workflow's general description elsewhere; the catalog check refuses an unknown state."""

from __future__ import annotations

import pytest

from portal.catalog.checks import check_catalog
from portal.catalog.loader import read_catalog
from portal.catalog.schema import CatalogData
from portal.db import db
from portal.submissions.models import Submission
from tests.catalog_files import ENTRY
from tests.conftest import check_page
from tests.factories import submitted
from tests.web.test_payment_pages import status_path

pytestmark = pytest.mark.db


def _approved(app, procedure_id: str) -> Submission:
    row = submitted(app, procedure_id)
    with app.app_context():
        db.session.get(Submission, row.id).status = "approved"
        db.session.commit()
    return row


def test_the_status_page_says_what_the_state_means_for_the_procedure(app, client):
    certificate = _approved(app, "shotoku-shomei")
    text = check_page(client.get(status_path(app, certificate))).get_text()
    assert "証明書を用意しました。" in text
    assert "申請が承認されました。" not in text

    other = _approved(app, "juminhyo-copy")  # no wording of its own: the workflow's
    text = check_page(client.get(status_path(app, other))).get_text()
    assert "申請が承認されました。" in text


def test_an_outcome_for_an_unknown_state_fails_the_check():
    data = read_catalog(ENTRY).data
    data["procedures"][0]["outcomes"] = {"accepted": "受け付けました。"}
    problems = check_catalog(CatalogData.model_validate(data))
    assert "procedures[0].outcomes: unknown state 'accepted' of standard" in problems
