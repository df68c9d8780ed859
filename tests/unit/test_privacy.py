"""Secret paths never reach access logs."""

from portal.privacy import redact_path


def test_status_tokens_are_redacted():
    assert redact_path("/status/abcDEF123_-x") == "/status/[redacted]"
    assert redact_path("/status/abcDEF123_-x/receipt") == "/status/[redacted]/receipt"
    assert redact_path("/procedures/juminhyo-copy") == "/procedures/juminhyo-copy"
    # the visitor's confirmation link at the counter (書かない窓口)
    assert redact_path("/counter/confirm/1790000000.abc.def") == "/counter/confirm/[redacted]"
    assert redact_path(None) == ""


def test_appointment_manage_tokens_are_redacted():
    assert redact_path("/appointments/manage/Zx9_-a/cancel") == (
        "/appointments/manage/[redacted]/cancel"
    )
    assert redact_path("/appointments/shimin-main/2026-12-01") == (
        "/appointments/shimin-main/2026-12-01"
    )


def test_payment_page_tokens_are_redacted():
    assert redact_path("/payments/p/0a1b2c/SeCrEt_-9/receipt") == (
        "/payments/p/0a1b2c/[redacted]/receipt"
    )
