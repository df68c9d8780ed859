"""Configuration refuses unsafe production settings; the one clock can be set by tests."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import clock, create_app
from portal.config import ConfigError, load_config


def test_production_refuses_the_test_clock(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.jp")
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("PORTAL_TEST_CLOCK_FILE", str(tmp_path / "clock"))
    with pytest.raises(ConfigError, match="PORTAL_TEST_CLOCK_FILE is a test-only setting"):
        create_app("production")


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_TEST_CLOCK_FILE", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        load_config("production")


def test_production_starts_with_proper_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.jp")
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("PORTAL_MY_NUMBER_KEY", "ab" * 32)
    monkeypatch.setenv("PORTAL_MALWARE_SCANNER", "clamd://127.0.0.1:3310")
    monkeypatch.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    monkeypatch.setenv("PORTAL_MAIL_SMTP_HOST", "smtp.example.jp")
    monkeypatch.setenv("PORTAL_MAIL_FROM", "noreply@isumi.example.jp")
    monkeypatch.delenv("PORTAL_TEST_CLOCK_FILE", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite3'}")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["TESTING"] is False


def test_production_counts_rate_limits_in_redis_and_refuses_to_start_without_it(
    monkeypatch, tmp_path
):
    production_env(monkeypatch, tmp_path)
    assert load_config("production")["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"
    monkeypatch.delenv("PORTAL_REDIS_URL")
    with pytest.raises(ConfigError, match="PORTAL_REDIS_URL must be set in production"):
        load_config("production")


def test_production_refuses_per_process_rate_limit_counters(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path)
    monkeypatch.setenv("PORTAL_RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("PORTAL_DEMO_DEPLOYMENT", "0")
    with pytest.raises(ConfigError, match="memory:// counts per process"):
        load_config("production")


def test_without_redis_the_database_keeps_the_counters(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_REDIS_URL", raising=False)
    monkeypatch.delenv("PORTAL_RATELIMIT_STORAGE_URI", raising=False)
    config = load_config("development", {"INSTANCE_PATH": str(tmp_path)})
    assert config["RATELIMIT_STORAGE_URI"] == "portal+db://"


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="PORTAL_ENV must be"):
        load_config("staging")


def test_clock_override_in_process():
    frozen = dt.datetime(2026, 4, 1, 0, 30, tzinfo=dt.UTC)
    clock.set_override(frozen)
    try:
        assert clock.now() == frozen
        assert clock.today_local() == dt.date(2026, 4, 1)
        clock.set_override(dt.datetime(2026, 3, 31, 15, 30, tzinfo=dt.UTC))
        # 00:30 on 1 April in Tokyo
        assert clock.today_local() == dt.date(2026, 4, 1)
    finally:
        clock.set_override(None)
    assert abs((clock.now() - dt.datetime.now(dt.UTC)).total_seconds()) < 5


def test_clock_file_is_read_by_every_call(tmp_path):
    path = tmp_path / "clock"
    clock.configure(str(path))
    try:
        assert abs((clock.now() - dt.datetime.now(dt.UTC)).total_seconds()) < 5
        path.write_text("2030-01-02T09:00:00+09:00")
        assert clock.now() == dt.datetime(2030, 1, 2, 0, 0, tzinfo=dt.UTC)
        path.write_text("2030-01-03T09:00:00")  # naive means Tokyo time
        assert clock.today_local() == dt.date(2030, 1, 3)
    finally:
        clock.configure(None)


def test_naive_override_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set_override(dt.datetime(2026, 1, 1))


def test_production_refuses_the_demo_malware_scanner(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.jp")
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    monkeypatch.setenv("PORTAL_MY_NUMBER_KEY", "ab" * 32)
    monkeypatch.delenv("PORTAL_TEST_CLOCK_FILE", raising=False)
    monkeypatch.delenv("PORTAL_MALWARE_SCANNER", raising=False)
    with pytest.raises(ConfigError, match="demo scanner"):
        load_config("production")


def test_production_requires_a_my_number_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.jp")
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    monkeypatch.delenv("PORTAL_MY_NUMBER_KEY", raising=False)
    monkeypatch.delenv("PORTAL_TEST_CLOCK_FILE", raising=False)
    with pytest.raises(ConfigError, match="PORTAL_MY_NUMBER_KEY must be set"):
        load_config("production")


def production_env(monkeypatch, tmp_path) -> None:
    """Everything production needs, and none of the demo-only settings."""
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://portal.example.jp")
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("PORTAL_MY_NUMBER_KEY", "ab" * 32)
    monkeypatch.setenv("PORTAL_MALWARE_SCANNER", "clamd://127.0.0.1:3310")
    monkeypatch.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite3'}")
    monkeypatch.setenv("PORTAL_MAIL_SMTP_HOST", "smtp.example.jp")
    monkeypatch.setenv("PORTAL_MAIL_FROM", "noreply@isumi.example.jp")
    for name in (
        "PORTAL_TEST_CLOCK_FILE",
        "PORTAL_MOCK_JPKI_ENABLED",
        "PORTAL_MOCK_RECORDS_ENABLED",
        "PORTAL_DEMO_DEPLOYMENT",
    ):
        monkeypatch.delenv(name, raising=False)


def test_a_demo_deployment_is_the_default_outside_production(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path)
    assert load_config("development")["DEMO_DEPLOYMENT"] is True
    assert load_config("test")["DEMO_DEPLOYMENT"] is True
    assert load_config("production")["DEMO_DEPLOYMENT"] is False


def test_production_refuses_the_mock_card_service_unless_it_is_a_demo(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path)
    monkeypatch.setenv("PORTAL_MOCK_JPKI_ENABLED", "1")
    with pytest.raises(ConfigError, match="set PORTAL_DEMO_DEPLOYMENT=1") as refused:
        load_config("production")
    assert "PORTAL_MOCK_JPKI_ENABLED" in str(refused.value)

    monkeypatch.setenv("PORTAL_DEMO_DEPLOYMENT", "1")
    config = load_config("production")
    assert config["MOCK_JPKI_ENABLED"] is True and config["DEMO_DEPLOYMENT"] is True


def test_production_refuses_the_mock_records_unless_it_is_a_demo(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path)
    assert load_config("development")["MOCK_RECORDS_ENABLED"] is True
    assert load_config("production")["MOCK_RECORDS_ENABLED"] is False
    monkeypatch.setenv("PORTAL_MOCK_RECORDS_ENABLED", "1")
    with pytest.raises(ConfigError, match="set PORTAL_DEMO_DEPLOYMENT=1") as refused:
        load_config("production")
    assert "PORTAL_MOCK_RECORDS_ENABLED" in str(refused.value)

    monkeypatch.setenv("PORTAL_DEMO_DEPLOYMENT", "1")
    config = load_config("production")
    assert config["MOCK_RECORDS_ENABLED"] is True and config["MOCK_JPKI_ENABLED"] is False


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORTAL_MALWARE_SCANNER", "eicar-test", "demo scanner"),
        ("PORTAL_TEST_CLOCK_FILE", "/tmp/clock", "test-only setting"),  # noqa: S108
        ("PORTAL_MY_NUMBER_KEY", "", "PORTAL_MY_NUMBER_KEY must be set"),
    ],
)
def test_a_demo_deployment_still_refuses_test_only_settings(
    monkeypatch, tmp_path, name, value, message
):
    production_env(monkeypatch, tmp_path)
    monkeypatch.setenv("PORTAL_DEMO_DEPLOYMENT", "1")
    monkeypatch.setenv("PORTAL_MOCK_JPKI_ENABLED", "1")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config("production")


def test_the_demo_banner_follows_the_setting(database_url, tmp_path):
    from bs4 import BeautifulSoup

    def home(env: str, **overrides) -> BeautifulSoup:
        app = create_app(
            env,
            {
                "DATABASE_URL": database_url,
                "INSTANCE_PATH": str(tmp_path),
                "SECRET_KEY": "p" * 64,
                "PUBLIC_URL": "https://portal.example.jp",
                "REDIS_URL": "redis://127.0.0.1:6379/15",
                "MY_NUMBER_KEY": "ab" * 32,
                "MALWARE_SCANNER": "clamd://127.0.0.1:3310",
                "JPKI_CLIENT_SECRET": "s" * 40,
                "TEST_CLOCK_FILE": None,
                "TESTING": env == "test",
                "MAIL_BACKEND": "smtp" if env == "production" else "outbox",
                "MAIL_SMTP_HOST": "smtp.example.jp",
                "MAIL_FROM": "noreply@isumi.example.jp",
                **overrides,
            },
        )
        response = app.test_client().get("/", base_url="https://localhost")
        assert response.status_code == 200
        return BeautifulSoup(response.text, "html.parser")

    demo = home("test")
    banner = demo.find(class_="demo-banner").get_text()
    assert "デモンストレーション用のシステムです" in banner
    assert "マイナンバーカードでのログインと電子署名は模擬（デモ）です。" in banner
    assert "（デモ）" in demo.title.get_text()

    without_mock = home("test", MOCK_JPKI_ENABLED=False).find(class_="demo-banner").get_text()
    assert "模擬" not in without_mock

    real = home("production", MOCK_JPKI_ENABLED=False, DEMO_DEPLOYMENT=False)
    assert real.find(class_="demo-banner") is None
    assert "デモ" not in real.title.get_text()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORTAL_TRUSTED_PROXIES", "one", "PORTAL_TRUSTED_PROXIES must be a whole number"),
        ("PORTAL_TRUSTED_PROXIES", "9", "PORTAL_TRUSTED_PROXIES must be the number of proxies"),
        ("PORTAL_JOB_LEASE_SECONDS", "5", "PORTAL_JOB_LEASE_SECONDS must be between"),
        ("PORTAL_INSTANCE_NAME", "web 1", "PORTAL_INSTANCE_NAME: letters, digits"),
    ],
)
def test_the_layout_settings_are_checked(monkeypatch, tmp_path, name, value, message):
    production_env(monkeypatch, tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config("production")


def test_the_layout_settings_default_to_one_direct_instance(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path)
    for name in ("PORTAL_TRUSTED_PROXIES", "PORTAL_INSTANCE_NAME", "PORTAL_JOB_LEASE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    config = load_config("production")
    assert (config["TRUSTED_PROXIES"], config["INSTANCE_NAME"]) == (0, "")
    assert config["JOB_LEASE_SECONDS"] == 1800
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", "1")
    monkeypatch.setenv("PORTAL_INSTANCE_NAME", "web-2.isumi")
    config = load_config("production")
    assert (config["TRUSTED_PROXIES"], config["INSTANCE_NAME"]) == (1, "web-2.isumi")
