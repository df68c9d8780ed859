"""Discarding an abandoned draft or bundle (issue 22, portal.discard): from 申請一覧 and from the
draft's or bundle's pages, through a confirmation page; the owner only (another resident and an
anonymous visitor get 404); the draft goes with its files, a bundle with its member drafts; the
audit entry holds no personal data."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.audit.models import AuditEntry
from portal.bundles.models import Bundle
from portal.db import db
from portal.submissions.models import Submission
from portal.uploads.models import Upload, UploadBlob, record_upload
from portal.uploads.service import FileStore, PreparedFile
from tests import factories
from tests.conftest import check_page, csrf_token
from tests.web.test_bundle_pages import begin as begin_bundle
from tests.web.test_bundle_pages import bundle_path, fixed_clock  # noqa: F401  (fixture)
from tests.web.test_identity_features import login, stub  # noqa: F401  (fixture)

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("stub")]

MINE = "/my/applications"


def _draft_with_file(app, owner: str) -> tuple[str, str]:
    """A signed-in resident's 転出届 draft with one attached file: its public id, file's name."""
    row = factories.draft(app, "tenshutsu", owner_sub=owner)
    with app.app_context():
        prepared = PreparedFile(b"%PDF-1.4 x", "application/pdf", "a.pdf", "0" * 64, 10, None, None)
        files = FileStore()
        storage = files.save(db.session, prepared)
        record_upload(db.session, row.id, "documents", prepared, storage, clock.now())
        db.session.commit()
    return row.public_id, storage


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_resident_discards_a_draft_with_its_files_after_confirming(app, client):
    login(client, "adult")
    public_id, storage = _draft_with_file(app, "sub-adult")
    url = f"{MINE}/{public_id}/discard"

    mine = check_page(client.get(MINE))
    link = mine.find("a", href=url)
    assert link is not None and "この申請を削除する" in link.get_text()

    confirm = check_page(client.get(url))
    assert confirm.find("h1").get_text() == "この申請を削除する"
    assert "元に戻すことはできません" in confirm.get_text()
    assert _count(app, Submission, Submission.public_id == public_id) == 1  # GET deletes nothing

    # without the CSRF token nothing happens
    assert client.post(url, data={}).status_code == 400
    assert _count(app, Submission, Submission.public_id == public_id) == 1

    response = client.post(url, data={"csrf_token": csrf_token(client.get(url).text)})
    assert response.status_code == 303 and response.headers["Location"] == MINE
    assert _count(app, Submission, Submission.public_id == public_id) == 0
    assert _count(app, UploadBlob, UploadBlob.storage_name == storage) == 0
    assert _count(app, Upload) == 0
    assert "削除しました" in client.get(MINE).get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "draft_discarded")
        ).one()
        assert (entry.actor, entry.target) == ("resident:sub-adult", f"submission:{public_id}")
    assert client.get(url).status_code == 404  # gone


def test_only_the_owner_may_discard_a_draft(app, client):
    public_id, _ = _draft_with_file(app, "sub-adult")
    url = f"{MINE}/{public_id}/discard"
    assert client.get(url).status_code == 404  # anonymous
    anonymous_token = csrf_token(client.get("/procedures/tenshutsu").text)
    assert client.post(url, data={"csrf_token": anonymous_token}).status_code == 404
    login(client, "mover")  # another resident
    assert client.get(url).status_code == 404
    token = csrf_token(client.get(MINE).text)
    assert client.post(url, data={"csrf_token": token}).status_code == 404
    assert _count(app, Submission, Submission.public_id == public_id) == 1
    assert _count(app, Upload) == 1


def test_the_draft_pages_offer_to_discard_only_to_the_owner(app, client):
    login(client, "adult")
    response = client.post(
        "/procedures/koseki-shomei/start",
        data={"csrf_token": csrf_token(client.get("/procedures/koseki-shomei").text)},
    )
    location = response.headers["Location"]
    if location.endswith("/who"):
        response = client.post(
            location, data={"who": "self", "csrf_token": csrf_token(client.get(location).text)}
        )
        location = response.headers["Location"]
    page = check_page(client.get(location))
    link = page.find("a", string="この申請を削除する")
    assert link is not None and link["href"].endswith("/discard")
    # an anonymous draft (no owner) has no such link: it cannot be discarded by anyone
    other = client.application.test_client()
    response = other.post(
        "/procedures/juminhyo-copy/start",
        data={"csrf_token": csrf_token(other.get("/procedures/juminhyo-copy").text)},
    )
    page = check_page(other.get(response.headers["Location"]))
    assert page.find("a", string="この申請を削除する") is None


def test_a_bundle_is_discarded_with_its_member_drafts(app, client):
    login(client, "mover")
    location = begin_bundle(client)
    path = bundle_path(location)
    public_id = path.split("/")[2]
    url = f"/my/bundles/{public_id}/discard"
    first = check_page(client.get(location))  # the bundle's own page offers it
    assert first.find("a", href=url, string="まとめて申請をやめる") is not None
    with app.app_context():
        bundle_id = db.session.scalar(select(Bundle.id).where(Bundle.public_id == public_id))
    members = _count(app, Submission, Submission.bundle_id == bundle_id)
    assert members >= 2

    mine = check_page(client.get(MINE))
    assert mine.find("a", href=url) is not None
    assert "まとめて申請をやめる" in mine.find("a", href=url).get_text()
    # a member draft is discarded with its bundle, not alone
    with app.app_context():
        member = db.session.scalars(
            select(Submission).where(Submission.bundle_id == bundle_id)
        ).first()
    assert client.get(f"{MINE}/{member.public_id}/discard").status_code == 404

    other = app.test_client()
    login(other, "adult")
    assert other.get(url).status_code == 404
    assert other.post(url, data={"csrf_token": csrf_token(other.get(MINE).text)}).status_code == 404

    confirm = check_page(client.get(url))
    assert confirm.find("h1").get_text() == "まとめて申請をやめる"
    response = client.post(url, data={"csrf_token": csrf_token(client.get(url).text)})
    assert response.status_code == 303 and response.headers["Location"] == MINE
    assert _count(app, Bundle, Bundle.public_id == public_id) == 0
    assert _count(app, Submission, Submission.bundle_id == bundle_id) == 0
    assert _count(app, Submission) == 0
    assert client.get(f"{path}").status_code == 404
