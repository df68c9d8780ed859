"""Engine behaviour through the Flask client: rate limits, a catalog change under a draft, who may
download an attachment, resume codes that expire."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest

from portal import clock, create_app
from portal.catalog import load_catalog
from tests.catalog_files import edit, procedure_file, small_catalog
from tests.conftest import check_page, csrf_token
from tests.factories import HOIKU_ANSWERS_BEFORE_EMPLOYMENT

pytestmark = pytest.mark.db

JUMINHYO = "/procedures/juminhyo-copy"
HOIKU = "/procedures/hoiku-riyou"
APPLICANT = {
    "applicant_name": "大原 太郎",
    "applicant_kana": "オオハラ タロウ",
    "phone": "09012345678",
    "relationship": "self",
}
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def start(client, base=JUMINHYO):
    page = client.get(base)
    return client.post(f"{base}/start", data={"csrf_token": csrf_token(page.text)})


def post(client, url, data, **kwargs):
    token = csrf_token(client.get(url).text)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def test_saving_too_often_is_refused_with_a_japanese_page(database_url, clean_db, tmp_path):
    app = create_app(
        "test",
        {
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path),
            "RATELIMIT_SAVE": "3 per minute",
        },
    )
    client = app.test_client()
    start(client)
    url = f"{JUMINHYO}/apply/applicant"
    token = csrf_token(client.get(url).text)
    codes = [client.post(url, data={"csrf_token": token}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    soup = check_page(client.post(url, data={"csrf_token": token}), 429)
    assert soup.h1.get_text() == "操作が続けて行われました"


def test_a_catalog_change_takes_the_resident_through_what_changed(app, client):
    start(client)
    assert post(client, f"{JUMINHYO}/apply/applicant", APPLICANT).status_code == 302
    assert post(client, f"{JUMINHYO}/apply/target", {"scope": "self"}).status_code == 302

    def change(procedure: dict) -> None:
        target = procedure["steps"][1]
        target["title"] = "必要な住民票の範囲"
        target["fields"][2]["required"] = True  # 記載する項目 becomes required
        procedure["example_answers"]["items"] = ["householder"]

    entry = small_catalog(Path(app.instance_path) / "changed")
    edit(procedure_file(entry, "juminhyo-copy"), change)
    app.extensions["catalog"] = load_catalog(entry)

    response = client.get(f"{JUMINHYO}/apply/copies-purpose")
    assert response.headers["Location"] == f"{JUMINHYO}/apply/target"
    soup = check_page(client.get(response.headers["Location"]))
    assert (
        "「必要な住民票の範囲」をもう一度確認してください" in soup.select_one("[role=status]").text
    )
    assert soup.find(id="f-scope")["checked"] == ""  # the earlier answer is kept
    response = post(client, f"{JUMINHYO}/apply/target", {"scope": "self"})
    assert "記載する項目を1つ以上選んでください" in response.text
    # The applicant step did not change: its answers stand.
    assert client.get(f"{JUMINHYO}/apply/applicant").status_code == 200
    assert "大原 太郎" in client.get(f"{JUMINHYO}/apply/applicant").text


def test_attachments_are_served_only_to_their_owner(app):
    # 保育施設等の利用申込 needs a login (and a signature at the end, not reached here).
    owner = signed_in(app, "owner-sub")
    start(owner, HOIKU)
    # Jump the draft to the employment step by answering the steps before it.
    for step, data in HOIKU_ANSWERS_BEFORE_EMPLOYMENT.items():
        assert post(owner, f"{HOIKU}/apply/{step}", data).status_code == 302, step
    response = post(
        owner,
        f"{HOIKU}/apply/guardian-work",
        {
            "guardian_work": "employed",
            "employer": "株式会社いすみ",
            "weekly_hours": "",
            "work_certificate": (io.BytesIO(PDF), "証明書.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200  # weekly hours missing: the page comes back...
    link = re.search(r'href="(/procedures/hoiku-riyou/files/[^"]+)">証明書.pdf', response.text)
    assert link, "...with the uploaded file kept and linked"
    download = owner.get(link.group(1))
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]

    stranger = signed_in(app, "stranger-sub")
    start(stranger, HOIKU)
    assert stranger.get(link.group(1)).status_code == 404


def test_resume_codes_expire(app, client):
    start(client)
    post(client, f"{JUMINHYO}/apply/applicant", APPLICANT)
    page = post(client, f"{JUMINHYO}/save", {})
    code = re.search(r'id="resume-code">([0-9A-Z-]+)<', page.text).group(1)
    clock.set_override(dt.datetime.now(dt.UTC) + dt.timedelta(days=31))
    other = app.test_client()
    response = post(other, "/resume", {"code": code})
    assert "再開コードが正しくないか、有効期限が切れています" in response.text
    clock.set_override(dt.datetime.now(dt.UTC) + dt.timedelta(days=29))
    response = post(other, "/resume", {"code": code})
    assert response.headers["Location"] == f"{JUMINHYO}/apply/target"


def signed_in(app, sub: str):
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session["user"] = {"sub": sub, "name": "テスト", "provider": "jpki"}
    return client


def test_applications_belong_to_their_owner(app):
    assert app.test_client().get("/my/applications").headers["Location"].startswith("/login")
    owner, stranger = signed_in(app, "sub-owner"), signed_in(app, "sub-stranger")
    start(owner)
    page = check_page(owner.get("/my/applications"))
    form = page.select_one("form[action^='/my/applications/']")
    continue_url = form["action"]
    assert (
        stranger.post(
            continue_url, data={"csrf_token": csrf_token(stranger.get("/").text)}
        ).status_code
        == 404
    )
    assert "入力中" not in stranger.get("/my/applications").text
    response = owner.post(continue_url, data={"csrf_token": csrf_token(owner.get("/").text)})
    assert response.headers["Location"] == f"{JUMINHYO}/apply/applicant"
    public_id = continue_url.split("/")[3]
    assert owner.get(f"/my/applications/{public_id}").status_code == 404  # still a draft
