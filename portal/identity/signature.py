"""Electronic signatures with the My Number card, the relying party's side.

What a resident signs is a JSON document (:func:`signed_content`) serialised by RFC 8785, the JSON
Canonicalization Scheme (:func:`canonical_document`), so that the same content always gives the
same bytes, whatever the key order or the round trips through a JSON column. The card service signs
the SHA-256 of those bytes (:func:`document_digest`, base64url without padding) with RSA PKCS#1
v1.5 and returns the signature with the signer's signature certificate (署名用電子証明書).

:func:`verify` checks such a signature later, as of the time it was made: the certificate must be
an end-entity signature certificate issued by the trusted root, in force at ``signed_at`` and not
revoked at or before it; the signature must match the certificate's key; the content must still
have the digest that was signed. The root and the revocation list (CRL) come from the card service
over HTTP (:func:`fetch_trust_anchors`), cached in memory; a CRL not signed by the root is refused.

The module knows the card service only through its protocol (PEM over HTTP, base64url digests and
signatures, the four basic items in the certificate's private extension); it imports nothing from
the mock in ``portal.mock_jpki``, so the real service can take the mock's place by configuration.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import hashlib
import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from portal import clock

FORMAT_VERSION = "isumi-portal/signed-application/v1"
# The four basic items (基本4情報) of a signature certificate: a non-critical private extension
# whose value is a DER UTF8String holding a UTF-8 JSON object {name, address, birthdate, gender}.
FOUR_ITEMS_OID = x509.ObjectIdentifier("1.3.6.1.4.1.99999.1.1")
FOUR_ITEMS_KEYS = frozenset({"name", "address", "birthdate", "gender"})
HTTP_TIMEOUT_SECONDS = 5
SHA256_SIZE = 32
# JCS writes every number as an IEEE 754 double: larger integers would silently lose precision.
MAX_SAFE_INTEGER = 2**53 - 1

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")

ReasonCode = Literal[
    "altered", "bad_signature", "untrusted", "expired", "not_yet_valid", "revoked", "malformed"
]

VALID_MESSAGE = "電子署名は有効です"
# Each says what is wrong, not how it was found. Message ids: the status page shows them
# translated (`_(verification.reason)`, decision 0096); staff pages in Japanese.
MESSAGES: dict[str, str] = {
    "altered": "署名の後で申請内容が変更されています",
    "bad_signature": "電子署名が正しくありません（電子証明書と一致しません）",
    "untrusted": "信頼できる認証局が発行した署名用電子証明書ではありません",
    "expired": "署名の時点で電子証明書の有効期限が切れています",
    "not_yet_valid": "署名の時点で電子証明書の有効期間が始まっていません",
    "revoked": "電子証明書が失効しています（署名の時点で）",
    "malformed": "電子署名または電子証明書を読み取れません",
}


# --- the signed document ----------------------------------------------------------------------


def _check_json(value: Any, path: str) -> None:
    """Refuse what RFC 8785 cannot represent, naming where it is (``answers.weight``)."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{path}: the text contains an unpaired surrogate") from None
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"{path}: integer {value} is outside ±(2**53 - 1), see RFC 8785")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value} has no JSON representation (RFC 8785)")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: object key {key!r} is not a string")
            _check_json(item, f"{path}.{key}")
        return
    raise ValueError(f"{path}: a {type(value).__name__} is not a JSON value")


def canonical_document(content: Mapping[str, Any]) -> bytes:
    """The RFC 8785 (JCS) bytes of ``content``: key order and spacing do not matter.

    Raises ValueError for anything JCS cannot represent: NaN, infinities, integers beyond
    ±(2**53 - 1), non-string keys, unpaired surrogates, non-JSON types.
    """
    if not isinstance(content, Mapping):
        raise ValueError("a signed document is a JSON object")
    _check_json(content, "$")
    try:
        return rfc8785.dumps(content)
    except rfc8785.CanonicalizationError as error:  # a case _check_json missed: still a ValueError
        raise ValueError(f"cannot canonicalise the document: {error}") from error


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64url_decode(text: str) -> bytes:
    """Strict base64url, padding optional; ValueError for anything else."""
    if not isinstance(text, str) or not _BASE64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error as error:
        raise ValueError("not base64url") from error


def _digest_bytes(content: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(canonical_document(content)).digest()


def document_digest(content: Mapping[str, Any]) -> str:
    """SHA-256 of :func:`canonical_document`, base64url without padding (43 characters): the
    value the card service is asked to sign."""
    return _b64url(_digest_bytes(content))


def signed_content(
    *,
    procedure_id: str,
    procedure_title: str,
    answers: Mapping[str, Any],
    attachments: Iterable[Mapping[str, str]],
    applicant_sub: str,
    person_concerned: str | int | None,
    format_version: str = FORMAT_VERSION,
) -> dict[str, Any]:
    """The document a resident signs for one submission, from plain values.

    ``answers`` as stored with the submission; ``attachments`` as {field, filename, sha256 (hex)}
    (other keys are ignored), sorted here by field, file name and hash so that upload order does
    not change the document; ``applicant_sub`` the signer's pairwise ``sub``;
    ``person_concerned`` the record id of the person the application is about, or None when
    that is the applicant. Raises ValueError for content that cannot be signed (see
    :func:`canonical_document`) or an attachment hash that is not SHA-256 hex.
    """
    files = []
    for index, attachment in enumerate(attachments):
        field, filename = attachment.get("field"), attachment.get("filename")
        sha256 = attachment.get("sha256")
        if not isinstance(field, str) or not isinstance(filename, str):
            raise ValueError(f"attachments[{index}]: field and filename must be strings")
        if not isinstance(sha256, str) or not _SHA256_HEX.match(sha256.lower()):
            raise ValueError(f"attachments[{index}]: sha256 must be 64 hexadecimal digits")
        files.append({"field": field, "filename": filename, "sha256": sha256.lower()})
    files.sort(key=lambda item: (item["field"], item["filename"], item["sha256"]))
    content: dict[str, Any] = {
        "format": format_version,
        "procedure": {"id": procedure_id, "title": procedure_title},
        # A copy: the signed document must not change when the caller's dict does.
        "answers": copy.deepcopy(dict(answers)),
        "attachments": files,
        "applicant": {"sub": applicant_sub},
        "person_concerned": person_concerned,
    }
    canonical_document(content)  # refuse now what could not be signed later
    return content


# --- trust anchors ----------------------------------------------------------------------------


class TrustAnchorError(Exception):
    """The root certificate or the CRL could not be fetched, read or trusted."""


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def _load_root(root_pem: bytes) -> x509.Certificate:
    try:
        root = x509.load_pem_x509_certificate(root_pem)
    except ValueError as error:
        raise TrustAnchorError("the root certificate is not a PEM certificate") from error
    constraints = _basic_constraints(root)
    if constraints is None or not constraints.ca:
        raise TrustAnchorError("the root certificate is not a CA certificate")
    try:
        root.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature) as error:
        raise TrustAnchorError("the root certificate is not self-signed") from error
    return root


class TrustAnchors:
    """The trusted root certificate and its current CRL, parsed and checked once.

    Raises :class:`TrustAnchorError` if the root is not a self-signed CA certificate, or the CRL
    is unreadable, from another issuer, or not signed by the root's key (forged).
    """

    def __init__(self, root_pem: bytes, crl_pem: bytes) -> None:
        self.root = _load_root(root_pem)
        try:
            crl = x509.load_pem_x509_crl(crl_pem)
        except ValueError as error:
            raise TrustAnchorError("the CRL is not a PEM revocation list") from error
        usage = _key_usage(self.root)
        if usage is not None and not usage.crl_sign:
            raise TrustAnchorError("the root certificate may not sign CRLs")
        if crl.issuer != self.root.subject:
            raise TrustAnchorError("the CRL was issued by another authority")
        try:
            signed = crl.is_signature_valid(self.root.public_key())
        except (TypeError, UnsupportedAlgorithm):
            signed = False
        if not signed:
            raise TrustAnchorError("the CRL is not signed by the root certificate")
        self.crl = crl

    @property
    def next_update(self) -> dt.datetime | None:
        """When the CRL's publisher promises the next one (aware UTC); None if it does not say."""
        return self.crl.next_update_utc

    def revocation(self, serial_number: int) -> x509.RevokedCertificate | None:
        """The CRL entry of a certificate issued by the root, if it is listed."""
        return self.crl.get_revoked_certificate_by_serial_number(serial_number)


def _requests_get(url: str) -> bytes:
    import requests  # only for the default fetcher: tests inject their own

    response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
    response.raise_for_status()
    return response.content


_cache_lock = threading.Lock()
_roots: dict[str, bytes] = {}  # root URL -> PEM, for the process lifetime
_anchors: dict[tuple[str, str], TrustAnchors] = {}  # until the CRL's next_update


def clear_trust_anchor_cache() -> None:
    """Forget the fetched root and CRLs (tests; or after the card service changed its root)."""
    with _cache_lock:
        _roots.clear()
        _anchors.clear()


def _fetch(http_get: Callable[[str], bytes], url: str, what: str) -> bytes:
    try:
        return http_get(url)
    except Exception as error:  # the fetcher is injectable: any failure means "unavailable"
        raise TrustAnchorError(f"cannot fetch the {what} from {url}: {error}") from error


def fetch_trust_anchors(
    root_url: str,
    crl_url: str,
    http_get: Callable[[str], bytes] | None = None,
    *,
    now: dt.datetime | None = None,
) -> TrustAnchors:
    """The card service's root and CRL, fetched over HTTP and cached in this process.

    The root is fetched once per process; the CRL again once its ``next_update`` has passed (or
    on every call if it has none). ``http_get`` fetches a URL's body as bytes (default:
    ``requests`` with a 5 s timeout). Raises :class:`TrustAnchorError` when either cannot be
    fetched or trusted, or when the service hands out a CRL already past its next_update:
    without a current CRL a revocation cannot be ruled out, so there is no stale fallback.
    """
    now = (now or clock.now()).astimezone(dt.UTC)
    get = http_get or _requests_get
    with _cache_lock:  # held while fetching, so that one thread refreshes and the rest reuse it
        cached = _anchors.get((root_url, crl_url))
        if cached is not None and cached.next_update is not None and now < cached.next_update:
            return cached
        root_pem = _roots.get(root_url)
        if root_pem is None:
            root_pem = _fetch(get, root_url, "root certificate")
        anchors = TrustAnchors(root_pem, _fetch(get, crl_url, "CRL"))
        _roots[root_url] = root_pem
        if anchors.next_update is not None and anchors.next_update <= now:
            raise TrustAnchorError(f"the CRL from {crl_url} expired at {anchors.next_update}")
        _anchors[(root_url, crl_url)] = anchors
        return anchors


# --- verification -----------------------------------------------------------------------------


def _parse_der_utf8_string(der: bytes) -> str:
    if len(der) < 2 or der[0] != 0x0C:
        raise ValueError("not a DER UTF8String")
    first = der[1]
    if first < 0x80:
        start, length = 2, first
    else:
        size = first & 0x7F
        if size == 0 or len(der) < 2 + size:
            raise ValueError("bad DER length")
        start, length = 2 + size, int.from_bytes(der[2 : 2 + size], "big")
    if start + length != len(der):
        raise ValueError("DER UTF8String length does not match")
    return der[start:].decode("utf-8")


def four_items_from_certificate(cert: x509.Certificate) -> dict[str, str] | None:
    """The four basic items (name, address, birthdate, gender) of a signature certificate, or
    None when it has none (an authentication certificate) or they cannot be read."""
    try:
        extension = cert.extensions.get_extension_for_oid(FOUR_ITEMS_OID)
    except (x509.ExtensionNotFound, ValueError):
        return None
    value = extension.value
    if not isinstance(value, x509.UnrecognizedExtension):
        return None
    try:
        items = json.loads(_parse_der_utf8_string(value.value))
    except ValueError:  # also UnicodeDecodeError and json.JSONDecodeError
        return None
    if (
        not isinstance(items, dict)
        or set(items) != FOUR_ITEMS_KEYS
        or not all(isinstance(item, str) for item in items.values())
    ):
        return None
    return items


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`. ``reason`` is Japanese, for residents and staff alike."""

    valid: bool
    reason_code: ReasonCode | None
    reason: str
    signer: Mapping[str, str] | None = None


def _fail(code: ReasonCode, signer: Mapping[str, str] | None = None) -> Verification:
    return Verification(valid=False, reason_code=code, reason=MESSAGES[code], signer=signer)


def _trusted_signature_certificate(cert: x509.Certificate, anchors: TrustAnchors) -> bool:
    """Issued directly by the root, an end-entity certificate, for signatures (non-repudiation:
    the card's authentication certificate must not pass for a signature)."""
    try:
        cert.verify_directly_issued_by(anchors.root)
    except (ValueError, TypeError, InvalidSignature):
        return False
    constraints = _basic_constraints(cert)
    if constraints is None or constraints.ca:
        return False
    usage = _key_usage(cert)
    return usage is not None and usage.content_commitment


def _signed_digest(
    public: rsa.RSAPublicKey, signature: bytes, stored: bytes | None
) -> bytes | None:
    """The digest the signature was made over, or None if it is no signature by this key.

    With the stored digest, check the signature over it; without, recover the digest from the
    PKCS#1 v1.5 signature (which carries it), so "altered" stays distinct from "bad_signature".
    """
    try:
        if stored is not None:
            public.verify(signature, stored, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
            return stored
        recovered = public.recover_data_from_signature(
            signature, padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return None
    return recovered if len(recovered) == SHA256_SIZE else None


def verify(
    content: Mapping[str, Any],
    signature_b64: str,
    certificate_pem: str | bytes,
    signed_at: dt.datetime,
    anchors: TrustAnchors,
    *,
    digest: str | None = None,
) -> Verification:
    """Check a signature of ``content`` as of ``signed_at`` (aware; when it was made).

    ``signature_b64`` and ``digest`` (the digest sent for signing, stored with the submission;
    optional) are base64url; ``certificate_pem`` is the signer's certificate as returned by the
    card service. The first problem found, in this order, is the reason: "malformed" (unreadable
    certificate, signature, digest or content), "untrusted" (not issued by the root, a CA
    certificate, or not a signature certificate), "bad_signature" (not made with the
    certificate's key over the digest), "altered" (the content no longer has the digest that was
    signed: it changed after signing), "not_yet_valid"/"expired" (certificate not in force at
    ``signed_at``), "revoked" (in the CRL with a revocation date at or before ``signed_at``).

    A certificate revoked AFTER ``signed_at`` leaves the signature valid: it was good when made
    (the usual case is a resident who signed and then moved). ``signed_at`` is the portal's own
    record of when it received the signature; the check is only as fresh as ``anchors``' CRL.
    ``signer`` is the certificate's four basic items whenever they can be read, valid or not.
    """
    if signed_at.tzinfo is None:
        raise ValueError("signed_at must be timezone-aware")
    signed_at = signed_at.astimezone(dt.UTC)
    pem = certificate_pem
    if isinstance(pem, str):
        pem = pem.encode("ascii", "replace")  # a non-ASCII PEM fails to parse: "malformed"
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return _fail("malformed")
    signer = four_items_from_certificate(cert)
    try:
        signature = _b64url_decode(signature_b64)
        stored = None if digest is None else _b64url_decode(digest)
        if stored is not None and len(stored) != SHA256_SIZE:
            raise ValueError("a SHA-256 digest has 32 bytes")
        actual = _digest_bytes(content)
    except ValueError:
        return _fail("malformed", signer)

    if not _trusted_signature_certificate(cert, anchors):
        return _fail("untrusted", signer)
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        return _fail("bad_signature", signer)
    signed = _signed_digest(public, signature, stored)
    if signed is None:
        return _fail("bad_signature", signer)
    if signed != actual:
        return _fail("altered", signer)

    for issued in (cert, anchors.root):
        if signed_at < issued.not_valid_before_utc:
            return _fail("not_yet_valid", signer)
        if signed_at > issued.not_valid_after_utc:
            return _fail("expired", signer)
    entry = anchors.revocation(cert.serial_number)
    if entry is not None and entry.revocation_date_utc <= signed_at:
        return _fail("revoked", signer)
    return Verification(valid=True, reason_code=None, reason=VALID_MESSAGE, signer=signer)
