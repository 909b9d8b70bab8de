"""What a patient does at the lobby, as Playwright steps (shared by the browser tests)."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Locator, Page, expect

from kiosk.lobby.text import SCAN_LABEL

CLINIC_NAME = "Riverside Physical Therapy"  # the default CLINIC_CLINIC_NAME
CHECKED_IN = "You're checked in"
CONFIRM = "Please confirm it's you"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
DOB_ORDER = {"en": ("Month", "Day", "Year"), "es": ("Día", "Mes", "Año")}
CONTINUE = {"en": "Continue", "es": "Continuar"}
# Ten taps a second on the number pad: still faster than patients tap. At 30 ms a key, a loaded CI machine once
# ended with a year of "50" for 1950 (two digits lost while the browser caught up; not reproduced in 6 runs).
PAD_DELAY_MS = 100


def title(page: Page) -> Locator:
    """The screen's title (Streamlit renders st.title as the page's only h1). While a rerun is on its way, the
    last screen's elements stay, faded and marked `data-stale="true"`, until the new ones replace them: the
    title is the h1 that is not stale (a slow rerun after Done once showed both titles for a moment)."""
    return page.locator('[data-testid="stElementContainer"]:not([data-stale="true"])').get_by_role("heading", level=1)


def scan_field(page: Page) -> Locator:
    return page.get_by_role("textbox", name=SCAN_LABEL)


def open_welcome(page: Page, url: str) -> None:
    """Open the lobby and wait until a scanner could type into it: the scan field has the focus by itself."""
    page.goto(url)
    expect(title(page)).to_have_text(CLINIC_NAME)
    expect(scan_field(page)).to_be_focused()


def scan_with_scanner(page: Page, text: str) -> None:
    """A USB scanner: keystrokes into whatever is focused, then Enter; nobody clicks the field first."""
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def dob_field(page: Page, label: str) -> Locator:
    return page.get_by_role("textbox", name=label, exact=True)


def dob_digits(dob: date, lang: str = "en") -> str:
    """The eight digits a patient types, in the language's order (en: MMDDYYYY, es: DDMMYYYY)."""
    parts = {"Month": f"{dob.month:02d}", "Mes": f"{dob.month:02d}", "Day": f"{dob.day:02d}",
             "Día": f"{dob.day:02d}", "Year": str(dob.year), "Año": str(dob.year)}  # fmt: skip
    return "".join(parts[label] for label in DOB_ORDER[lang])


def enter_birth_date(page: Page, dob: date, lang: str = "en") -> None:
    """One tap on the first field, eight digits on the number pad (the fields move on by themselves), one tap
    on Continue."""
    first = dob_field(page, DOB_ORDER[lang][0])
    expect(first).to_be_visible()
    # The number pad is up once the fields' page script runs, and only then do the fields move on by themselves.
    expect(first).to_have_attribute("inputmode", "numeric")
    first.click()
    page.keyboard.type(dob_digits(dob, lang), delay=PAD_DELAY_MS)
    expect(dob_field(page, DOB_ORDER[lang][2])).to_have_value(str(dob.year))
    page.get_by_role("button", name=CONTINUE[lang], exact=True).click()


def check_in(page: Page, url: str, card_url: str, dob: date) -> None:
    """The whole flow up to the plan."""
    open_welcome(page, url)
    scan_with_scanner(page, card_url)
    enter_birth_date(page, dob)
    expect(title(page)).to_have_text(CHECKED_IN)
    expect(first_plan_card(page)).to_be_visible()


def first_plan_card(page: Page) -> Locator:
    return page.locator(".kiosk-card").first


def done_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Done", exact=True)


def page_text(page: Page) -> str:
    """Everything a person can read on the page (rendered text of the body)."""
    return page.locator("body").inner_text()


def private_details(last: str, dob: date) -> list[re.Pattern[str]]:
    """Ways the last name and the birth date could appear; none may show anywhere on the lobby."""
    month = MONTHS[dob.month - 1]
    return [
        re.compile(re.escape(last), re.IGNORECASE),
        re.compile(rf"\b{dob.year}\b"),
        re.compile(dob.isoformat()),
        re.compile(rf"{month}\s+{dob.day}\b|\b{dob.day}\s+{month}", re.IGNORECASE),
        re.compile(rf"\b0?{dob.month}[/.-]0?{dob.day}[/.-]"),
    ]
