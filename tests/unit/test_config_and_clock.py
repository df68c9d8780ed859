"""Configuration refuses unsafe production settings; the one clock can be set by tests."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import clock, create_app
from portal.config import ConfigError, load_config


def test_production_refuses_the_test_clock(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
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
    monkeypatch.setenv("PORTAL_MY_NUMBER_KEY", "ab" * 32)
    monkeypatch.setenv("PORTAL_MALWARE_SCANNER", "clamd://127.0.0.1:3310")
    monkeypatch.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    monkeypatch.delenv("PORTAL_TEST_CLOCK_FILE", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite3'}")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["TESTING"] is False


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
    monkeypatch.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    monkeypatch.setenv("PORTAL_MY_NUMBER_KEY", "ab" * 32)
    monkeypatch.delenv("PORTAL_TEST_CLOCK_FILE", raising=False)
    monkeypatch.delenv("PORTAL_MALWARE_SCANNER", raising=False)
    with pytest.raises(ConfigError, match="demo scanner"):
        load_config("production")


def test_production_requires_a_my_number_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "p" * 64)
    monkeypatch.setenv("PORTAL_JPKI_CLIENT_SECRET", "s" * 40)
    monkeypatch.delenv("PORTAL_MY_NUMBER_KEY", raising=False)
    monkeypatch.delenv("PORTAL_TEST_CLOCK_FILE", raising=False)
    with pytest.raises(ConfigError, match="PORTAL_MY_NUMBER_KEY must be set"):
        load_config("production")
