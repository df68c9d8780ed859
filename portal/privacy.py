"""Keeping personal data and secrets out of logs: path redaction for access logs.

Bearer tokens travel in a few URL paths (the status page's secret link, an appointment's manage
link). Access logs record the path with those segments replaced, and never the query string.
"""

from __future__ import annotations

import re

_SECRET_PATHS = re.compile(
    r"(/status/|/appointments/manage/|/payments/p/[0-9a-f]+/|/counter/confirm/)[^/\s\"'?]+"
)


def redact_path(path: str | None) -> str:
    """The path with secret segments replaced (also works on any text that contains paths)."""
    if not path:
        return ""
    return _SECRET_PATHS.sub(r"\1[redacted]", path)
