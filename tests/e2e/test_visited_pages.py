"""The axe part of the audit of every page the browser suite visited (scripts/a11y_visited.py,
decision 0080): a recorded state the tests did not audit is shown at its own address and audited
with axe, and a violation on it is a failure of `make a11y`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

from tests import html_check
from tests.e2e import visited

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import a11y_visited  # noqa: E402 - a script's module, found on its folder

OPTIONS = json.loads((ROOT / "accessibility" / "axe-config.json").read_text())


def test_a_visited_page_with_an_axe_violation_fails(browser, live_server, tmp_path, monkeypatch):
    """Two pages a test passed through, one of them with an image without a text alternative
    (and a script that tries to leave the page): the first is clean, the second fails."""
    folder = tmp_path / "visited"
    monkeypatch.setenv(visited.ENV, "")  # restored after the test
    visited.start_run(folder)
    with_image = '<img src="/static/none.png">'
    leaving = (  # as the kiosk's idle timer does, but at once
        "<script>addEventListener('load', () => location.replace('/elsewhere'))</script>"
    )
    for path, extra, javascript in (
        ("/", "", True),
        ("/?q=x", with_image + leaving, True),
        ("/help", with_image, False),
    ):
        html = _home(live_server).replace("</main>", extra + "</main>")
        visited.keep(folder, live_server.url + path, 200, html, {"width": 412, "height": 915},
                     javascript)  # fmt: skip
    visited.finish_run(folder, documents=3, exitstatus=0, e2e_tests=1)
    result = a11y_visited.audit(
        browser, live_server.url, Axe(), OPTIONS, html_check.Batch(), folder=folder
    )
    assert result["failures"] == []
    assert result["recorded"] and result["audited_here"] == 3
    assert sorted((v["path"], v["id"]) for v in result["violations"]) == [
        ("/?q=x", "image-alt"),
        ("/help", "image-alt"),
    ]
    failures = a11y_visited.failures(result)
    assert len(failures) == 2 and all("axe image-alt" in f for f in failures)


def _home(live_server) -> str:
    import urllib.request

    with urllib.request.urlopen(live_server.url + "/") as response:  # noqa: S310 - loopback
        return response.read().decode()
