"""The patient-facing languages: gettext catalogues (`shared/locale/<lang>/LC_MESSAGES/clinic.po`) read with
Babel at run time, and dates and times in each language's own format.

A clinic adds a language by adding a catalogue: `languages()` finds it, and the lobby offers it. The .po is
compiled in memory when first used, so a fresh `pip install -e .` needs no compile step.
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT = "en"
DOMAIN = "clinic"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
BABEL_LOCALES = {"en": "en_US"}  # the catalogue's language -> the locale its dates and times follow


def N_(message: str) -> str:  # the gettext marker's usual name, which extraction looks for
    """Mark a constant for translation without translating it here (it is translated where it is shown)."""
    return message


def catalogue(lang: str) -> Path:
    """Where a language's catalogue lives."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def languages() -> tuple[str, ...]:
    """The default language first, then every language with a catalogue."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (DEFAULT, *[lang for lang in found if lang != DEFAULT])


def language(lang: str | None) -> str:
    """A supported language code: the one given when it has a catalogue, else the default."""
    return lang if lang in languages() else DEFAULT


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of `lang` (messages it lacks stay in English); the default language needs none."""
    path = catalogue(lang)
    if lang == DEFAULT or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        messages = read_po(po, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, messages)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def gettext_for(lang: str | None) -> gettext.NullTranslations:
    """Translations for a language code (unknown codes fall back to the default language)."""
    return translations(language(lang))


def language_name(lang: str) -> str:
    """A language's name in that language, as its button says it ("Español", "English")."""
    name = Locale.parse(language(lang)).get_display_name(language(lang)) or lang
    return name[:1].upper() + name[1:]


def babel_locale(lang: str | None) -> str:
    """The Babel locale whose date and time formats a language uses."""
    code = language(lang)
    return BABEL_LOCALES.get(code, code)


def time_words(value: datetime, tz: tzinfo, lang: str | None) -> str:
    """A time of day in the language's format ("4:30 PM", "16:30")."""
    return format_time(value.astimezone(tz), format="short", locale=babel_locale(lang))


def date_words(value: date, lang: str | None) -> str:
    """A date in the language's long format ("Monday, November 23, 2026", "lunes, 23 de noviembre de 2026")."""
    return format_date(value, format="full", locale=babel_locale(lang))
