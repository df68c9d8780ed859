"""The portal's one clock.

Everything that needs the time calls `portal.clock.now()` (aware, UTC) or `today_local()` (the date
in Asia/Tokyo). Tests set the time with `set_override()` in-process, or, for a server process
started by the browser tests, by writing an ISO datetime into the file named by the test-only
setting PORTAL_TEST_CLOCK_FILE (shared by every worker). Production refuses that setting at start.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
UTC = dt.UTC

_override: dt.datetime | None = None
_override_file: Path | None = None


def configure(test_clock_file: str | None) -> None:
    """Called by create_app(): point the clock at the test clock file (tests only)."""
    global _override_file
    _override_file = Path(test_clock_file) if test_clock_file else None


def set_override(value: dt.datetime | None) -> None:
    """Freeze the clock in this process (unit tests). None restores the real time."""
    global _override
    if value is not None and value.tzinfo is None:
        raise ValueError("clock override must be timezone-aware")
    _override = value


def _from_file() -> dt.datetime | None:
    if _override_file is None:
        return None
    try:
        text = _override_file.read_text().strip()
    except FileNotFoundError:
        return None
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=TOKYO)


def now() -> dt.datetime:
    """The current time, aware, in UTC."""
    value = _override or _from_file() or dt.datetime.now(UTC)
    return value.astimezone(UTC)


def today_local() -> dt.date:
    """Today's date in Asia/Tokyo: the date a resident means."""
    return now().astimezone(TOKYO).date()


def to_local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(TOKYO)
