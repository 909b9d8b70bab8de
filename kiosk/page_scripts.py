"""Fixed scripts of ours run in the kiosk pages: idle reset, page language, number pad, a focused scan field."""

from __future__ import annotations

import json

import streamlit as st


def _run_script(script: str) -> None:
    """Run a fixed script of ours in a same-origin iframe (never anything built from user data)."""
    st.iframe(f"<html><body>{script}</body></html>", height=1)


def run_in_page(code: str) -> None:
    """Run a fixed line of ours in the page itself (not the iframe), e.g. a same-origin `fetch` that must carry
    the page's origin; never anything built from user data."""
    _run_script(f"""<script>
    const doc = window.parent.document;
    const run = doc.createElement("script");
    run.textContent = {json.dumps(code)};
    doc.head.appendChild(run);
    </script>""")


def idle_warning_s(seconds: int) -> int:
    """How long the warning before the idle reset counts down: a third of the idle time, 5 to 20 seconds."""
    return max(5, min(20, seconds // 3))


def idle_reset(seconds: int, *, warning: str, still_here: str, lang: str) -> None:
    """Reload the lobby at its welcome screen after `seconds` without a tap, key, scroll or touch, with a warning
    and a big "I'm still here" button for the last `idle_warning_s` seconds (WCAG 2.2.1).

    Runs in the browser because taps and scrolls that change no widget never reach the server. The reload
    replaces the history entry and starts a fresh session, so neither Back nor Reload shows the last patient.
    `warning` holds `{n}`, replaced by the seconds left.
    """
    script = f"""
    <script>
    const doc = window.parent.document;
    const limit = {json.dumps(seconds * 1000)}, warnFor = {json.dumps(idle_warning_s(seconds) * 1000)};
    const warning = {json.dumps(warning)}, stillHere = {json.dumps(still_here)}, lang = {json.dumps(lang)};
    let last = Date.now();
    const hide = () => {{ const old = doc.getElementById("kiosk-idle-warning"); if (old) old.remove(); }};
    const touch = () => {{ last = Date.now(); hide(); }};
    const show = (left) => {{
      let box = doc.getElementById("kiosk-idle-warning");
      if (!box) {{
        box = doc.createElement("div");
        box.id = "kiosk-idle-warning";
        box.lang = lang;
        box.innerHTML = '<div role="alertdialog" aria-modal="true" aria-labelledby="kiosk-idle-text">' +
          '<p id="kiosk-idle-text" aria-live="assertive"></p><button type="button"></button></div>';
        box.querySelector("button").textContent = stillHere;
        doc.body.appendChild(box);
        box.querySelector("button").focus();
      }}
      box.querySelector("p").textContent = warning.replace("{{n}}", String(left));
    }};
    ["pointerdown", "keydown", "scroll", "touchstart", "wheel", "input"].forEach(
      (name) => doc.addEventListener(name, touch, {{capture: true, passive: true}}));
    window.addEventListener("pagehide", () => {{
      ["pointerdown", "keydown", "scroll", "touchstart", "wheel", "input"].forEach(
        (name) => doc.removeEventListener(name, touch, {{capture: true}}));
      hide();
    }});
    const timer = setInterval(() => {{
      const idle = Date.now() - last;
      if (idle > limit) {{
        clearInterval(timer);
        // Streamlit's iframe sandbox forbids navigating the top page from here, so the page navigates itself.
        const reload = doc.createElement("script");
        reload.textContent = "window.location.replace(window.location.pathname);";
        doc.head.appendChild(reload);
      }} else if (idle > limit - warnFor) {{
        show(Math.ceil((limit - idle) / 1000));
      }}
    }}, 250);
    </script>
    """
    _run_script(script)


def page_language(lang: str, button_langs: dict[str, str]) -> None:
    """The page's `lang` follows the patient's choice; each language button is marked with its own language."""
    script = f"""
    <script>
    const doc = window.parent.document;
    const buttons = {json.dumps(button_langs)};
    const apply = () => {{
      doc.documentElement.lang = {json.dumps(lang)};
      for (const [key, code] of Object.entries(buttons)) {{
        const button = doc.querySelector(".st-key-" + key + " button");
        if (button) button.lang = code;
      }}
    }};
    apply();
    setInterval(apply, 500);
    </script>
    """
    _run_script(script)


def numeric_fields(keys: list[str], lengths: dict[str, int], next_key: str) -> None:
    """Birth-date fields that bring up the number pad and move on by themselves once a part is complete.

    A month's or a day's first digit that cannot start two digits (a month of 2-9, a day of 4-9) moves on at once.
    Backspace goes back the same way (issue #28): in an empty field, or on Continue, it moves to the field before
    and removes that field's last digit, so a wrong day is corrected with Backspace alone, without finding the
    day field to tap.
    """
    script = f"""
    <script>
    const doc = window.parent.document, page = window.parent;
    const keys = {json.dumps(keys)}, lengths = {json.dumps(lengths)}, nextKey = {json.dumps(next_key)};
    const firstMax = {{dob_month: 1, dob_day: 3}};
    const field = (key) => doc.querySelector(".st-key-" + key + " input");
    const nextButton = () => doc.querySelector(".st-key-" + nextKey + " button");
    const mark = () => keys.forEach((key) => {{
      const input = field(key);
      if (input && input.getAttribute("inputmode") !== "numeric") {{
        input.setAttribute("inputmode", "numeric");
        input.setAttribute("pattern", "[0-9]*");
        input.setAttribute("autocomplete", "off");
      }}
    }});
    // The fields in the order they are shown, read at each key: right after a language switch the previous
    // language's copy of this script may still run for a moment, and it must move the same way as this one.
    const shown = () => [...doc.querySelectorAll(keys.map((key) => ".st-key-" + key + " input").join(", "))]
      .filter((input) => !input.closest('[data-stale="true"]'));
    const keyOf = (input) => keys.find((key) => input.closest(".st-key-" + key));
    const onInput = (event) => {{
      const order = shown(), index = order.indexOf(event.target);
      if (index < 0) return;
      const key = keyOf(event.target), digits = event.target.value.replace(/[^0-9]/g, "");
      const early = digits.length === 1 && key in firstMax && Number(digits) > firstMax[key];
      if (digits.length >= lengths[key] || early) {{
        const next = index + 1 < order.length ? order[index + 1] : nextButton();
        if (next) next.focus();
      }}
    }};
    // Typed as a patient would: the page's own value setter, then an input event, so Streamlit sees the change.
    const setValue = (input, value) => {{
      Object.getOwnPropertyDescriptor(page.HTMLInputElement.prototype, "value").set.call(input, value);
      input.dispatchEvent(new page.Event("input", {{bubbles: true}}));
    }};
    const onKey = (event) => {{
      if (event.key !== "Backspace" || event.isComposing || event.defaultPrevented) return;
      const order = shown(), onButton = event.target === nextButton();
      const index = onButton ? order.length : order.indexOf(event.target);
      if (index <= 0 || (!onButton && event.target.value !== "")) return;
      const previous = order[index - 1];
      if (!previous || previous.disabled) return;
      event.preventDefault();
      previous.focus();
      setValue(previous, previous.value.slice(0, -1));
    }};
    doc.addEventListener("input", onInput, true);
    doc.addEventListener("keydown", onKey, true);
    window.addEventListener("pagehide", () => {{
      doc.removeEventListener("input", onInput, true);
      doc.removeEventListener("keydown", onKey, true);
    }});
    mark();
    setInterval(mark, 300);
    </script>
    """
    _run_script(script)


def keep_scan_field_focused(key: str) -> None:
    """Keep the scanner's field (the text input with widget key `key`) focused, so a USB scanner that 'types'
    always types into it.

    Whenever no control has the focus (a tap on empty space focuses Streamlit's <main>, a reconnect disables
    the field) a timer puts it back. A scanner can also start before that (the page just loaded, or the patient
    just tapped "Larger text" or a language, which keeps the focus on that button): a keystroke that arrives while
    anything but a text field has the focus is caught at document level and typed into the scan field, and the
    rest follow it there; an Enter that would otherwise press the focused button sends the scan (issue #28).
    Space, Tab and Enter on their own still work the focused button, for a keyboard user.
    """
    script = f"""
    <script>
    const doc = window.parent.document, page = window.parent;
    const controls = "input, textarea, select, button, summary, a[href], [contenteditable]";
    const scanField = () => {{
      const field = doc.querySelector(".st-key-" + {json.dumps(key)} + " input");
      return field && !field.disabled && !field.closest('[data-stale="true"]') ? field : null;
    }};
    const notText = ["button", "checkbox", "radio", "submit", "reset", "file", "image"];
    const typingIn = (el) => !!el && (el.tagName === "TEXTAREA" || el.isContentEditable
      || (el.tagName === "INPUT" && !notText.includes(el.type)));
    const refocus = () => {{
      const field = scanField();
      const active = doc.activeElement;
      const free = !active || active.tagName === "IFRAME" || !active.matches(controls);
      if (field && free) field.focus();
    }};
    const setValue = (input, value) => {{
      Object.getOwnPropertyDescriptor(page.HTMLInputElement.prototype, "value").set.call(input, value);
      input.dispatchEvent(new page.Event("input", {{bubbles: true}}));
    }};
    const catchKey = (event) => {{
      const field = scanField();
      if (!field || event.defaultPrevented || event.isComposing || typingIn(doc.activeElement)) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const printable = event.key.length === 1 && event.key !== " ";
      const sends = event.key === "Enter" && field.value !== "";  // a scan under way: Enter is its end
      if (!printable && !sends) {{ refocus(); return; }}
      event.preventDefault();
      event.stopPropagation();
      field.focus();
      if (printable) {{
        setValue(field, field.value + event.key);
      }} else {{
        const enter = {{key: "Enter", code: "Enter", keyCode: 13, bubbles: true}};
        field.dispatchEvent(new page.KeyboardEvent("keydown", enter));
      }}
    }};
    doc.addEventListener("keydown", catchKey, {{capture: true}});
    window.addEventListener("pagehide", () => doc.removeEventListener("keydown", catchKey, {{capture: true}}));
    setInterval(refocus, 400);
    </script>
    """
    _run_script(script)
