"""Cheap tool checks of one page, beyond axe (issue 26), used by `make a11y` (scripts/a11y.py).

Each check returns a list of problems (empty: passed). They read the page as shown and leave it
as they found it (viewport, emulated media and injected styles are put back), so they can run one
after another on the same page, in any order:

- headings: exactly one visible h1, and no heading level skipped on the way down (1.3.1, 2.4.6);
- landmarks: one main, a banner and a contentinfo, no visible text outside a landmark (1.3.1,
  2.4.1);
- names: every control in Chromium's accessibility tree has a name (4.1.2, 2.4.4, 3.3.2);
- targets: every target at least 24 CSS px square, or spaced as 2.5.8 allows; 44 px on kiosk
  pages (the kiosk's own bar, tests/e2e/targets.py);
- reflow: no horizontal scrolling at 640 and 320 CSS px wide (200 % and 400 % zoom of a
  1280 px window; 1.4.10, 1.4.4);
- text_spacing: 1.4.12's spacing applied to every element clips no text and adds no horizontal
  scrolling;
- forced_colors, reduced_motion: the page, shown with those preferences, renders (a body with
  content) and throws no script error.
"""

from __future__ import annotations

import time

from tests.e2e.targets import _SMALL_TARGETS

KIOSK_MINIMUM = 44
MINIMUM = 24

_HEADINGS = """() => {
  const seen = (el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden';
  const all = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6')).filter(seen)
    .filter((el) => !el.closest('dialog:not([open])'));
  const problems = [];
  const h1 = all.filter((el) => el.tagName === 'H1');
  if (h1.length !== 1) problems.push(`${h1.length} visible h1 elements (one expected)`);
  let previous = 0;
  for (const el of all) {
    const level = Number(el.tagName[1]);
    if (level > previous + 1 && previous > 0) {
      problems.push(`h${level} "${el.textContent.trim().slice(0, 40)}" follows h${previous}`);
    }
    previous = level;
  }
  return problems;
}"""

_LANDMARKS = """() => {
  const problems = [];
  const count = (selector) => Array.from(document.querySelectorAll(selector))
    .filter((el) => el.getClientRects().length).length;
  const mains = count('main, [role=main]');
  if (mains !== 1) problems.push(`${mains} main landmarks (one expected)`);
  const topLevel = (selector) => Array.from(document.querySelectorAll(selector))
    .filter((el) => !el.parentElement.closest('article, aside, main, nav, section')).length;
  if (topLevel('header, [role=banner]') < 1) problems.push('no banner (page header)');
  if (topLevel('footer, [role=contentinfo]') < 1) problems.push('no contentinfo (page footer)');
  const landmark = 'header, footer, main, nav, aside, dialog, [role=banner], [role=contentinfo], '
    + '[role=main], [role=navigation], [role=complementary], [role=region], [role=search]';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const outside = new Set();
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest(landmark)) continue;
    if (el.closest('script, style, noscript, template, .skip-link, .visually-hidden')) continue;
    if (!el.getClientRects().length) continue;
    outside.add(`"${node.textContent.trim().slice(0, 40)}"`);
  }
  if (outside.size) problems.push(`text outside every landmark: ${Array.from(outside).slice(0, 5)}`);
  return problems;
}"""

# Roles whose nodes a person operates: each needs a name.
_CONTROL_ROLES = {
    "button", "link", "textbox", "searchbox", "combobox", "listbox", "checkbox", "radio",
    "spinbutton", "slider", "switch", "menuitem", "tab", "option", "radiogroup", "dialog",
    "alertdialog",
}  # fmt: skip

_SPACING = """
  * { line-height: 1.5 !important; letter-spacing: 0.12em !important;
      word-spacing: 0.16em !important; }
  p { margin-bottom: 2em !important; }
"""

_CLIPPED = """() => {
  const clipped = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.getClientRects().length || el.closest('.visually-hidden, .skip-link')) continue;
    if (!Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const style = getComputedStyle(el);
    const hides = (v) => v === 'hidden' || v === 'clip';
    if (el.clientWidth <= 1 || el.clientHeight <= 1) continue;
    if ((hides(style.overflowY) && el.scrollHeight > el.clientHeight + 1)
        || (hides(style.overflowX) && el.scrollWidth > el.clientWidth + 1)) {
      clipped.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}"`);
    }
  }
  return clipped;
}"""

_OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def headings(page) -> list[str]:
    return page.evaluate(_HEADINGS)


def landmarks(page) -> list[str]:
    return page.evaluate(_LANDMARKS)


def names(page) -> list[str]:
    """Controls without an accessible name, as Chromium computes it (its accessibility tree)."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    problems = []
    for node in nodes:
        role = (node.get("role") or {}).get("value")
        if node.get("ignored") or role not in _CONTROL_ROLES:
            continue
        name = ((node.get("name") or {}).get("value") or "").strip()
        if not name:
            problems.append(f"a {role} without an accessible name (node {node.get('nodeId')})")
    return problems


def targets(page, kiosk: bool = False) -> list[str]:
    """Targets under 24 px (44 px on kiosk pages). Under 24 px a target still passes 2.5.8 when it
    sits inside a sentence or a 24 px circle on it meets no other target (the spacing rule)."""
    if kiosk:
        return page.evaluate(_SMALL_TARGETS, KIOSK_MINIMUM)
    small = page.evaluate(
        """(minimum) => {
      const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
        + '[role=button], [role=link]';
      const shown = (el) => el.getClientRects().length && !el.closest('dialog:not([open])')
        && getComputedStyle(el).visibility !== 'hidden' && !el.closest('.visually-hidden')
        && !(el.classList.contains('skip-link') && el !== document.activeElement);
      const all = Array.from(document.querySelectorAll(selector)).filter(shown);
      const boxes = all.map((el) => el.getBoundingClientRect());
      const small = [];
      all.forEach((el, i) => {
        const box = boxes[i];
        if (box.width >= minimum - 0.5 && box.height >= minimum - 0.5) return;
        if (el.type === 'radio' || el.type === 'checkbox') {
          const label = el.labels && el.labels[0];
          if (label && label.getBoundingClientRect().height >= minimum - 0.5) return;
        }
        // Inline: a link inside running text (its block has text of its own besides the link).
        const block = el.closest('p, li, dd, td, span, label');
        if (el.tagName === 'A' && block && block !== el
            && block.textContent.trim().length > el.textContent.trim().length) return;
        // Spacing: a 24 px circle centred on the target meets no other target.
        const cx = box.left + box.width / 2, cy = box.top + box.height / 2, r = minimum / 2;
        const clear = boxes.every((other, j) => {
          if (j === i || all[j].contains(el) || el.contains(all[j])) return true;
          const nx = Math.max(other.left, Math.min(cx, other.right));
          const ny = Math.max(other.top, Math.min(cy, other.bottom));
          return (nx - cx) ** 2 + (ny - cy) ** 2 >= r * r;
        });
        if (clear) return;
        const name = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
        small.push(`${el.tagName.toLowerCase()} "${name.slice(0, 30)}" `
          + `${Math.round(box.width)}×${Math.round(box.height)}`);
      });
      return small;
    }""",
        MINIMUM,
    )
    return [f"target smaller than 24 px and too close to another: {s}" for s in small]


def reflow(page) -> list[str]:
    """No horizontal scrolling at 640 × 360 and 320 × 256 CSS px (a 1280 × 720 or 1280 × 1024
    window at 200 % and 400 %)."""
    original = page.viewport_size
    problems = []
    try:
        for zoom, size in (("200 %", {"width": 640, "height": 360}),
                           ("400 %", {"width": 320, "height": 256})):  # fmt: skip
            page.set_viewport_size(size)
            overflow = page.evaluate(_OVERFLOW)
            if overflow > 0:
                problems.append(
                    f"scrolls horizontally by {overflow} px at {zoom} ({size['width']} px)"
                )
    finally:
        if original:
            page.set_viewport_size(original)
    return problems


def text_spacing(page) -> list[str]:
    handle = page.add_style_tag(content=_SPACING)
    try:
        problems = [f"text clipped with 1.4.12 spacing: {c}" for c in page.evaluate(_CLIPPED)]
        overflow = page.evaluate(_OVERFLOW)
        if overflow > 0:
            problems.append(f"scrolls horizontally by {overflow} px with 1.4.12 spacing")
    finally:
        handle.evaluate("(el) => el.remove()")
    return problems


def _renders(page, errors: list[str], what: str) -> list[str]:
    problems = [f"script error with {what}: {e}" for e in errors]
    size = page.evaluate(
        "() => [document.body.getBoundingClientRect().height, document.body.innerText.trim().length]"
    )
    if size[0] <= 0 or size[1] == 0:
        problems.append(f"nothing rendered with {what}")
    return problems


_NEUTRAL = {"forced_colors": "none", "reduced_motion": "no-preference"}


def _with_media(page, what: str, **media) -> list[str]:
    """Show the page with the emulated preference for two frames (media listeners run before
    the first frame's animation callbacks), collecting uncaught script errors in the page."""
    page.evaluate(
        """() => { window.__a11yErrors = [];
          window.__a11yOnError = (e) => window.__a11yErrors.push(String(e.message));
          window.addEventListener('error', window.__a11yOnError); }"""
    )
    try:
        page.emulate_media(**media)
        errors = page.evaluate(
            """() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(
              () => done(window.__a11yErrors.map((m) => m.slice(0, 200))))))"""
        )
        return _renders(page, errors, what)
    finally:
        page.emulate_media(**{key: _NEUTRAL[key] for key in media})
        page.evaluate("() => window.removeEventListener('error', window.__a11yOnError)")


def forced_colors(page) -> list[str]:
    return _with_media(page, "forced colours", forced_colors="active")


def reduced_motion(page) -> list[str]:
    return _with_media(page, "reduced motion", reduced_motion="reduce")


CHECKS = {
    "headings": headings,
    "landmarks": landmarks,
    "names": names,
    "targets": targets,
    "reflow": reflow,
    "text-spacing": text_spacing,
    "forced-colors": forced_colors,
    "reduced-motion": reduced_motion,
}


def is_kiosk(page) -> bool:
    """A page shown on a registered kiosk terminal (the layout marks its body)."""
    return page.evaluate("() => document.body.classList.contains('kiosk')")


# The checks that cost next to nothing (one DOM walk each): the browser suite runs them on every
# page state it audits (tests/e2e/axe.py).
CHEAP = ("headings", "landmarks", "targets")


def run_all(
    page, kiosk: bool | None = None, timings: dict | None = None, only=None
) -> dict[str, list[str]]:
    """Every check (or those named in `only`) on the page as shown: {check: problems}. `kiosk`
    None: as the page says. `timings`, when given, receives each check's seconds (summed)."""
    if kiosk is None:
        kiosk = is_kiosk(page)
    results = {}
    for name, check in CHECKS.items():
        if only is not None and name not in only:
            continue
        started = time.perf_counter()
        results[name] = check(page, kiosk) if name == "targets" else check(page)
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
    return results
