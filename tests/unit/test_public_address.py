"""One address to configure: the portal's public address (PORTAL_PUBLIC_URL, derived from the
bind address in development) gives every address handed to the card service and the payment
provider, each still overridable; production refuses a missing or plain-http address."""

from __future__ import annotations

import pytest

from portal.config import ConfigError, load_config


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "PORTAL_PUBLIC_URL",
        "PORTAL_BIND",
        "PORTAL_JPKI_DISCOVERY_URL",
        "PORTAL_JPKI_REDIRECT_URIS",
        "PORTAL_PAYMENT_API_URL",
        "PORTAL_PAYMENT_WEBHOOK_URL",
        "PORTAL_MOCK_JPKI_ISSUER",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_another_port_moves_every_address(clean_env, tmp_path):
    clean_env.setenv("PORTAL_BIND", "127.0.0.1:8101")  # what `make run PORT=8101` sets
    config = load_config("development", {"INSTANCE_PATH": str(tmp_path)})
    base = "http://127.0.0.1:8101"
    assert config["PUBLIC_URL"] == base
    assert config["JPKI_DISCOVERY_URL"] == f"{base}/mock-jpki/.well-known/openid-configuration"
    assert config["JPKI_REDIRECT_URIS"] == [
        f"{base}/login/callback",
        f"{base}/sign/callback",
        f"{base}/staff/counter/card",
        f"{base}/counter/sign/callback",
    ]
    assert config["JPKI_CA_ROOT_URL"] == f"{base}/mock-jpki/ca/root.pem"
    assert config["MOCK_JPKI_ISSUER"] == f"{base}/mock-jpki"
    assert config["PAYMENT_API_URL"] == f"{base}/mock-pay/api"
    assert config["PAYMENT_WEBHOOK_URL"] == f"{base}/payments/webhooks/mock"
    assert not any("8000" in str(value) for value in config.values())


def test_a_wildcard_bind_is_reached_on_loopback(clean_env, tmp_path):
    clean_env.setenv("PORTAL_BIND", "0.0.0.0:8200")  # noqa: S104
    assert load_config("development", {"INSTANCE_PATH": str(tmp_path)})["PUBLIC_URL"] == (
        "http://127.0.0.1:8200"
    )


def test_the_public_address_wins_and_each_provider_address_can_still_be_set(clean_env, tmp_path):
    clean_env.setenv("PORTAL_BIND", "127.0.0.1:8101")
    clean_env.setenv("PORTAL_PUBLIC_URL", "https://demo.isumi.example.jp/")
    clean_env.setenv("PORTAL_PAYMENT_API_URL", "https://psp.example.com/api")
    config = load_config("development", {"INSTANCE_PATH": str(tmp_path)})
    assert config["PUBLIC_URL"] == "https://demo.isumi.example.jp"
    assert config["PAYMENT_API_URL"] == "https://psp.example.com/api"
    assert config["PAYMENT_WEBHOOK_URL"] == ("https://demo.isumi.example.jp/payments/webhooks/mock")


@pytest.mark.parametrize("address", [None, "http://portal.example.jp"])
def test_production_needs_an_https_public_address(clean_env, address):
    clean_env.setenv("SECRET_KEY", "p" * 64)
    clean_env.setenv("PORTAL_MY_NUMBER_KEY", "ab" * 32)
    clean_env.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    clean_env.setenv("PORTAL_MALWARE_SCANNER", "clamd://127.0.0.1:3310")
    clean_env.setenv("PORTAL_MAIL_SMTP_HOST", "smtp.example.jp")
    clean_env.setenv("PORTAL_MAIL_FROM", "noreply@isumi.example.jp")
    clean_env.setenv("PORTAL_DEMO_DEPLOYMENT", "0")
    if address:
        clean_env.setenv("PORTAL_PUBLIC_URL", address)
    with pytest.raises(ConfigError, match="PORTAL_PUBLIC_URL must be set in production"):
        load_config("production")
