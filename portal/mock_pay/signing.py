"""Webhook signatures of the mock payment service, in the scheme most payment providers use.

The header `Mock-Pay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` signs the timestamp and
the raw body together (`f"{t}."` + body bytes) with the shared webhook secret, so a captured
webhook cannot be replayed later (the receiver refuses timestamps outside its tolerance) nor
its body changed. Receivers must verify the bytes they received, before parsing any JSON.

Standard library only: the portal side may copy `verify` as its reference implementation.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Mock-Pay-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds either side of the receiver's clock


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value for `body` sent at `timestamp` (unix seconds)."""
    if not secret:
        raise ValueError("the webhook secret must not be empty")
    return f"t={int(timestamp)},{SCHEME}={_digest(secret, body, int(timestamp))}"


def verify(
    secret: str, body: bytes, header: str, *, now: int, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """True if `header` signs exactly `body` with `secret` at a time within `tolerance` seconds
    of `now`. Several v1 values are accepted (one per secret, while a secret is rotated)."""
    if not secret or not isinstance(header, str):
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return False
            timestamp = int(value)
        elif key == SCHEME:
            candidates.append(value)
    if timestamp is None or not candidates or abs(int(now) - timestamp) > tolerance:
        return False
    expected = _digest(secret, body, timestamp).encode()
    # Compare every candidate (no early exit), each in constant time.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return matched
