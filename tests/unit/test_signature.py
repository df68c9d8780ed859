"""Electronic signatures, relying party's side (portal.identity.signature): canonical documents,
trust anchors and their cache, and verification against real signatures made with the mock
JPKI CA's persona keys. RSA key generation is the slow part, so the CAs are per module."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from portal.demo_data.people import load_personas
from portal.identity import signature
from portal.identity.signature import (
    FORMAT_VERSION,
    MESSAGES,
    TrustAnchorError,
    TrustAnchors,
    Verification,
    canonical_document,
    document_digest,
    fetch_trust_anchors,
    four_items_from_certificate,
    signed_content,
    verify,
)
from portal.mock_jpki.ca import MockCA

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
JST = dt.timezone(dt.timedelta(hours=9))
# personas.yaml: "moved" moved in on 2026-10-15, so its signature certificate was revoked then.
MOVED_ON = dt.datetime(2026, 10, 15, tzinfo=JST)
SHA_A = hashlib.sha256(b"a").hexdigest()
SHA_B = hashlib.sha256(b"b").hexdigest()


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _sign(key: rsa.RSAPrivateKey, digest_b64: str) -> str:
    """What the card does with the digest the portal sent (PKCS#1 v1.5 over the SHA-256)."""
    digest = base64.urlsafe_b64decode(digest_b64 + "=")
    return _b64url(key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())))


def _content(**answers) -> dict:
    return signed_content(
        procedure_id="resident-certificate",
        procedure_title="住民票の写し等の交付請求",
        answers={"copies": 1, "purpose": "勤務先へ提出", **answers},
        attachments=[{"field": "id_document", "filename": "免許証.jpg", "sha256": SHA_A}],
        applicant_sub="pairwise-sub-123",
        person_concerned=None,
    )


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _usage(*, signing: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
    signing: bool = True,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(signing=signing, ca=ca), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def _crl_pem(
    issuer: x509.Name, key: rsa.RSAPrivateKey, now: dt.datetime = NOW, hours: int = 24
) -> bytes:
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(now)
        .next_update(now + dt.timedelta(hours=hours))
        .sign(key, hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def personas():
    return load_personas()


@pytest.fixture(scope="module")
def ca(tmp_path_factory, personas):
    return MockCA(tmp_path_factory.mktemp("ca"), personas)


@pytest.fixture(scope="module")
def root_pem(ca) -> bytes:
    return ca.root_certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def crl_pem(ca) -> bytes:
    return ca.crl(NOW).public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def anchors(root_pem, crl_pem) -> TrustAnchors:
    return TrustAnchors(root_pem, crl_pem)


@pytest.fixture(scope="module")
def foreign():
    """Another CA, made here: its root and key, a signature certificate and key it issued."""
    root_key, leaf_key = _key(), _key()
    root_name = _name("Another CA")
    root = _certificate(root_name, root_key, root_name, root_key, ca=True)
    leaf = _certificate(_name("大原 太郎"), leaf_key, root_name, root_key, ca=False)
    return root_name, root_key, root, leaf, leaf_key


@pytest.fixture(autouse=True)
def _fresh_cache():
    signature.clear_trust_anchor_cache()
    yield
    signature.clear_trust_anchor_cache()


def _signed(ca, persona, content: dict) -> tuple[str, str, str]:
    """(digest, signature, certificate PEM) as the card service returns them."""
    digest = document_digest(content)
    key = ca.private_key(persona, "signature")  # MockCA.sign refuses revoked/expired cards
    return digest, _sign(key, digest), _pem(ca.certificate(persona, "signature"))


# --- canonical documents ------------------------------------------------------------------------


def test_rfc8785_example_vector():
    # RFC 8785 section 3.2.4 (input as parsed JSON, output byte for byte).
    content = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": '€$\x0f\nA\'B"\\\\"/',
        "literals": [None, True, False],
    }
    expected = r"""{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"""
    assert canonical_document(content) == expected.encode()


def test_known_small_vector_and_digest():
    content = {"b": 2, "a": [1, "é", None, True, 1.5], "c": {"y": 1.0, "x": "住民票"}}
    canonical = '{"a":[1,"é",null,true,1.5],"b":2,"c":{"x":"住民票","y":1}}'.encode()
    assert canonical_document(content) == canonical
    digest = document_digest(content)
    assert digest == _b64url(hashlib.sha256(canonical).digest())
    assert len(digest) == 43 and "=" not in digest  # what the card service's sign API accepts


def test_key_order_and_json_round_trip_do_not_change_the_bytes():
    content = _content(children=[{"name": "岬 蒼", "age": 7}])
    reordered = json.loads(json.dumps(dict(reversed(list(content.items()))), ensure_ascii=False))
    reordered["answers"] = dict(reversed(list(reordered["answers"].items())))
    assert canonical_document(reordered) == canonical_document(content)
    assert document_digest(reordered) == document_digest(content)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _shuffled(value, rng: random.Random):
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _shuffled(item, rng) for key, item in items}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


@given(st.dictionaries(st.text(max_size=8), _json, max_size=6), st.randoms())
def test_canonical_bytes_ignore_key_order(content, rng):
    shuffled = _shuffled(content, rng)
    assert canonical_document(shuffled) == canonical_document(content)
    # ...and survive a JSON column (which may hand back 1 for 1.0, or the reverse).
    assert canonical_document(json.loads(json.dumps(shuffled))) == canonical_document(content)


@pytest.mark.parametrize(
    ("answers", "where"),
    [
        ({"weight": float("nan")}, "$.weight"),
        ({"weight": float("inf")}, "$.weight"),
        ({"rows": [1, float("-inf")]}, "$.rows[1]"),
        ({"big": 2**53}, "$.big"),
        ({"nested": {1: "x"}}, "$.nested"),
        ({"when": dt.date(2026, 1, 1)}, "$.when"),
        ({"text": "\ud800"}, "$.text"),
    ],
)
def test_what_cannot_be_canonicalised_is_a_clear_value_error(answers, where):
    with pytest.raises(ValueError, match=re.escape(f"{where}:")):
        canonical_document(answers)
    with pytest.raises(ValueError):
        signed_content(
            procedure_id="p",
            procedure_title="t",
            answers=answers,
            attachments=[],
            applicant_sub="s",
            person_concerned=None,
        )


def test_signed_content_shape_and_attachment_order():
    answers = {"copies": 2}
    attachments = [
        {"field": "z_doc", "filename": "b.pdf", "sha256": SHA_B, "size": 10},
        {"field": "a_doc", "filename": "b.pdf", "sha256": SHA_A.upper()},
        {"field": "a_doc", "filename": "a.pdf", "sha256": SHA_B},
    ]
    content = signed_content(
        procedure_id="nursery-application",
        procedure_title="保育施設等の利用申込",
        answers=answers,
        attachments=attachments,
        applicant_sub="sub-1",
        person_concerned="child-1",
    )
    assert content == {
        "format": FORMAT_VERSION,
        "procedure": {"id": "nursery-application", "title": "保育施設等の利用申込"},
        "answers": {"copies": 2},
        "attachments": [
            {"field": "a_doc", "filename": "a.pdf", "sha256": SHA_B},
            {"field": "a_doc", "filename": "b.pdf", "sha256": SHA_A},
            {"field": "z_doc", "filename": "b.pdf", "sha256": SHA_B},
        ],
        "applicant": {"sub": "sub-1"},
        "person_concerned": "child-1",
    }
    assert FORMAT_VERSION == "isumi-portal/signed-application/v1"
    again = signed_content(
        procedure_id="nursery-application",
        procedure_title="保育施設等の利用申込",
        answers={"copies": 2},
        attachments=list(reversed(attachments)),
        applicant_sub="sub-1",
        person_concerned="child-1",
    )
    assert document_digest(again) == document_digest(content)
    answers["copies"] = 3  # the caller's dict changing later does not change the document
    assert content["answers"] == {"copies": 2}


def test_signed_content_refuses_a_bad_attachment_hash():
    with pytest.raises(ValueError, match=r"attachments\[0\]: sha256"):
        signed_content(
            procedure_id="p",
            procedure_title="t",
            answers={},
            attachments=[{"field": "f", "filename": "x.pdf", "sha256": "not-a-hash"}],
            applicant_sub="s",
            person_concerned=None,
        )


# --- trust anchors ------------------------------------------------------------------------------


def test_trust_anchors_parse_the_mock_ca(anchors, ca, personas):
    assert anchors.root == ca.root_certificate
    assert anchors.next_update == NOW + dt.timedelta(days=1)
    moved = ca.certificate(personas["moved"], "signature")
    entry = anchors.revocation(moved.serial_number)
    assert entry is not None and entry.revocation_date_utc == MOVED_ON.astimezone(dt.UTC)
    assert anchors.revocation(ca.certificate(personas["adult"], "signature").serial_number) is None


def test_forged_crl_is_refused(ca, root_pem):
    # Same issuer name as the mock root, signed with someone else's key.
    forged = _crl_pem(ca.root_certificate.subject, _key())
    with pytest.raises(TrustAnchorError, match="not signed by the root"):
        TrustAnchors(root_pem, forged)


def test_crl_of_another_authority_and_garbage_are_refused(root_pem, foreign):
    root_name, root_key, *_ = foreign
    with pytest.raises(TrustAnchorError, match="another authority"):
        TrustAnchors(root_pem, _crl_pem(root_name, root_key))
    with pytest.raises(TrustAnchorError, match="not a PEM revocation list"):
        TrustAnchors(root_pem, b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
    with pytest.raises(TrustAnchorError, match="not a PEM certificate"):
        TrustAnchors(b"hello", b"")


def test_an_end_entity_certificate_is_no_root(ca, personas, crl_pem):
    leaf = ca.certificate(personas["adult"], "signature")
    with pytest.raises(TrustAnchorError, match="not a CA certificate"):
        TrustAnchors(leaf.public_bytes(serialization.Encoding.PEM), crl_pem)


class _Server:
    """A fake card service: counts fetches, serves whatever CRL it is given."""

    def __init__(self, root_pem: bytes, crl_pem: bytes) -> None:
        self.files = {"https://op/root.pem": root_pem, "https://op/crl.pem": crl_pem}
        self.calls: list[str] = []

    def get(self, url: str) -> bytes:
        self.calls.append(url)
        return self.files[url]


def test_fetch_caches_root_for_the_process_and_crl_until_next_update(ca, root_pem):
    server = _Server(root_pem, ca.crl(NOW).public_bytes(serialization.Encoding.PEM))
    urls = ("https://op/root.pem", "https://op/crl.pem")
    first = fetch_trust_anchors(*urls, server.get, now=NOW)
    assert fetch_trust_anchors(*urls, server.get, now=NOW + dt.timedelta(hours=23)) is first
    assert server.calls == list(urls)

    later = NOW + dt.timedelta(days=1)  # next_update reached: the CRL again, not the root
    server.files[urls[1]] = ca.crl(later).public_bytes(serialization.Encoding.PEM)
    second = fetch_trust_anchors(*urls, server.get, now=later)
    assert second is not first and second.next_update == later + dt.timedelta(days=1)
    assert server.calls == [*urls, urls[1]]


def test_fetch_refuses_forged_stale_and_unreachable(ca, root_pem):
    urls = ("https://op/root.pem", "https://op/crl.pem")
    forged = _Server(root_pem, _crl_pem(ca.root_certificate.subject, _key()))
    with pytest.raises(TrustAnchorError, match="not signed by the root"):
        fetch_trust_anchors(*urls, forged.get, now=NOW)

    stale = _Server(
        root_pem, ca.crl(NOW - dt.timedelta(days=2)).public_bytes(serialization.Encoding.PEM)
    )
    with pytest.raises(TrustAnchorError, match="expired"):
        fetch_trust_anchors(*urls, stale.get, now=NOW)

    def down(url: str) -> bytes:
        raise ConnectionError("connection refused")

    # The root (good, and kept since the stale CRL) is not asked for again; the CRL is.
    with pytest.raises(TrustAnchorError, match="cannot fetch the CRL from https://op/crl.pem"):
        fetch_trust_anchors(*urls, down, now=NOW)
    signature.clear_trust_anchor_cache()
    with pytest.raises(TrustAnchorError, match="cannot fetch the root certificate"):
        fetch_trust_anchors(*urls, down, now=NOW)

    # Nothing bad was cached: a good CRL is accepted at once.
    good = _Server(root_pem, ca.crl(NOW).public_bytes(serialization.Encoding.PEM))
    assert isinstance(fetch_trust_anchors(*urls, good.get, now=NOW), TrustAnchors)


def test_default_fetcher_uses_requests_with_a_timeout(monkeypatch, root_pem, crl_pem):
    import requests

    seen = []

    class Response:
        def __init__(self, content: bytes) -> None:
            self.content = content

        def raise_for_status(self) -> None:
            pass

    def fake_get(url, timeout):
        seen.append((url, timeout))
        return Response(root_pem if url.endswith("root.pem") else crl_pem)

    monkeypatch.setattr(requests, "get", fake_get)
    fetch_trust_anchors("https://op/ca/root.pem", "https://op/ca/crl.pem", now=NOW)
    assert seen == [("https://op/ca/root.pem", 5), ("https://op/ca/crl.pem", 5)]


# --- verification -------------------------------------------------------------------------------


def test_valid_signature(ca, personas, anchors):
    adult = personas["adult"]
    content = _content()
    digest, sig, cert = _signed(ca, adult, content)
    # The mock's own signing path gives the same signature (PKCS#1 v1.5 is deterministic).
    assert _b64url(ca.sign(adult, base64.urlsafe_b64decode(digest + "="))) == sig
    result = verify(content, sig, cert, NOW, anchors, digest=digest)
    assert result == Verification(
        valid=True, reason_code=None, reason="電子署名は有効です", signer=adult.four_items()
    )
    assert verify(content, sig, cert.encode(), NOW, anchors).valid  # without the stored digest
    assert four_items_from_certificate(ca.certificate(adult, "signature")) == adult.four_items()


def test_answer_changed_after_signing_is_altered(ca, personas, anchors):
    content = _content()
    digest, sig, cert = _signed(ca, personas["adult"], content)
    changed = _content(copies=5)
    for stored in (digest, None):
        result = verify(changed, sig, cert, NOW, anchors, digest=stored)
        assert (result.valid, result.reason_code) == (False, "altered")
        assert result.reason == "署名の後で申請内容が変更されています"
        assert result.signer == personas["adult"].four_items()


def test_signature_by_another_persona_is_a_bad_signature(ca, personas, anchors):
    content = _content()
    digest = document_digest(content)
    other_key = ca.private_key(personas["parent"], "signature")
    cert = _pem(ca.certificate(personas["adult"], "signature"))
    for stored in (digest, None):
        result = verify(content, _sign(other_key, digest), cert, NOW, anchors, digest=stored)
        assert (result.valid, result.reason_code) == (False, "bad_signature")
        assert result.reason == MESSAGES["bad_signature"]


def test_stored_digest_that_was_not_signed_is_a_bad_signature(ca, personas, anchors):
    # Content and stored digest both rewritten: the signature does not cover the new digest.
    digest, sig, cert = _signed(ca, personas["adult"], _content())
    changed = _content(copies=5)
    result = verify(changed, sig, cert, NOW, anchors, digest=document_digest(changed))
    assert result.reason_code == "bad_signature"


def test_certificate_of_another_ca_is_untrusted(anchors, foreign):
    *_, leaf, leaf_key = foreign
    content = _content()
    digest = document_digest(content)
    result = verify(content, _sign(leaf_key, digest), _pem(leaf), NOW, anchors, digest=digest)
    assert (result.valid, result.reason_code) == (False, "untrusted")
    assert result.reason == "信頼できる認証局が発行した署名用電子証明書ではありません"
    assert result.signer is None


def test_ca_certificate_and_authentication_certificate_are_untrusted(ca, personas, foreign):
    root_name, root_key, root, *_ = foreign
    own = TrustAnchors(_pem(root).encode(), _crl_pem(root_name, root_key))
    sub_key = _key()
    sub_ca = _certificate(_name("Sub CA"), sub_key, root_name, root_key, ca=True, signing=True)
    content = _content()
    digest = document_digest(content)
    result = verify(content, _sign(sub_key, digest), _pem(sub_ca), NOW, own, digest=digest)
    assert result.reason_code == "untrusted"

    # The card's authentication certificate (利用者証明用) does not make signatures.
    adult = personas["adult"]
    auth_key = ca.private_key(adult, "authentication")
    auth_cert = _pem(ca.certificate(adult, "authentication"))
    anchors = TrustAnchors(
        ca.root_certificate.public_bytes(serialization.Encoding.PEM),
        ca.crl(NOW).public_bytes(serialization.Encoding.PEM),
    )
    result = verify(content, _sign(auth_key, digest), auth_cert, NOW, anchors, digest=digest)
    assert (result.reason_code, result.signer) == ("untrusted", None)


def test_revoked_at_signing_time_is_revoked_and_valid_before_it(ca, personas, anchors):
    moved = personas["moved"]
    content = _content()
    digest, sig, cert = _signed(ca, moved, content)
    after = verify(content, sig, cert, NOW, anchors, digest=digest)
    assert (after.valid, after.reason_code) == (False, "revoked")
    assert after.reason == "電子証明書が失効しています（署名の時点で）"
    assert after.signer is not None and after.signer["address"].startswith("千葉県茂原市")
    assert verify(content, sig, cert, MOVED_ON, anchors, digest=digest).reason_code == "revoked"
    # Signed before the move: still a good signature, although the certificate is revoked now.
    before = MOVED_ON - dt.timedelta(seconds=1)
    assert verify(content, sig, cert, before, anchors, digest=digest).valid


def test_expired_and_not_yet_valid_certificates(ca, personas, anchors):
    content = _content()
    digest, sig, cert = _signed(ca, personas["expired"], content)
    result = verify(content, sig, cert, NOW, anchors, digest=digest)
    assert (result.valid, result.reason_code) == (False, "expired")
    assert result.reason == "署名の時点で電子証明書の有効期限が切れています"
    signed_in_2023 = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
    assert verify(content, sig, cert, signed_in_2023, anchors, digest=digest).valid

    digest, sig, cert = _signed(ca, personas["adult"], content)
    early = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)  # valid certificates start in 2025
    assert verify(content, sig, cert, early, anchors, digest=digest).reason_code == "not_yet_valid"


def test_malformed_inputs(ca, personas, anchors):
    content = _content()
    digest, sig, cert = _signed(ca, personas["adult"], content)
    cases = [
        (content, sig, "not a certificate", digest),
        (content, "not base64url!", cert, digest),
        (content, sig, cert, "c2hvcnQ"),  # base64url, but not 32 bytes
        ({"weight": float("nan")}, sig, cert, None),
        (content, None, cert, digest),
    ]
    for case_content, case_sig, case_cert, case_digest in cases:
        result = verify(case_content, case_sig, case_cert, NOW, anchors, digest=case_digest)
        assert (result.valid, result.reason_code) == (False, "malformed")
        assert result.reason == "電子署名または電子証明書を読み取れません"
    # A readable certificate still names its holder.
    assert verify(content, "@@", cert, NOW, anchors).signer == personas["adult"].four_items()


def test_signed_at_must_be_aware(ca, personas, anchors):
    content = _content()
    digest, sig, cert = _signed(ca, personas["adult"], content)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(content, sig, cert, dt.datetime(2026, 11, 22), anchors, digest=digest)
