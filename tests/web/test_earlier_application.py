"""Answers of the resident's earlier application of the same kind (issue 22, decision 0077): a
change of the 学校給食費等 申出 starts from the fees of the 申出; only the resident's own sent
application counts, never another resident's, and the page says where the values came from."""

from __future__ import annotations

from portal import clock
from portal.db import db
from portal.submissions import service
from tests.web.test_identity_features import begin, draft_of, login, stub  # noqa: F401

HENKO = "/procedures/jidoteate-kyushoku-henko"


def sent(app, owner: str, *, status: str = "submitted") -> None:
    """A 学校給食費等の徴収等の申出 the resident `owner` sent earlier, with the examples (a
    signed procedure: made directly, as a case the workflow has received)."""
    with app.app_context():
        catalog = app.extensions["catalog"]
        procedure = catalog.procedure("jidoteate-kyushoku")
        row, _token = service.start_draft(db.session, catalog, procedure, clock.now())
        row.answers = dict(procedure.example_answers)
        row.owner_sub = owner
        row.status = status
        if status != "draft":
            row.submitted_at = clock.now()
        db.session.commit()


def test_a_change_starts_from_the_fees_of_the_residents_own_earlier_request(
    app,
    client,
    stub,  # noqa: F811
):
    sent(app, "sub-parent")
    sent(app, "sub-elderly")  # another resident's: never read

    login(client, "parent")
    assert begin(client, HENKO).status_code == 302
    row = draft_of(app, "jidoteate-kyushoku-henko", "sub-parent")
    assert row.answers["fee_types"] == ["school-lunch", "school-supplies"]
    assert row.answers["payee"] == "city"
    assert row.prefilled["fee_types"] == "earlier" and row.prefilled["payee"] == "earlier"
    page = client.get(f"{HENKO}/apply/recipient").text
    assert "前回の申請・届出の内容から入力しました。" in page


def test_without_an_own_earlier_request_the_fees_are_asked(app, client, stub):  # noqa: F811
    sent(app, "sub-parent")
    sent(app, "sub-spouse", status="draft")  # his own draft was never sent
    login(client, "spouse")  # 岬 健一, same household, but not his application
    begin(client, HENKO)
    row = draft_of(app, "jidoteate-kyushoku-henko", "sub-spouse")
    assert "fee_types" not in row.answers and "fee_types" not in row.prefilled
