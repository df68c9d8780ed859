"""The longest names are accepted and stored whole, on SQLite and PostgreSQL (issue 25, decision
0044): a 100-letter Latin name as a residence card prints it, through a form step, into a
submitted application and its inbox search text, and through the counter booking form."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal import clock
from portal.appointments.models import Appointment
from portal.db import db
from portal.input_policy import NAME_MAX
from portal.submissions.models import Submission
from tests.conftest import csrf_token
from tests.factories import submitted
from tests.web.test_engine import APPLICANT, JUMINHYO, post, start

pytestmark = pytest.mark.db

# 100 characters: a residence card's name in Latin letters, with every given name.
LONGEST = ("GONZALEZ RODRIGUEZ MARIA FERNANDA ISABEL DE LOS ANGELES DEL CARMEN " * 2)[:NAME_MAX]
LONGEST_KANA = ("ゴンザレス ロドリゲス マリア フェルナンダ イサベル " * 4)[:NAME_MAX]


def test_a_maximal_name_is_accepted_by_the_form_and_stored_whole(app, client):
    assert len(LONGEST) == NAME_MAX and not LONGEST.endswith(" ")
    start(client)
    answers = {**APPLICANT, "applicant_name": LONGEST, "applicant_kana": LONGEST_KANA.strip()}
    response = post(client, f"{JUMINHYO}/apply/applicant", answers)
    assert response.status_code == 302, response.text
    with app.app_context():
        draft = db.session.scalar(select(Submission).order_by(Submission.id.desc()))
        assert draft.answers["applicant_name"] == LONGEST

    too_long = post(
        client, f"{JUMINHYO}/apply/applicant", {**answers, "applicant_name": LONGEST + "X"}
    )
    assert too_long.status_code == 200
    assert f"氏名は{NAME_MAX}文字以内で入力してください" in too_long.text
    assert LONGEST + "X" in too_long.text  # what was entered stays in the field


def test_a_maximal_name_is_submitted_and_searchable(app):
    procedure = app.extensions["catalog"].procedure("juminhyo-copy")
    answers = {
        **procedure.example_answers,
        "applicant_name": LONGEST,
        "applicant_kana": LONGEST_KANA.strip(),
    }
    application = submitted(app, "juminhyo-copy", answers)
    with app.app_context():
        row = db.session.get(Submission, application.id)
        assert row.answers["applicant_name"] == LONGEST
        assert row.applicant_search.startswith(LONGEST.replace(" ", ""))


def test_a_maximal_name_books_an_appointment(app, client):
    clock.set_override(dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC))
    url = "/appointments/shimin-main/2026-12-01?service=juminhyo&people=1"
    page = client.get(url)
    response = client.post(
        url,
        data={
            "time": "09:00",
            "name": LONGEST,
            "email": "maria@example.jp",
            "phone": "",
            "service": "juminhyo",
            "people": "1",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 303, response.text
    with app.app_context():
        assert db.session.scalar(select(Appointment)).details["name"] == LONGEST
