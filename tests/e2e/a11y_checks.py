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
  content) and throws no script error;
- status_messages: every status message on the page (error summary, a notice of what just
  happened, the flash) is in a live region (role=alert/status/log, aria-live, output) or gets the
  focus when the page loads, and the live regions the scripts fill (the timeout warning's, the
  conditional questions', the postcode look-up's) exist and are live (4.1.3; decision 0068);
- language_of_parts (REVIEW: found by the tool, judged by a person): on a page not in Japanese,
  Japanese text is marked lang="ja" and an English fallback lang="en" (3.1.2; decision 0075);
- focus_order, focus_visible: one Tab walk through the page (at most FOCUS_STOPS = 100 stops): each
  step goes forward in reading order (down, or right on the same row; 2.4.3), and each stop shows
  a focus indicator (outline, box shadow, background or border different from the element
  unfocused; 2.4.7) and is not wholly covered by a fixed or sticky element (2.4.11). The walk
  presses Tab about once a stop (about 0.5 s a page): `make a11y`'s sample and
  PORTAL_A11Y_PAGE_CHECKS=all only.
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


_STATUS = """() => {
  const problems = [];
  const live = '[role=alert], [role=status], [role=log], [role=alertdialog], output, '
    + '[aria-live=polite], [aria-live=assertive]';
  const shown = (el) => el.getClientRects().length && !el.closest('dialog:not([open])');
  const text = (el) => `"${el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40)}"`;
  // The page's own focus on load: the element given it, if it is the field in error, counts.
  const landing = document.querySelector('[autofocus]') || document.activeElement;
  const fieldInError = landing && landing.getAttribute('aria-invalid') === 'true';
  for (const el of document.querySelectorAll(
      '.error-summary, .notice--status, .notice--error, .flash, [data-status-message]')) {
    if (!shown(el) || el.closest(live)) continue;
    const focused = el.hasAttribute('autofocus') || el.hasAttribute('data-error-summary')
      || el.contains(document.activeElement);
    if (focused || (el.classList.contains('error-summary') && fieldInError)) continue;
    problems.push(`status message not in a live region and not focused: ${text(el)}`);
  }
  const mustBeLive = [
    ['#session-timeout', '#session-timeout-status', "the login timeout's status"],
    ['#session-timeout', '#session-timeout [data-announce]', "the login timeout's countdown"],
    ['[data-conditional]', '[data-conditional-announcer]', "the conditional questions' announcer"],
    ['[data-postal-status]', '[data-postal-status]', "the postcode look-up's status"],
  ];
  for (const [when, selector, what] of mustBeLive) {
    if (!document.querySelector(when)) continue;
    // The conditional questions' announcer is made by portal.js: none without scripts.
    if (selector.includes('conditional') && !document.querySelector(selector)) continue;
    const el = document.querySelector(selector);
    if (!el) { problems.push(`no live region for ${what}`); continue; }
    if (!el.closest(live)) problems.push(`${what} is not a live region`);
  }
  for (const dialog of document.querySelectorAll('#session-timeout, #kiosk-timeout')) {
    if (dialog.getAttribute('role') !== 'alertdialog') {
      problems.push(`the time-limit warning #${dialog.id} is not an alertdialog`);
    }
  }
  return problems;
}"""


_LANGUAGE_OF_PARTS = r"""() => {
  const primary = (tag) => (tag || '').toLowerCase().split('-')[0];
  const page = primary(document.documentElement.getAttribute('lang'));
  if (!page || page === 'ja') return [];
  // A text in Japanese: at least half its letters are kana, or kana and Han characters on a page
  // not in Chinese (on a Chinese page Han characters are Chinese). A translation naming a
  // Japanese office or form in passing (「住民票の写し」, いすみ市) is not: 3.1.2 exempts proper
  // names and technical terms.
  const JAPANESE = page === 'zh' ? /[\u3041-\u3096\u30a1-\u30fa\u30fc]/g
    : /[\u3041-\u3096\u30a1-\u30fa\u30fc\u3400-\u9fff]/g;
  const LETTER = /[\p{L}\p{M}]/gu;
  const japanese = (whole) => {
    // An official Japanese name in parentheses after its translation (decision 0066) is a name.
    const bare = whole.replace(/[(（][^()（）]*[)）]/g, '');
    const text = (bare.match(LETTER) || []).length ? bare : whole;
    const found = (text.match(JAPANESE) || []).length;
    return found > 0 && found * 2 >= (text.match(LETTER) || []).length;
  };
  // The page's own script: a text without it, in English words, is an English fallback.
  const OWN = {zh: /[\u3400-\u9fff]/, ko: /[\uac00-\ud7af\u1100-\u11ff]/,
               ne: /[\u0900-\u097f]/}[page];
  const ENGLISH_WORDS = new Set(['the', 'and', 'of', 'to', 'is', 'are', 'you', 'your', 'this',
    'for', 'with', 'be', 'can', 'not', 'will', 'it', 'was', 'has', 'have', 'in', 'on', 'or']);
  const english = (text) => {
    const words = text.match(/[A-Za-z]{2,}/g) || [];
    if (page === 'en' || words.length < 2 || /[^\x00-\x7f\u2000-\u206f]/.test(text.replace(
      /[\u3000-\u303f\uff01-\uff60]/g, ''))) return false;
    if (OWN) return words.some((w) => w !== w.toUpperCase());  // not a name in capitals
    // Latin-script pages (vi, pt): English by its function words.
    return new Set(words.map((w) => w.toLowerCase()).filter((w) => ENGLISH_WORDS.has(w))).size >= 2;
  };
  const langOf = (el) => primary((el.closest('[lang]') || document.documentElement)
    .getAttribute('lang'));
  const excepted = (el) => el.closest('textarea, script, style, noscript, template, '
    + '[data-translation-notice] a, [data-translation-notice] button');
  const shown = (el) => !el.checkVisibility || el.checkVisibility();
  const problems = [];
  const note = (what, el, text) => {
    if (problems.length < 10) problems.push(`${what}: "${text.trim().slice(0, 50)}" in <${
      el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className
      === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}>`);
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement, text = node.textContent;
    if (!text.trim() || !el || excepted(el) || !shown(el)) continue;
    // Only where the text is said to be in the page's language: a part marked with a language
    // of its own (the language menu's 简体中文) is taken at its word.
    if (langOf(el) !== page) continue;
    if (japanese(text)) note('Japanese not marked lang="ja"', el, text);
    else if (english(text)) note('English not marked lang="en"', el, text);
  }
  for (const name of ['aria-label', 'title', 'alt', 'placeholder']) {
    for (const el of document.body.querySelectorAll(`[${name}]`)) {
      const text = el.getAttribute(name);
      if (excepted(el) || !japanese(text) || langOf(el) !== page) continue;
      note(`Japanese ${name} not marked lang="ja"`, el, text);
    }
  }
  return problems;
}"""


def language_of_parts(page) -> list[str]:
    """3.1.2 on a page not in Japanese (decision 0075): a text in Japanese (at least half its
    letters kana, or kana and Han characters on a page not in Chinese; a Japanese name in a
    translation is not: 3.1.2 exempts proper names) sits in an element marked lang="ja", and so
    does an aria-label, title, alt or placeholder in Japanese; an English text shown in place of a
    translation (on a page in Chinese, Korean or Nepali: words in Latin letters and none of the
    page's script; in Vietnamese or Portuguese: English function words) sits in one marked
    lang="en". Excepted: what a textarea holds and the way back to the Japanese original. One
    DOM walk."""
    return page.evaluate(_LANGUAGE_OF_PARTS)


def status_messages(page) -> list[str]:
    return page.evaluate(_STATUS)


# At most this many Tab presses a page: enough for every page type's controls (the longest lists
# are cut short, which the walk reports in its timing only, not as a problem).
FOCUS_STOPS = 100

_WALK_START = """() => {
  window.__a11yFocus = { active: document.activeElement, x: scrollX, y: scrollY, seen: [] };
  const start = document.createElement('span');
  start.tabIndex = -1;
  start.setAttribute('data-a11y-walk-start', '');
  const dialog = document.querySelector('dialog[open]');
  (dialog && dialog.matches(':modal') ? dialog : document.body).prepend(start);
  start.focus({ preventScroll: true });
}"""

# One stop of the walk: where the focused element is (document coordinates; its label's box for a
# control drawn by its label), whether its look differs from its unfocused look, and whether a
# fixed or sticky element covers it wholly.
_WALK_STOP = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el.hasAttribute('data-a11y-walk-start')) return null;
  if (window.__a11yFocus.seen.includes(el)) return null;  // round again (a modal dialog)
  window.__a11yFocus.seen.push(el);
  const describe = (e) => {
    const name = (e.innerText || e.value || e.getAttribute('aria-label') || '').trim();
    return `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} "${name.slice(0, 30)}"`;
  };
  let box = el.getBoundingClientRect();
  if ((box.width <= 1 || box.height <= 1) && el.labels && el.labels[0]) {
    box = el.labels[0].getBoundingClientRect();
  }
  // Look: the element, its label and its parent (an indicator may be drawn on either).
  const parts = [el, el.labels && el.labels[0], el.parentElement].filter(Boolean);
  const look = () => parts.map((e) => {
    const s = getComputedStyle(e);
    return [s.outlineStyle === 'none' ? 'none' : `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
      s.boxShadow, s.backgroundColor, s.borderTopColor, s.borderBottomColor, s.borderBottomWidth,
      s.color, s.textDecorationLine].join('|');
  });
  const focused = look();
  const outline = getComputedStyle(el);
  const visibleOutline = outline.outlineStyle !== 'none' && parseFloat(outline.outlineWidth) > 0;
  // Covered: the centre and the four corners (a pixel in) hit only fixed or sticky elements
  // that are not the focused element, an ancestor or a descendant of it.
  const inset = (a, b) => (a < b ? a + 1 : a - 1);
  const points = [[(box.left + box.right) / 2, (box.top + box.bottom) / 2],
    [inset(box.left, box.right), inset(box.top, box.bottom)],
    [inset(box.right, box.left), inset(box.top, box.bottom)],
    [inset(box.left, box.right), inset(box.bottom, box.top)],
    [inset(box.right, box.left), inset(box.bottom, box.top)]];
  const pinned = (e) => {
    for (let n = e; n && n !== document.body; n = n.parentElement) {
      const p = getComputedStyle(n).position;
      if (p === 'fixed' || p === 'sticky') return n;
    }
    return null;
  };
  let covered = 0, by = null;
  for (const [x, y] of points) {
    const hit = document.elementFromPoint(x, y);
    if (!hit || hit === el || el.contains(hit) || hit.contains(el)
        || (el.labels && Array.from(el.labels).some((l) => l.contains(hit)))) continue;
    const cover = pinned(hit);
    if (cover && !cover.contains(el)) { covered += 1; by = by || cover; }
  }
  el.blur();
  const unfocused = look();
  el.focus({ preventScroll: true });
  return {
    what: describe(el),
    top: box.top + scrollY, bottom: box.bottom + scrollY,
    left: box.left + scrollX, right: box.right + scrollX,
    indicator: visibleOutline || focused.some((v, i) => v !== unfocused[i]),
    covered: covered === points.length ? describe(by) : null,
  };
}"""

_WALK_END = """() => {
  for (const el of document.querySelectorAll('[data-a11y-walk-start]')) el.remove();
  const saved = window.__a11yFocus || {};
  if (saved.active && saved.active !== document.body && saved.active.isConnected) {
    saved.active.focus({ preventScroll: true });
  } else if (document.activeElement) {
    document.activeElement.blur();
  }
  scrollTo(saved.x || 0, saved.y || 0);
  delete window.__a11yFocus;
}"""


def tab_walk(page, limit: int = FOCUS_STOPS) -> list[dict]:
    """Press Tab from the top of the page (or of an open modal dialog) until the focus comes back
    to a stop already seen, leaves the page, or `limit` stops: each stop as _WALK_STOP reads it."""
    page.evaluate(_WALK_START)
    stops: list[dict] = []
    try:
        for _ in range(limit):
            page.keyboard.press("Tab")
            stop = page.evaluate(_WALK_STOP)
            if stop is None:
                break
            stops.append(stop)
    finally:
        page.evaluate(_WALK_END)
    return stops


def _same_row(a: dict, b: dict) -> bool:
    overlap = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    smaller = max(1.0, min(a["bottom"] - a["top"], b["bottom"] - b["top"]))
    return overlap >= 0.5 * smaller


def focus_order(page, walk: list[dict] | None = None) -> list[str]:
    """Each Tab goes forward in reading order: to a later row, or rightwards on the same row
    (2 px of tolerance; boxes overlapping by half the smaller height share a row); a stop without
    a box (drawn nowhere) is not compared; no element has a positive tabindex."""
    stops = [s for s in (tab_walk(page) if walk is None else walk) if s["bottom"] > s["top"]]
    # The walk starts at the top of the page, as if from its first element: an element with a
    # positive tabindex (which a person's first Tab would reach before it) is named as such.
    problems = [
        f"positive tabindex puts {what} out of the page's order"
        for what in page.evaluate(
            """() => Array.from(document.querySelectorAll('[tabindex]'))
              .filter((el) => el.tabIndex > 0 && el.getClientRects().length)
              .map((el) => `${el.tagName.toLowerCase()} "${(el.innerText || '').trim().slice(0, 30)}"`)"""
        )
    ]
    for a, b in zip(stops, stops[1:]):
        same_row = _same_row(a, b)
        if (same_row and b["left"] < a["left"] - 2) or (
            not same_row and b["bottom"] <= a["top"] + 2
        ):
            problems.append(f"focus goes back from {a['what']} to {b['what']}")
    return problems


def focus_visible(page, walk: list[dict] | None = None) -> list[str]:
    problems = []
    for stop in tab_walk(page) if walk is None else walk:
        if not stop["indicator"]:
            problems.append(f"no visible focus indicator on {stop['what']}")
        if stop["covered"]:
            problems.append(f"{stop['what']} hidden behind {stop['covered']} when focused")
    return problems


# Checks whose findings a person judges (the report lists them beside axe's "needs review"): they
# guess a text's language from its script and words, which a tool cannot decide alone.
REVIEW = {"language-of-parts": language_of_parts}

CHECKS = {
    "headings": headings,
    "landmarks": landmarks,
    "names": names,
    "targets": targets,
    "reflow": reflow,
    "text-spacing": text_spacing,
    "forced-colors": forced_colors,
    "reduced-motion": reduced_motion,
    "status-messages": status_messages,
    "focus-order": focus_order,
    "focus-visible": focus_visible,
}

_FOCUS = ("focus-order", "focus-visible")


def is_kiosk(page) -> bool:
    """A page shown on a registered kiosk terminal (the layout marks its body)."""
    return page.evaluate("() => document.body.classList.contains('kiosk')")


# The checks that cost next to nothing (one DOM walk each): the browser suite runs them on every
# page state it audits (tests/e2e/axe.py).
CHEAP = ("headings", "landmarks", "targets", "status-messages")


def run_all(
    page, kiosk: bool | None = None, timings: dict | None = None, only=None
) -> dict[str, list[str]]:
    """Every check (or those named in `only`) on the page as shown: {check: problems}. `kiosk`
    None: as the page says. `timings`, when given, receives each check's seconds (summed)."""
    if kiosk is None:
        kiosk = is_kiosk(page)
    results = {}
    walk = None  # the focus checks share one Tab walk
    for name, check in CHECKS.items():
        if only is not None and name not in only:
            continue
        started = time.perf_counter()
        if name in _FOCUS:
            if walk is None:
                walk = tab_walk(page)
            results[name] = check(page, walk)
        else:
            results[name] = check(page, kiosk) if name == "targets" else check(page)
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
    return results
