"""The mock JPKI certificate authority: a root, two certificates per persona, a revocation list.

Real My Number cards hold two certificates issued by J-LIS. The mock issues the same pair with
the `cryptography` package, RSA-2048 and SHA-256 throughout:

* 利用者証明用 (authentication): proves "this card, this PIN" and nothing else. The subject is
  ``C=JP, CN=JPKI-AUTH-<serial in hex>`` and carries no personal data.
* 署名用 (signature): subject ``C=JP, CN=<name>``, plus the four basic items (基本4情報) in a
  non-critical private extension, OID :data:`FOUR_ITEMS_OID` (1.3.6.1.4.1.99999.1.1, under the
  demo arc 1.3.6.1.4.1.99999.1). Its value is a DER UTF8String holding the UTF-8 JSON object
  ``{"name", "address", "birthdate", "gender"}`` (see :func:`four_items_from_certificate`). The
  real certificate puts these in SubjectAltName otherName entries; a JSON extension keeps the
  mock readable while staying valid X.509. A certificate revoked because the holder moved still
  carries the address at issuance, as a real one would.

Validity windows are fixed so that the demo behaves the same on any day: "valid" certificates run
2025-01-01..2030-01-01, "expired" ones 2019-01-01..2024-01-01, the root 2020-01-01..2040-01-01.
Signature certificates of personas whose status is "revoked" are listed in the CRL with reason
affiliationChanged, dated the day of the move (00:00 JST).

Keys and certificates are PEM files under the state directory (mode 0600; private keys are not
encrypted: this is a demo CA). They are created on first use, one persona and kind at a time,
under an exclusive flock on ``state_dir/.lock`` and written atomically, so every gunicorn worker
and every restart sees the same keys and serial numbers. A stored certificate is reissued (same
key, new serial) only when the persona's data no longer matches it, e.g. after editing
portal/demo_data/people.yaml.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.x509.oid import NameOID

from portal.demo_data.people import CertificateKind, Persona, load_personas

# The extension's format is the relying party's (portal.identity.signature reads it); the mock
# writes it with _der_utf8_string below.
from portal.identity.signature import (
    FOUR_ITEMS_OID,
    four_items_from_certificate,
)

ROOT_SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COMMON_NAME, "Mock JPKI Root CA (demo)"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Isumi demo"),
    ]
)
AUTH_CN_PREFIX = "JPKI-AUTH-"
KINDS: tuple[CertificateKind, ...] = ("authentication", "signature")

_UTC = dt.UTC
_TOKYO = ZoneInfo("Asia/Tokyo")
ROOT_VALIDITY = (dt.datetime(2020, 1, 1, tzinfo=_UTC), dt.datetime(2040, 1, 1, tzinfo=_UTC))
VALID_WINDOW = (dt.datetime(2025, 1, 1, tzinfo=_UTC), dt.datetime(2030, 1, 1, tzinfo=_UTC))
EXPIRED_WINDOW = (dt.datetime(2019, 1, 1, tzinfo=_UTC), dt.datetime(2024, 1, 1, tzinfo=_UTC))
RSA_BITS = 2048
SHA256_DIGEST_SIZE = 32

ProblemCode = Literal["untrusted", "expired", "not_yet_valid", "revoked", "no_certificate"]


class CertificateProblem(Exception):
    """A certificate that must not be accepted, or a card that cannot sign.

    ``code`` is one of "untrusted", "expired", "not_yet_valid", "revoked" (from
    :meth:`MockCA.verify_chain` and :meth:`MockCA.sign`) or "no_certificate"
    (:class:`NoCertificate`).
    """

    def __init__(self, code: ProblemCode, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code: ProblemCode = code


class NoCertificate(CertificateProblem):
    """The card has no certificate of this kind (signature: holders under 15)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("no_certificate", detail)


def _der_utf8_string(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) < 0x80:
        length = bytes([len(data)])
    else:
        size = (len(data).bit_length() + 7) // 8
        length = bytes([0x80 | size]) + len(data).to_bytes(size, "big")
    return b"\x0c" + length + data


def _certificate_items(persona: Persona) -> dict[str, str]:
    """The four items as of issuance: a certificate revoked by a move shows the old address."""
    items = persona.four_items()
    if persona.certificates.signature == "revoked" and persona.records.previous_addresses:
        items["address"] = persona.records.previous_addresses[-1].address.one_line()
    return items


def _status(persona: Persona, kind: CertificateKind) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown certificate kind {kind!r}")
    return getattr(persona.certificates, kind)


def _window(status: str) -> tuple[dt.datetime, dt.datetime]:
    return EXPIRED_WINDOW if status == "expired" else VALID_WINDOW


def _revocation_date(persona: Persona) -> dt.datetime:
    moved_in = persona.records.resident_since
    return dt.datetime(moved_in.year, moved_in.month, moved_in.day, tzinfo=_TOKYO).astimezone(_UTC)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + os.replace), mode 0600."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _read_key(path: Path) -> rsa.RSAPrivateKey | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA key")
    return key


def _read_cert(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        return None


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def _aware(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("naive datetime given to the mock CA; use portal.clock.now()")
    return now.astimezone(_UTC)


class MockCA:
    """The demo certificate authority; see the module docstring. Safe across processes."""

    def __init__(self, state_dir: Path | str, personas: Mapping[str, Persona] | None = None):
        self.state_dir = Path(state_dir)
        self._personas = personas
        self._root: tuple[rsa.RSAPrivateKey, x509.Certificate] | None = None
        # (persona id, kind) -> (the items the certificate must carry, key, certificate)
        self._issued: dict[tuple[str, str], tuple[object, rsa.RSAPrivateKey, x509.Certificate]]
        self._issued = {}
        self._lock_state = threading.local()

    # --- storage ------------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # flock conflicts between separate open()s, so this also serialises threads of a process;
        # a thread that already holds the lock must not take it again (it would wait on itself).
        if getattr(self._lock_state, "held", False):
            yield
            return
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.state_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_state.held = True
            yield
        finally:
            self._lock_state.held = False
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _paths(self, name: str) -> tuple[Path, Path]:
        return self.state_dir / f"{name}.key.pem", self.state_dir / f"{name}.cert.pem"

    # --- root ---------------------------------------------------------------------------------

    def _root_matches(self, key: rsa.RSAPrivateKey | None, cert: x509.Certificate | None) -> bool:
        return (
            key is not None
            and cert is not None
            and cert.subject == ROOT_SUBJECT
            and cert.public_key() == key.public_key()
        )

    def _load_root(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        if self._root is not None:
            return self._root
        key_path, cert_path = self._paths("root")
        key, cert = _read_key(key_path), _read_cert(cert_path)
        if not self._root_matches(key, cert):
            with self._locked():
                key, cert = _read_key(key_path), _read_cert(cert_path)
                if key is None:
                    key = _new_key()
                    _write_private(key_path, _key_pem(key))
                if not self._root_matches(key, cert):
                    cert = self._issue_root(key)
                    _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        assert key is not None and cert is not None
        self._root = (key, cert)
        return self._root

    @staticmethod
    def _issue_root(key: rsa.RSAPrivateKey) -> x509.Certificate:
        public = key.public_key()
        return (
            x509.CertificateBuilder()
            .subject_name(ROOT_SUBJECT)
            .issuer_name(ROOT_SUBJECT)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(ROOT_VALIDITY[0])
            .not_valid_after(ROOT_VALIDITY[1])
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )

    @property
    def root_certificate(self) -> x509.Certificate:
        return self._load_root()[1]

    # --- persona certificates -----------------------------------------------------------------

    def _expected(self, persona: Persona, kind: CertificateKind) -> object:
        """What the stored certificate must match: validity window and, for signing, the items."""
        status = _status(persona, kind)
        if status == "none":
            raise NoCertificate(f"{persona.id} has no {kind} certificate")
        items = _certificate_items(persona) if kind == "signature" else None
        return (_window(status), json.dumps(items, ensure_ascii=False, sort_keys=True))

    def _cert_matches(
        self,
        persona: Persona,
        kind: CertificateKind,
        key: rsa.RSAPrivateKey,
        cert: x509.Certificate | None,
    ) -> bool:
        if cert is None or cert.public_key() != key.public_key():
            return False
        try:
            cert.verify_directly_issued_by(self._load_root()[1])
        except (ValueError, TypeError, InvalidSignature):
            return False  # issued by an earlier root whose files were deleted
        status = _status(persona, kind)
        if (cert.not_valid_before_utc, cert.not_valid_after_utc) != _window(status):
            return False
        if kind == "authentication":
            return cert.subject == self._auth_subject(cert.serial_number)
        return cert.subject == self._signature_subject(persona) and (
            four_items_from_certificate(cert) == _certificate_items(persona)
        )

    @staticmethod
    def _auth_subject(serial: int) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{AUTH_CN_PREFIX}{serial:X}"),
            ]
        )

    @staticmethod
    def _signature_subject(persona: Persona) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.COMMON_NAME, persona.name),
            ]
        )

    def _issue(
        self, persona: Persona, kind: CertificateKind, key: rsa.RSAPrivateKey
    ) -> x509.Certificate:
        root_key, root_cert = self._load_root()
        public = key.public_key()
        serial = x509.random_serial_number()
        not_before, not_after = _window(_status(persona, kind))
        signing = kind == "signature"
        subject = self._signature_subject(persona) if signing else self._auth_subject(serial)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(root_cert.subject)
            .public_key(public)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=signing,  # non-repudiation: the signature certificate
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                critical=False,
            )
        )
        if signing:
            payload = json.dumps(_certificate_items(persona), ensure_ascii=False, sort_keys=True)
            builder = builder.add_extension(
                x509.UnrecognizedExtension(FOUR_ITEMS_OID, _der_utf8_string(payload)),
                critical=False,
            )
        return builder.sign(root_key, hashes.SHA256())

    def _key_and_cert(
        self, persona: Persona, kind: CertificateKind
    ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        expected = self._expected(persona, kind)
        self._load_root()  # issuing needs it; load it before taking the lock for this card
        cached = self._issued.get((persona.id, kind))
        if cached is not None and cached[0] == expected:
            return cached[1], cached[2]
        key_path, cert_path = self._paths(f"{persona.id}.{kind}")
        key, cert = _read_key(key_path), _read_cert(cert_path)
        if key is None or not self._cert_matches(persona, kind, key, cert):
            with self._locked():
                # Another worker may have created them while we waited for the lock.
                key, cert = _read_key(key_path), _read_cert(cert_path)
                if key is None:
                    key = _new_key()
                    _write_private(key_path, _key_pem(key))
                if not self._cert_matches(persona, kind, key, cert):
                    cert = self._issue(persona, kind, key)
                    _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        assert key is not None and cert is not None
        self._issued[(persona.id, kind)] = (expected, key, cert)
        return key, cert

    def certificate(
        self, persona: Persona, kind: CertificateKind, now: dt.datetime | None = None
    ) -> x509.Certificate:
        """The persona's certificate of ``kind``, created on first use; whether it is still
        good at ``now`` is for :meth:`verify_chain` to say (the windows are fixed, so ``now``
        does not change the result). Raises :class:`NoCertificate` (signature, under 15)."""
        return self._key_and_cert(persona, kind)[1]

    def private_key(self, persona: Persona, kind: CertificateKind) -> rsa.RSAPrivateKey:
        """The key on the card for ``kind`` (the real one never leaves the card's chip)."""
        return self._key_and_cert(persona, kind)[0]

    # --- revocation ---------------------------------------------------------------------------

    def _personas_map(self) -> Mapping[str, Persona]:
        return self._personas if self._personas is not None else load_personas()

    def _revoked(self) -> list[tuple[Persona, x509.Certificate]]:
        return [
            (persona, self.certificate(persona, "signature"))
            for persona in self._personas_map().values()
            if persona.certificates.signature == "revoked"
        ]

    def revoked_serials(self) -> set[int]:
        """Serial numbers of the revoked signature certificates (holders who moved)."""
        return {cert.serial_number for _persona, cert in self._revoked()}

    def crl(self, now: dt.datetime) -> x509.CertificateRevocationList:
        """The revocation list as published at ``now``, valid for one day, signed by the root."""
        now = _aware(now)
        root_key, root_cert = self._load_root()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(root_cert.subject)
            .last_update(now)
            .next_update(now + dt.timedelta(days=1))
            .add_extension(x509.CRLNumber(max(0, int(now.timestamp()))), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                critical=False,
            )
        )
        for persona, cert in self._revoked():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(_revocation_date(persona))
                .add_extension(x509.CRLReason(x509.ReasonFlags.affiliation_changed), critical=False)
                .build()
            )
        return builder.sign(root_key, hashes.SHA256())

    # --- verification and signing -------------------------------------------------------------

    def verify_chain(self, cert: x509.Certificate, now: dt.datetime) -> None:
        """Accept an end-entity certificate of this CA that is in force at ``now``.

        Raises :class:`CertificateProblem` with code "untrusted" (not signed by this root, or a
        CA certificate), "not_yet_valid", "expired" or "revoked" (listed in the CRL).
        """
        now = _aware(now)
        root_cert = self._load_root()[1]
        try:
            cert.verify_directly_issued_by(root_cert)
        except (ValueError, TypeError, InvalidSignature):
            raise CertificateProblem("untrusted", "not issued by the mock JPKI root") from None
        try:
            constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or constraints.ca:
            raise CertificateProblem("untrusted", "not an end-entity certificate")
        if now < cert.not_valid_before_utc:
            raise CertificateProblem("not_yet_valid", f"valid from {cert.not_valid_before_utc}")
        if now > cert.not_valid_after_utc:
            raise CertificateProblem("expired", f"expired on {cert.not_valid_after_utc}")
        crl = self.crl(now)
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise CertificateProblem("revoked", "listed in the revocation list")

    def sign(self, persona: Persona, digest: bytes, now: dt.datetime | None = None) -> bytes:
        """Sign a SHA-256 ``digest`` with the card's signature key (RSA PKCS#1 v1.5).

        Refuses with :class:`NoCertificate` (no signature certificate) or
        :class:`CertificateProblem` "revoked"/"expired" by the persona's certificate status;
        with ``now`` given, the certificate must also pass :meth:`verify_chain` at ``now``.
        """
        if len(digest) != SHA256_DIGEST_SIZE:
            raise ValueError("sign() takes a 32-byte SHA-256 digest")
        status = persona.certificates.signature
        if status == "none":
            raise NoCertificate(f"{persona.id} has no signature certificate")
        if status in ("revoked", "expired"):
            raise CertificateProblem(status, f"{persona.id}'s signature certificate is {status}")
        key, cert = self._key_and_cert(persona, "signature")
        if now is not None:
            self.verify_chain(cert, now)
        return key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))

    @staticmethod
    def verify_signature(cert: x509.Certificate, digest: bytes, signature: bytes) -> bool:
        """True if ``signature`` is the certificate key's signature of ``digest``. Checks the
        mathematics only: call :meth:`verify_chain` for whether the certificate is good."""
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey) or len(digest) != SHA256_DIGEST_SIZE:
            return False
        try:
            public.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True
