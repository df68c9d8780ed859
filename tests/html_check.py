"""The W3C Nu Html Checker (vnu.jar) over every page the tests looked at.

Browser tests keep the markup of each page state they audit with axe (tests/e2e/axe.py), and
Flask test-client tests keep each page they check with `check_page` (tests/conftest.py), markup
exactly as served. Identical pages (after CSRF tokens and nonces are blanked) are kept once. When
the run (or, under pytest-xdist, each worker) ends, all of them are validated in one batch, one
Java process, and every error fails the run with the page's address (tests/conftest.py).

The checker is installed by `make browser` (scripts/ensure-html-checker.py); a run without it
fails and says how to install it, never passes unchecked.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Values that differ between otherwise identical pages.
_VOLATILE = re.compile(rb'((?:nonce|value|content)=")[A-Za-z0-9_\-.=+/]{20,}(")')


class Batch:
    """Pages kept for one run of the checker."""

    def __init__(self) -> None:
        self.kept: dict[str, str] = {}  # file name -> the page's address
        self.seen: set[str] = set()
        self.folder: Path | None = None

    def keep(self, url: str, html: str | bytes) -> None:
        """Keeps one page's markup for the batch."""
        body = html.encode() if isinstance(html, str) else html
        digest = hashlib.sha256(_VOLATILE.sub(rb"\1\2", body)).hexdigest()
        if digest in self.seen:
            return
        self.seen.add(digest)
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="portal-html-check-"))
        name = f"{len(self.kept):05d}.html"
        (self.folder / name).write_bytes(body)
        self.kept[name] = url

    def validate(self) -> tuple[int, list[str]]:
        """Validates every kept page; returns how many were checked and one line per error."""
        return _validate(self.kept, self.folder)


_run = Batch()  # the run's (this process's) batch


def keep(url: str, html: str | bytes) -> None:
    """Keeps one page's markup for the batch at the end of the run."""
    _run.keep(url, html)


def jar() -> Path | None:
    found = sorted((ROOT / ".venv" / "share" / "vnu").glob("vnu-*.jar"))
    return found[-1] if found else None


def validate() -> tuple[int, list[str]]:
    """Validates every page kept for the run; returns how many were checked and one line per
    error."""
    return _run.validate()


def _validate(kept: dict[str, str], folder: Path | None) -> tuple[int, list[str]]:
    if not kept or folder is None:
        return 0, []
    checker, java = jar(), shutil.which("java")
    if checker is None or java is None:
        return len(kept), [
            "the Nu Html Checker is not installed (Java and vnu.jar): run `make browser`"
        ]
    result = subprocess.run(
        [
            java,
            "-jar",
            str(checker),
            "--errors-only",
            "--format",
            "json",
            "--exit-zero-always",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    try:
        messages = json.loads(result.stderr or result.stdout)["messages"]
    except (ValueError, KeyError):
        return len(kept), [f"the Nu Html Checker failed: {(result.stderr or result.stdout)[:500]}"]
    errors = []
    for message in messages:
        if message.get("type") not in ("error", "non-document-error"):
            continue
        page = kept.get(Path(message.get("url", "")).name, message.get("url", "?"))
        extract = " ".join((message.get("extract") or "").split())[:120]
        errors.append(
            f"{page} line {message.get('lastLine', '?')}: {message['message']} [{extract}]"
        )
    shutil.rmtree(folder, ignore_errors=True)
    return len(kept), errors
