"""Secret paths never reach access logs."""

from portal.privacy import redact_path


def test_status_tokens_are_redacted():
    assert redact_path("/status/abcDEF123_-x") == "/status/[redacted]"
    assert redact_path("/status/abcDEF123_-x/receipt") == "/status/[redacted]/receipt"
    assert redact_path("/procedures/juminhyo-copy") == "/procedures/juminhyo-copy"
    assert redact_path(None) == ""
