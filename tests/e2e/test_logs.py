"""Logs at DEBUG, with the access log and SQL echo on, never hold a My Number (plain, hyphenated,
spaced or full-width), a status-link token, a card PIN or a signature password, after a whole
妊娠の届出 has been filed and card logins and a signature have been made (wrong PINs included)."""

from __future__ import annotations

import base64
import json
import re

from tests.e2e.conftest import start_live_server, stop
from tests.e2e.http_resident import HttpResident
from tests.e2e.oidc_client import RelyingParty

WRONG_PIN = "8642"
PIN = "2345"  # persona `parent`
SIGN_PASSWORD = "MISAKI2026"

MY_NUMBER = "123456789018"
FORMS = [
    MY_NUMBER,
    "1234-5678-9018",
    "1234 5678 9018",
    "１２３４５６７８９０１８",
    "１２３４－５６７８－９０１８",
]
NINSHIN = "/procedures/ninshin-todoke"
ANSWERS = {
    "notifier": {"notifier": "self", "phone": "09012345678"},
    "mother": {
        "mother.name": "大原 花子",
        "mother.kana": "オオハラ ハナコ",
        "mother.birth_date": "H7.6.15",
        "address.postal_code": "2988501",
        "address.block": "7400-1",
        # typed full-width with hyphens, as a phone keyboard may produce it
        "my_number": "１２３４－５６７８－９０１８",
    },
    "pregnancy": {"due_date": "2027-05-20", "diagnosed": "no", "multiple_birth": "no"},
    "support": {"interview": "office"},
}


def test_logs_hold_no_my_number_and_no_status_token(tmp_path):
    server, process = start_live_server(
        tmp_path, {"PORTAL_SQL_ECHO": "1", "PORTAL_LOG_LEVEL": "DEBUG"}
    )
    try:
        resident = HttpResident(server.url)
        page = resident.get(NINSHIN)
        resident.post(f"{NINSHIN}/start", {}, page.csrf_token)
        for step, answers in ANSWERS.items():
            page = resident.get(f"{NINSHIN}/apply/{step}")
            result = resident.post(f"{NINSHIN}/apply/{step}", answers, page.csrf_token)
            assert "エラー：" not in result.html.split("</title>")[0], (step, result.url)
        page = resident.get(f"{NINSHIN}/check")
        assert "●●●● ●●●● 9018" in page.html and MY_NUMBER not in page.html
        done = resident.post(f"{NINSHIN}/check", {"declaration": "yes"}, page.csrf_token)
        token = re.search(r"/status/([A-Za-z0-9_-]+)\"", done.html).group(1)
        status = resident.get(f"/status/{token}")
        assert status.status == 200 and "●●●● ●●●● 9018" in status.html
        resident.get(f"/status/{token}/receipt")
        resident.get("/status/not-a-token")

        rp = RelyingParty(server.url)
        params = rp.authorization_params()
        assert rp.authorize(params, card="parent", pin=WRONG_PIN).status == 200
        assert rp.authorize(params, card="parent", pin=PIN).status == 302
        digest = base64.urlsafe_b64encode(b"\x01" * 32).decode().rstrip("=")
        created = rp.request(
            f"{server.url}/mock-jpki/sign/transactions",
            json.dumps({"documents": [{"title": "テスト文書", "digest": digest}]}).encode(),
            {
                "Content-Type": "application/json",
                "Authorization": "Basic " + base64.b64encode(b"test-rp:test-secret").decode(),
            },
        ).json()
        sign = rp.authorization_params(
            scope="openid sign", sign_transaction_id=created["sign_transaction_id"]
        )
        assert rp.authorize(sign, card="parent", pin=SIGN_PASSWORD).status == 302
    finally:
        stop(process)

    logs = server.access_log.read_text() + server.error_log.read_text()
    assert "SELECT" in logs and "INSERT" in logs, "SQL echo was on"
    assert '"POST /procedures/ninshin-todoke/check"' in logs, "the access log was written"
    # Each access line carries the request id the portal answered with (issue 24).
    check_lines = [
        line for line in logs.splitlines() if '"POST /procedures/ninshin-todoke/check"' in line
    ]
    assert all(re.search(r"\[[0-9a-f]{32}\]$", line) for line in check_lines), check_lines
    assert "/status/[redacted]" in logs
    for form in FORMS:
        assert form not in logs, f"My Number found in the logs as {form!r}"
    assert token not in logs, "status token found in the logs"
    assert SIGN_PASSWORD.lower() not in logs.lower(), "signature password found in the logs"
    for pin in (PIN, WRONG_PIN):
        assert not re.search(rf"(?i)pin\W{{0,40}}{pin}", logs), f"PIN {pin} found in the logs"
    assert "/mock-jpki/authorize" in logs, "the card logins were logged (without secrets)"
