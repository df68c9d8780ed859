"""The mock JPKI CA: persistent keys, what each certificate carries, chain and revocation checks,
signing. One CA (and one foreign CA) per module: RSA key generation is the slow part."""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from portal.demo_data.people import load_personas
from portal.mock_jpki.ca import (
    AUTH_CN_PREFIX,
    FOUR_ITEMS_OID,
    CertificateProblem,
    MockCA,
    NoCertificate,
    four_items_from_certificate,
)

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
DIGEST = hashlib.sha256("住民票の写し交付申請 #ABC123".encode()).digest()


def _public_der(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _problem(ca: MockCA, cert: x509.Certificate, now: dt.datetime = NOW) -> str | None:
    try:
        ca.verify_chain(cert, now)
    except CertificateProblem as problem:
        return problem.code
    return None


@pytest.fixture(scope="module")
def personas():
    return load_personas()


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ca")


@pytest.fixture(scope="module")
def ca(state_dir, personas):
    return MockCA(state_dir, personas)


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory, personas):
    return MockCA(tmp_path_factory.mktemp("other-ca"), personas)


def test_root_certificate(ca):
    root = ca.root_certificate
    assert root.subject.rfc4514_string() == "O=Isumi demo,CN=Mock JPKI Root CA (demo)"
    assert root.issuer == root.subject
    assert root.not_valid_before_utc == dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    assert root.not_valid_after_utc == dt.datetime(2040, 1, 1, tzinfo=dt.UTC)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_keys_are_persisted_and_reused(ca, state_dir, personas):
    adult = personas["adult"]
    first = {kind: ca.certificate(adult, kind, NOW) for kind in ("authentication", "signature")}
    files = {path.name for path in state_dir.iterdir()}
    assert {
        "root.key.pem",
        "root.cert.pem",
        "adult.authentication.key.pem",
        "adult.authentication.cert.pem",
        "adult.signature.key.pem",
        "adult.signature.cert.pem",
    } <= files
    for name in files - {".lock"}:
        assert stat.S_IMODE((state_dir / name).stat().st_mode) == 0o600, name
    assert not [name for name in files if name.endswith(".tmp")]

    second = MockCA(state_dir, personas)
    assert _public_der(second.root_certificate) == _public_der(ca.root_certificate)
    for kind, cert in first.items():
        again = second.certificate(adult, kind, NOW)
        assert again.serial_number == cert.serial_number
        assert _public_der(again) == _public_der(cert)
        assert second.private_key(adult, kind).public_key() == cert.public_key()
    # The two kinds have different keys and serials.
    assert first["authentication"].serial_number != first["signature"].serial_number
    assert _public_der(first["authentication"]) != _public_der(first["signature"])


def test_authentication_certificate_carries_no_personal_data(ca, personas):
    adult = personas["adult"]
    cert = ca.certificate(adult, "authentication", NOW)
    common_name = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert common_name == f"{AUTH_CN_PREFIX}{cert.serial_number:X}"
    der = cert.public_bytes(serialization.Encoding.DER)
    for value in (adult.name, adult.address.town, adult.birth_date.isoformat(), adult.my_number):
        assert value.encode() not in der
    assert four_items_from_certificate(cert) is None
    key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert key_usage.digital_signature and not key_usage.content_commitment


def test_signature_certificate_carries_the_four_items(ca, personas):
    adult = personas["adult"]
    cert = ca.certificate(adult, "signature", NOW)
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "大原 太郎"
    assert four_items_from_certificate(cert) == {
        "name": "大原 太郎",
        "address": "千葉県いすみ市大原1234番地",
        "birthdate": "1981-06-15",
        "gender": "male",
    }
    extension = cert.extensions.get_extension_for_oid(FOUR_ITEMS_OID)
    assert extension.critical is False
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment
    assert cert.not_valid_before_utc == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert cert.not_valid_after_utc == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def test_revoked_certificate_shows_the_address_at_issuance(ca, personas):
    items = four_items_from_certificate(ca.certificate(personas["moved"], "signature", NOW))
    assert items["address"] == "千葉県茂原市千代田町1丁目5番6号 グリーンコート茂原305号室"
    assert items["address"] != personas["moved"].four_items()["address"]


def test_valid_chain_verifies(ca, personas):
    for kind in ("authentication", "signature"):
        assert _problem(ca, ca.certificate(personas["adult"], kind, NOW)) is None
    # A name outside JIS X 0208 survives the round trip through the certificate (UTF8String).
    gaiji = ca.certificate(personas["gaiji"], "signature", NOW)
    assert _problem(ca, gaiji) is None
    assert gaiji.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "髙橋 誠"
    assert four_items_from_certificate(gaiji)["name"] == "髙橋 誠"
    # The teenager has a working authentication certificate.
    assert _problem(ca, ca.certificate(personas["teen-14"], "authentication", NOW)) is None


def test_validity_window(ca, personas):
    cert = ca.certificate(personas["adult"], "authentication", NOW)
    assert _problem(ca, cert, dt.datetime(2024, 12, 31, tzinfo=dt.UTC)) == "not_yet_valid"
    assert _problem(ca, cert, dt.datetime(2030, 1, 2, tzinfo=dt.UTC)) == "expired"
    expired = personas["expired"]
    for kind in ("authentication", "signature"):
        cert = ca.certificate(expired, kind, NOW)
        assert cert.not_valid_after_utc == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        assert _problem(ca, cert) == "expired"
    with pytest.raises(ValueError, match="naive"):
        ca.verify_chain(cert, dt.datetime(2026, 11, 22))


def test_revoked_certificate_is_in_the_crl(ca, personas):
    cert = ca.certificate(personas["moved"], "signature", NOW)
    assert _problem(ca, cert) == "revoked"
    assert ca.revoked_serials() == {cert.serial_number}
    crl = ca.crl(NOW)
    assert crl.is_signature_valid(ca.root_certificate.public_key())
    assert crl.next_update_utc == NOW + dt.timedelta(days=1)
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.affiliation_changed
    )
    # Revoked on the day of the move, 00:00 in Japan.
    assert entry.revocation_date_utc == dt.datetime(2026, 10, 14, 15, 0, tzinfo=dt.UTC)
    assert len(list(crl)) == 1
    # Only the signature certificate is revoked: the moved resident can still log in.
    assert _problem(ca, ca.certificate(personas["moved"], "authentication", NOW)) is None


def test_certificate_of_another_ca_is_untrusted(ca, other_ca, personas):
    foreign_cert = other_ca.certificate(personas["adult"], "signature", NOW)
    # Same names, same persona, but signed by another root key.
    assert foreign_cert.issuer == ca.root_certificate.subject
    assert _problem(other_ca, foreign_cert) is None
    assert _problem(ca, foreign_cert) == "untrusted"
    # The root itself is not a card certificate.
    assert _problem(ca, ca.root_certificate) == "untrusted"


def test_sign_and_verify(ca, personas):
    adult = personas["adult"]
    cert = ca.certificate(adult, "signature", NOW)
    signature = ca.sign(adult, DIGEST, NOW)
    assert len(signature) == 256  # RSA-2048
    assert MockCA.verify_signature(cert, DIGEST, signature) is True
    tampered = hashlib.sha256("住民票の写し交付申請 #ABC124".encode()).digest()
    assert MockCA.verify_signature(cert, tampered, signature) is False
    assert (
        MockCA.verify_signature(cert, DIGEST, signature[:-1] + bytes([signature[-1] ^ 1])) is False
    )
    # Made with the signature key, so the authentication certificate does not verify it.
    auth_cert = ca.certificate(adult, "authentication", NOW)
    assert MockCA.verify_signature(auth_cert, DIGEST, signature) is False
    with pytest.raises(ValueError, match="32-byte"):
        ca.sign(adult, b"not a digest", NOW)


def test_the_14_year_old_has_no_signature_certificate(ca, personas):
    teen = personas["teen-14"]
    with pytest.raises(NoCertificate) as raised:
        ca.certificate(teen, "signature", NOW)
    assert raised.value.code == "no_certificate"
    with pytest.raises(NoCertificate):
        ca.sign(teen, DIGEST, NOW)
    assert not any(path.name.startswith("teen-14.signature") for path in ca.state_dir.iterdir())


@pytest.mark.parametrize(("persona_id", "code"), [("moved", "revoked"), ("expired", "expired")])
def test_unusable_signature_certificate_cannot_sign(ca, personas, persona_id, code):
    with pytest.raises(CertificateProblem) as raised:
        ca.sign(personas[persona_id], DIGEST, NOW)
    assert raised.value.code == code


def test_sign_checks_the_window_when_given_the_time(ca, personas):
    with pytest.raises(CertificateProblem) as raised:
        ca.sign(personas["adult"], DIGEST, dt.datetime(2031, 1, 1, tzinfo=dt.UTC))
    assert raised.value.code == "expired"


def test_changed_persona_gets_a_reissued_certificate_with_the_same_key(ca, personas):
    adult = personas["adult"]
    before = ca.certificate(adult, "signature", NOW)
    renamed = adult.model_copy(update={"name": "大原 次郎"})
    after = ca.certificate(renamed, "signature", NOW)
    assert after.serial_number != before.serial_number
    assert four_items_from_certificate(after)["name"] == "大原 次郎"
    assert _public_der(after) == _public_der(before)
    # A fresh instance reads the reissued file; restoring the name reissues once more.
    assert MockCA(ca.state_dir, personas).certificate(renamed, "signature").serial_number == (
        after.serial_number
    )
    restored = ca.certificate(adult, "signature", NOW)
    assert four_items_from_certificate(restored)["name"] == "大原 太郎"


def test_concurrent_first_use_creates_one_key(tmp_path, personas):
    adult = personas["adult"]
    instances = [MockCA(tmp_path, personas) for _ in range(3)]
    barrier = threading.Barrier(len(instances), timeout=30)
    results: list[tuple[int, bytes]] = []
    errors: list[BaseException] = []

    def first_use(instance: MockCA) -> None:
        try:
            barrier.wait()
            cert = instance.certificate(adult, "authentication", NOW)
            results.append((cert.serial_number, _public_der(cert)))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=first_use, args=(i,)) for i in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(results) == 3
    assert len(set(results)) == 1
