"""axe-core in the page (axe-playwright-python), with the project's configuration from
accessibility/axe-config.json, and a record of which routes have been audited.

Pages served to a context without JavaScript cannot run axe, so their DOM, exactly as served, is
copied into a JavaScript-enabled page (with a <base> so styles load) and audited there.

Each page state is audited once per run (per test worker): a state is the page's structure
(every element's tag, id, classes, role, ARIA attributes, input type and whether it holds text)
at one viewport size, with or without JavaScript. The same page shown again in the same state,
by another test or another step of the same test, is not audited again; the cheap checks
(horizontal scrolling) still run on every call. Each audited state also gets the tool checks of
the conformance report's cheap tool checks (tests/e2e/a11y_checks.py: one h1 and no skipped
heading level, landmarks, target size, status messages in live regions; about 0.01 s a state);
PORTAL_A11Y_PAGE_CHECKS=all adds the others (names, reflow at 200 % / 400 %, text spacing, forced
colours, reduced motion, and the Tab walk of focus order / focus visible and not obscured: about
1 s a state with all checks, measured 1.02 s on 50 states of test_juminhyo + test_kiosk; `make a11y`
spends it on its page sample instead).

Each audited state's markup (the DOM as the browser holds it) is also kept for the W3C Nu Html
Checker (tests/e2e/html_check.py), which validates them all in one batch when the run ends.
Pages a test only passes through are recorded as served by tests/e2e/visited.py (decision 0080);
`audit` marks the recorded state of the document it audited, so `make a11y` does not audit it
with axe again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

from tests import html_check
from tests.e2e import a11y_checks, visited

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = json.loads((ROOT / "accessibility" / "axe-config.json").read_text())
_axe = Axe()

# Paths of every page audited in this run; the route-coverage check maps them to endpoints.
AUDITED_PATHS: set[str] = set()
# Page states already audited in this process, and how many audits that saved (reported).
AUDITED_STATES: set[str] = set()
STATS = {"audited": 0, "skipped": 0}
# Seconds spent in the tool checks (tests/e2e/a11y_checks.py), per check, over this process.
CHECK_SECONDS: dict[str, float] = {}
# Which of them run on every audited state: the cheap ones (about 0.01 s a state) by default;
# PORTAL_A11Y_PAGE_CHECKS=all adds reflow, text spacing, names, forced colours, reduced motion and
# the Tab walk (about 1 s a state in all: `make a11y` runs them on its sample), =none runs none.
TOOL_CHECKS = {
    "none": (),
    "all": tuple(a11y_checks.CHECKS),
}.get(os.environ.get("PORTAL_A11Y_PAGE_CHECKS", ""), a11y_checks.CHEAP)

# Everything axe's rules read from the DOM, except the text itself (which differs between
# residents, references and dates but not between states).
_SKELETON = """() => Array.from(document.querySelectorAll('*'), (el) => [
    el.tagName, el.id, el.getAttribute('class') || '', el.getAttribute('role') || '',
    el.getAttribute('type') || '', el.getAttribute('lang') || '',
    Array.from(el.attributes).filter((a) => a.name.startsWith('aria-') || a.name === 'for'
        || a.name === 'alt' || a.name === 'title' || a.name === 'tabindex'
        || a.name === 'hidden' || a.name === 'open' || a.name === 'disabled')
      .map((a) => a.name + (a.name === 'aria-describedby' || a.name === 'aria-labelledby'
        || a.name === 'for' ? '=' + a.value : (a.value ? '+' : '-'))).join(' '),
    Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim()) ? 't' : '',
  ].join('|')).join('\\n')"""


def _format(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return "\n".join(lines)


def state_key(page, target) -> str:
    """A page's state for de-duplication: its structure (read in `target`, the page itself or
    its copy), the viewport, and whether JavaScript runs."""
    viewport = page.viewport_size or {}
    javascript = getattr(page, "portal_javascript", True)
    skeleton = target.evaluate(_SKELETON)
    key = f"{viewport.get('width')}x{viewport.get('height')} js={javascript}\n{skeleton}"
    return hashlib.sha256(key.encode()).hexdigest()


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
_NOSCRIPT = re.compile(r"<(/?)noscript\b", re.I)


def without_javascript(html: str) -> str:
    """Markup as a browser without JavaScript shows it: scripts left out (they never run) and
    <noscript> shown."""
    return _NOSCRIPT.sub(r"<\1div", _SCRIPT.sub("", html))


def show_copy(axe_page, url: str, html: str) -> None:
    """The page as a browser without JavaScript shows it, in `axe_page` (where axe's script can
    run), served at the page's own address: its stylesheet is same-origin only (CORP), so a copy
    written into about:blank was audited unstyled. Scripts are left out (they never ran) and
    <noscript> is shown as the page without JavaScript shows it."""
    copy = without_javascript(html)
    pattern = re.compile("^" + re.escape(url) + "$")
    axe_page.route(
        pattern,
        lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=copy),
    )
    try:
        axe_page.goto(url, wait_until="load")
    finally:
        axe_page.unroute(pattern)


def audit(page, axe_page) -> None:
    page.wait_for_load_state("load")
    url = page.url
    if getattr(page, "portal_javascript", True):
        target = page
    else:  # scripts cannot run here: audit and measure a copy of the DOM as served
        axe_page.set_viewport_size(page.viewport_size or {"width": 1280, "height": 800})
        show_copy(axe_page, url, page.content())
        target = axe_page
    key = state_key(page, target)
    if key in AUDITED_STATES:
        STATS["skipped"] += 1
    else:
        results = _axe.run(target, options=OPTIONS)
        violations = results.response["violations"]
        assert not violations, f"axe violations on {url}:\n{_format(violations)}"
        if TOOL_CHECKS:
            problems = {
                name: found
                for name, found in a11y_checks.run_all(
                    target, timings=CHECK_SECONDS, only=TOOL_CHECKS
                ).items()
                if found
            }
            assert not problems, f"tool checks failed on {url}: {problems}"
        html_check.keep(url, page.content())
        AUDITED_STATES.add(key)
        STATS["audited"] += 1
    visited.audited(page)
    overflow = target.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{url} scrolls horizontally by {overflow}px"
    AUDITED_PATHS.add(urlsplit(url).path)
