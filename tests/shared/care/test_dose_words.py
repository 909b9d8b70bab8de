"""A dose in the patient's words: what the lobby and the take-home page say, in both languages and unit systems."""

from __future__ import annotations

import itertools
import re

import pytest

from shared.care.dose_words import say_dose
from shared.equipment.station_names import station_words
from shared.store.units import units_for_zone

NONE = {"sets": None, "reps": None, "hold_s": None, "minutes": None, "load": None}
FIELDS = {"sets": 3, "reps": 10, "hold_s": 5, "minutes": 6, "load": "2 kg"}
ENGLISH_WORDS = re.compile(r"\b(sets?|times?|once|hold|minutes?|seconds?|level|speed|about|with|weight|in all|of)\b")


def say(lang: str = "en", units: str = "us", **dose: object) -> str:
    return say_dose(**{**NONE, **dose}, units=units, lang=lang)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dose", "english", "spanish"),
    [
        ({"sets": 3, "reps": 10}, "3 sets of 10", "3 series de 10"),
        ({"sets": 1, "reps": 10}, "1 set of 10", "1 serie de 10"),
        ({"sets": 2}, "2 sets", "2 series"),
        ({"sets": 1}, "1 set", "1 serie"),
        ({"reps": 1}, "Once", "Una vez"),
        ({"reps": 8}, "8 times", "8 veces"),
        ({"hold_s": 30}, "Hold 30 seconds", "Mantenga 30 segundos"),
        ({"hold_s": 1}, "Hold 1 second", "Mantenga 1 segundo"),
        ({"hold_s": 90}, "Hold 1 minute and 30 seconds", "Mantenga 1 minuto y 30 segundos"),
        ({"minutes": 1}, "1 minute", "1 minuto"),
        ({"minutes": 12.5}, "12 minutes and 30 seconds", "12 minutos y 30 segundos"),
        ({"minutes": 0.5}, "30 seconds", "30 segundos"),
        ({"sets": 3, "minutes": 2}, "3 sets of 2 minutes", "3 series de 2 minutos"),
        ({"sets": 3, "reps": 10, "hold_s": 2}, "3 sets of 10, hold 2 seconds", "3 series de 10, mantenga 2 segundos"),
        ({"reps": 10, "minutes": 5}, "10 times, 5 minutes in all", "10 veces, 5 minutos en total"),
        ({"minutes": 12, "load": "level 3"}, "12 minutes, level 3", "12 minutos, nivel 3"),
        ({"minutes": 6, "load": "1 mph"}, "6 minutes, speed 1 mph", "6 minutos, velocidad de 1 mph"),
        ({"sets": 3, "reps": 10, "load": "5 lb"}, "3 sets of 10, with a weight of 5 lb",
         "3 series de 10, con un peso de 5 lb"),
    ],
)  # fmt: skip
def test_a_dose_reads_as_an_instruction_in_both_languages(dose: dict[str, object], english: str, spanish: str) -> None:
    assert say("en", **dose) == english
    assert say("es", **dose) == spanish


def test_metric_loads_are_said_in_us_units_rounded_to_what_a_person_sets() -> None:
    assert say(minutes=6, load="1.5 km/h") == "6 minutes, speed about 1 mph"
    assert say(sets=3, reps=10, load="2 kg ankle weights") == "3 sets of 10, with ankle weights of about 4 lb"
    assert say(load="0.2 kg") == "With a weight of about 1 lb", "never 'about 0 lb'"
    assert say("es", minutes=6, load="1.5 km/h") == "6 minutos, velocidad de unas 1 mph"
    assert say("es", load="2 kg ankle weights") == "Con pesas de tobillo de unas 4 lb"


def test_us_loads_are_said_in_metric_units_with_the_languages_decimal_mark() -> None:
    assert say(units="metric", minutes=6, load="2 mph") == "6 minutes, speed about 3 km/h"
    assert say(units="metric", load="5 lb") == "With a weight of about 2.5 kg"
    assert say("es", units="metric", load="5 lb dumbbells") == "Con mancuernas de unos 2,5 kg"
    assert say("es", units="metric", minutes=6, load="1.5 km/h") == "6 minutos, velocidad de 1,5 km/h"
    assert say(units="metric", load="1,5 KM/H") == "Speed 1.5 km/h", "a comma and capitals as staff type them"


def test_a_load_staff_wrote_in_their_own_words_is_shown_as_written() -> None:
    assert say(sets=2, reps=8, load="red band") == "2 sets of 8, red band"
    assert say("es", sets=2, reps=8, load="red band") == "2 series de 8, red band"
    assert say(load="  ") == ""


def test_no_dose_says_nothing() -> None:
    assert say() == say("es") == ""


@pytest.mark.parametrize("present", [c for n in range(1, 6) for c in itertools.combinations(FIELDS, n)])
@pytest.mark.parametrize("units", ["us", "metric"])
def test_every_combination_of_dose_fields_reads_as_words(present: tuple[str, ...], units: str) -> None:
    dose = {name: FIELDS[name] for name in present}
    english, spanish = say("en", units, **dose), say("es", units, **dose)
    for text in (english, spanish):
        assert text and text[0] == text[0].upper(), text
        assert " x " not in text and " s," not in text and not text.endswith(" s"), f"chart shorthand in {text!r}"
        assert ("lb" in text) == ("load" in present and units == "us"), text
        assert ("kg" in text) == ("load" in present and units == "metric"), text
    assert not ENGLISH_WORDS.search(spanish.lower()), f"English in the Spanish {spanish!r}"
    assert english != spanish


def test_the_units_follow_the_clinics_country_unless_set() -> None:
    assert [units_for_zone(z) for z in ("America/Chicago", "Pacific/Honolulu", "US/Eastern", "UTC", None)] == [
        "us", "us", "us", "us", "us"]  # fmt: skip
    assert [units_for_zone(z) for z in ("America/Toronto", "Europe/Madrid", "America/Mexico_City")] == [
        "metric", "metric", "metric"]  # fmt: skip


def test_a_station_is_named_in_spanish_by_staff_or_by_its_kind_and_number() -> None:
    assert station_words(name="Treadmill 1", kind="treadmill", lang="en") == "Treadmill 1"
    assert station_words(name="Treadmill 1", kind="treadmill", lang="es") == "Cinta de correr 1"
    assert station_words(name="Parallel bars", kind="parallel_bars", lang="es") == "Barras paralelas"
    assert station_words(name="Treadmill 1", kind="treadmill", lang="es", given="Cinta junto a la ventana") == (
        "Cinta junto a la ventana")  # fmt: skip
    assert station_words(name="NuStep T5", kind="nustep", lang="es") == "NuStep T5", "a brand keeps its name"
    assert station_words(name="Rower", kind="other", lang="es") == "Rower"
