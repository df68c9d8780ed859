"""State of the mock card service: the cards' PIN counters and locks, authorization codes and
access tokens. A real provider keeps these on its side too; they never mix with portal data."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock
from portal.mocks_db import MockBase

AUTH_PIN_TRIES = 3  # 利用者証明用電子証明書: locks after 3 wrong PINs
SIGN_PASSWORD_TRIES = 5  # 署名用電子証明書: locks after 5 wrong passwords


class MockCard(MockBase):
    """One virtual card's counters. Wrong tries are counted with a conditional UPDATE, so two
    racing wrong PINs both count and the lock cannot be skipped."""

    __tablename__ = "mock_jpki_cards"

    persona_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    auth_failures: Mapped[int] = mapped_column(default=0)
    auth_locked: Mapped[bool] = mapped_column(default=False)
    sign_failures: Mapped[int] = mapped_column(default=0)
    sign_locked: Mapped[bool] = mapped_column(default=False)


class MockAuthorizationCode(MockBase):
    """A single-use code, bound to its client and redirect URI, valid for a minute."""

    __tablename__ = "mock_jpki_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    persona_id: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str | None] = mapped_column(String(255), default=None)
    acr: Mapped[str | None] = mapped_column(String(64), default=None)
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    code_challenge_method: Mapped[str | None] = mapped_column(String(10), default=None)
    auth_time: Mapped[int]
    expires_at: Mapped[dt.datetime]

    # Authlib's AuthorizationCodeMixin
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str]:
        return ["hwk", "pin"]  # a hardware key (the card) unlocked by a PIN


class MockAccessToken(MockBase):
    __tablename__ = "mock_jpki_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token: Mapped[str] = mapped_column(String(255), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    persona_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime]

    # Authlib's TokenMixin
    def is_expired(self) -> bool:
        return self.expires_at <= clock.now()

    def is_revoked(self) -> bool:
        return False

    def get_scope(self) -> str:
        return self.scope


class MockSignTransaction(MockBase):
    """Documents a relying party wants signed: their titles and SHA-256 digests, sent server to
    server before the resident comes; then the signatures and the signature certificate."""

    __tablename__ = "mock_jpki_sign_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    documents: Mapped[list] = mapped_column(JSON)  # [{"title", "digest"}], digest base64url
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | signed
    persona_id: Mapped[str | None] = mapped_column(String(64), default=None)
    signatures: Mapped[list | None] = mapped_column(JSON, default=None)
    certificate_pem: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
