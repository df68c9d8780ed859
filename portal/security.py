"""Secrets in URLs and cookies: random tokens, their stored hashes, and keyed derivations.

Only hashes of bearer tokens are stored, so a copy of the database does not open anyone's
application. The status-page token is derived from the submission's public id with a keyed HMAC,
so every page that shows it (confirmation, receipt, a replayed submit) can show the same link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata

# Crockford's base32 without I, L, O, U: easy to read out over the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Short codes typed at a kiosk: none easy to mistake for another (no 0/O/D, 1/I/L, 2/Z, 5/S,
# 8/B, U/V).
SHORT_CODE_ALPHABET = "34679ACEFGHJKMNPQRTWXY"
SHORT_CODE_LENGTH = 8


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def derived_token(key: str, purpose: str, value: str) -> str:
    digest = hmac.new(key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def derived_short_code(key: str, purpose: str, value: str) -> str:
    """An 8-character code of SHORT_CODE_ALPHABET derived like `derived_token` (about 36 bits):
    every page that shows it can show it again, and only its hash need be stored."""
    digest = hmac.new(key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:16], "big")
    chars = []
    for _ in range(SHORT_CODE_LENGTH):
        number, index = divmod(number, len(SHORT_CODE_ALPHABET))
        chars.append(SHORT_CODE_ALPHABET[index])
    return "".join(chars)


def normalize_short_code(text: str) -> str:
    """As people type a short code: any width or case, spaces and hyphens ignored."""
    text = unicodedata.normalize("NFKC", text).upper()
    return "".join(char for char in text if char.isalnum())


def format_short_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def new_reference(prefix: str = "ISM") -> str:
    """A reference number such as ISM-7K3M-Q9TX (40 random bits)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"


def new_resume_code() -> str:
    """A resume code such as 7K3M-Q9TX-2CDE (60 random bits), easy to copy by hand."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def normalize_resume_code(text: str) -> str:
    """Accept the code as people type it: any case, widths, spaces and hyphens, O for 0."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text).upper()
    text = text.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return "".join(char for char in text if char in REFERENCE_ALPHABET)
