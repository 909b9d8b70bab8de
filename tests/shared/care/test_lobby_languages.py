"""The patient-facing languages: every text the lobby can show has a translation in every catalogue, and a
clinic adds a language by adding one."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from shared import i18n

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [*sorted((ROOT / "kiosk" / "lobby").glob("*.py")), ROOT / "shared" / "care" / "checkin_messages.py",
           ROOT / "shared" / "care" / "birth_date.py"]


def used_messages() -> set[str | tuple[str, ...]]:
    """Every message id the lobby's code marks for translation (as `pybabel extract -F babel.cfg` finds them)."""
    return {message for path in SOURCES for _, message, _, _ in extract_from_file("python", path)}


@pytest.mark.parametrize("lang", [lang for lang in i18n.languages() if lang != i18n.DEFAULT])
def test_every_lobby_text_is_translated(lang: str) -> None:
    with i18n.catalogue(lang).open("rb") as po:
        catalogue = read_po(po, locale=lang)
    missing = []
    for message in used_messages():
        entry = catalogue.get(message[0] if isinstance(message, tuple) else message)
        strings = entry.string if entry is not None else None
        if not strings or entry is None or entry.fuzzy or (isinstance(strings, tuple) and not all(strings)):
            missing.append(message)
    assert not missing, f"{lang}: no translation for {missing}"
    assert len(used_messages()) > 60


def test_spanish_is_offered_under_its_own_name_and_unknown_codes_fall_back() -> None:
    assert i18n.languages() == ("en", "es")
    assert (i18n.language_name("es"), i18n.language_name("en")) == ("Español", "English")
    assert i18n.language("fr") == "en"
    assert i18n.gettext_for("fr").gettext("Done") == "Done"
    assert i18n.gettext_for("es").gettext("Done") == "Terminar"
    assert i18n.gettext_for("es").ngettext("{n} try left.", "{n} tries left.", 1) == "Le queda {n} intento."


def test_a_clinic_adds_a_language_by_adding_a_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "clinic.po").write_text('msgid ""\nmsgstr ""\n"Language: fr\\n"\n\nmsgid "Done"\nmsgstr "Terminé"\n')
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.languages.cache_clear()
    i18n.translations.cache_clear()
    try:
        assert i18n.languages() == ("en", "fr")
        assert i18n.language_name("fr") == "Français"
        assert i18n.gettext_for("fr").gettext("Done") == "Terminé"
    finally:
        i18n.languages.cache_clear()
        i18n.translations.cache_clear()
