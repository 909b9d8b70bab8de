"""What a person can hit and read, measured in the browser: every visible control's box and every visible text's
computed size (issue #28: on the lobby and the technician's phone every control is at least 48x48 px; lobby text
at least 18 px, staff text at least 16 px).

One place for the rule, used by every page's test, so the lobby and the staff app are measured alike.
"""

from __future__ import annotations

from playwright.sync_api import Page

MIN_TARGET_PX = 48
MIN_LOBBY_TEXT_PX = 18
MIN_STAFF_TEXT_PX = 16

CONTROLS = "button, input, select, textarea, summary, a[href], [role=button], [role=radio], [role=tab], [role=link]"

_SMALL_TARGETS = """([min, selector]) => {
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    if (el.type === 'hidden') continue;
    if (el.matches('[data-testid=stSkipToContent]')) continue;  // shown only while focused, then large
    if (el.tagName !== 'SUMMARY' && el.closest('details:not([open])')) continue;  // folded away
    // A native radio or checkbox is hidden behind its label: the label is what a finger hits.
    let box = el.getBoundingClientRect();
    if ((el.type === 'radio' || el.type === 'checkbox') && el.closest('label')) {
      box = el.closest('label').getBoundingClientRect();
    }
    if (box.width === 0 || box.height === 0) continue;
    if (box.width < min || box.height < min) {
      const name = (el.innerText || el.value || el.getAttribute('aria-label') || el.tagName).trim().slice(0, 40);
      out.push(`${el.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return out;
}"""

_SMALL_TEXT = """(min) => {
  const out = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || ['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(el.tagName)) continue;
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    if (el.closest('[data-testid=stSkipToContent], [aria-hidden=true]')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < min) out.add(`"${text.slice(0, 40)}" ${size}px`);
  }
  return [...out];
}"""


def small_targets(page: Page, min_px: int = MIN_TARGET_PX) -> list[str]:
    """Every visible control smaller than `min_px` in either direction, as "tag "name" WxH"."""
    found: list[str] = page.evaluate(_SMALL_TARGETS, [min_px, CONTROLS])
    return found


def small_text(page: Page, min_px: int) -> list[str]:
    """Every visible run of text whose computed font size is under `min_px`, as ""text" Npx"."""
    found: list[str] = page.evaluate(_SMALL_TEXT, min_px)
    return found
