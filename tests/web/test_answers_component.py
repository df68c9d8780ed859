"""The check-answers component renders on its own: a macro imported without the page's context
must not need the context's variables (a check page of a procedure with a deadline once failed
with an UndefinedError because the macro read `now_local`)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.submissions.summary import CheckSummary


@pytest.mark.parametrize("overdue", [True, False])
def test_check_summary_shows_the_deadline_and_whether_it_has_passed(app, overdue):
    procedure = next(p for p in app.extensions["catalog"].procedures if p.deadline)
    summary = CheckSummary(
        groups=[], procedure=procedure, deadline=dt.date(2026, 12, 1), overdue=overdue
    )
    with app.test_request_context("/"):
        macro = app.jinja_env.get_template("components/answers.html").module.check_summary
        html = str(macro(summary, overdue_note=True))
    assert "届出の期限" in html and procedure.deadline.description in html
    assert ("期限を過ぎています" in html) is overdue
