"""axe-core in the page (axe-playwright-python), with the project's configuration from
accessibility/axe-config.json, and a record of which routes have been audited.

Pages served to a context without JavaScript cannot run axe, so their DOM, exactly as served, is
copied into a JavaScript-enabled page (with a <base> so styles load) and audited there.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = json.loads((ROOT / "accessibility" / "axe-config.json").read_text())
_axe = Axe()

# Paths of every page audited in this run; the route-coverage test maps them to endpoints.
AUDITED_PATHS: set[str] = set()


def _format(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return "\n".join(lines)


def audit(page, axe_page) -> None:
    page.wait_for_load_state("load")
    url = page.url
    if getattr(page, "portal_javascript", True):
        target = page
    else:
        html = page.content().replace("<head>", f'<head><base href="{url}">', 1)
        axe_page.set_content(html, wait_until="load")
        target = axe_page
    results = _axe.run(target, options=OPTIONS)
    violations = results.response["violations"]
    assert not violations, f"axe violations on {url}:\n{_format(violations)}"
    overflow = target.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{url} scrolls horizontally by {overflow}px"
    AUDITED_PATHS.add(urlsplit(url).path)
