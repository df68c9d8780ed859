"""Target size on kiosk pages (issue 20): every visible interactive element is at least 44 × 44
CSS px, a stricter bar than WCAG 2.2's 24 px minimum (2.5.8) and axe's target-size rule, as a
public touch screen needs (WCAG 2.5.5, AAA). A radio button or checkbox counts with its label
(the label is the target a finger presses); text inputs count their own box."""

from __future__ import annotations

MINIMUM = 44

_SMALL_TARGETS = """(minimum) => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[role=button], [role=link], [tabindex]:not([tabindex="-1"])';
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.getClientRects().length || el.closest('dialog:not([open])')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('.visually-hidden')) continue;
    if (el.classList.contains('skip-link') && el !== document.activeElement) continue;
    let box = el.getBoundingClientRect();
    if (el.type === 'radio' || el.type === 'checkbox') {
      const label = el.labels && el.labels[0];
      if (label) {
        const l = label.getBoundingClientRect();
        const left = Math.min(box.left, l.left), top = Math.min(box.top, l.top);
        box = {width: Math.max(box.right, l.right) - left, height: Math.max(box.bottom, l.bottom) - top};
      }
    }
    if (box.width < minimum - 0.5 || box.height < minimum - 0.5) {
      const name = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '').trim();
      small.push(`${el.tagName.toLowerCase()} "${name.slice(0, 30)}" ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}"""


def assert_targets(page, minimum: int = MINIMUM) -> None:
    """Every interactive element the page shows is at least `minimum` CSS px square."""
    small = page.evaluate(_SMALL_TARGETS, minimum)
    assert not small, f"targets smaller than {minimum}×{minimum} px on {page.url}: {small}"


def assert_kiosk_page(page) -> None:
    """A kiosk page: 44 px targets, and nothing that leaves the kiosk (no download link, no
    new window, no link to another site)."""
    assert_targets(page)
    leaving = page.evaluate(
        """() => Array.from(document.querySelectorAll('a[href], form[action]'))
            .filter((el) => el.hasAttribute('download') || el.hasAttribute('target')
                || new URL(el.href || el.action, location.href).origin !== location.origin)
            .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert not leaving, f"{page.url} leaves the kiosk: {leaving}"
