"""A typed birth date is read part by part, and a wrong one is explained by naming the part that is wrong, in
English and in Spanish (issue #28: 01/01/1900 was answered "type the year with four digits")."""

from __future__ import annotations

from datetime import date

import pytest

from shared.care.birth_date import DateProblem, part_order, read_birth_date, words

TODAY = date(2026, 12, 7)


def said(month: str, day: str, year: str, lang: str) -> str:
    problem = read_birth_date(month=month, day=day, year=year, today=TODAY)
    assert isinstance(problem, DateProblem), problem
    return words(problem, lang)


@pytest.mark.parametrize(
    ("typed", "english", "spanish"),
    [(("01", "01", "1900"), "That year is too long ago. Please check the year.",
      "Ese año es de hace demasiado tiempo. Revise el año."),
     (("01", "01", "2031"), "That date is in the future. Please check the year.",
      "Esa fecha es futura. Revise el año."),
     (("12", "25", "2026"), "That date is in the future. Please check the month and the day.",
      "Esa fecha es futura. Revise el mes y el día."),
     (("04", "31", "1950"), "April has only 30 days. Please check the day.",
      "Abril solo tiene 30 días. Revise el día."),
     (("02", "29", "1950"), "February 1950 has only 28 days. Please check the day.",
      "Febrero de 1950 solo tiene 28 días. Revise el día."),
     (("04", "32", "1950"), "The day is a number from 1 to 31.", "El día es un número del 1 al 31."),
     (("13", "01", "1950"), "The month is a number from 1 to 12.", "El mes es un número del 1 al 12."),
     (("04", "17", "50"), "Please type the year with four digits, like 1950.",
      "Escriba el año con cuatro cifras, por ejemplo 1950."),
     (("", "17", "1950"), "Please type the month.", "Escriba el mes."),
     (("04", "", ""), "Please type the day and the year.", "Escriba el día y el año."),
     (("", "17", ""), "Please type the month and the year.", "Escriba el mes y el año."),
     (("", "", ""), "Please type the month, the day and the year.", "Escriba el mes, el día y el año."),
     (("O4", "17", "1950"), "Please use numbers only.", "Use solo números.")],
)  # fmt: skip
def test_a_wrong_date_is_explained_by_what_is_wrong(typed: tuple[str, str, str], english: str, spanish: str) -> None:
    assert said(*typed, "en") == english
    assert said(*typed, "es") == spanish


def test_real_dates_are_read_with_or_without_leading_zeros() -> None:
    assert read_birth_date(month="4", day="7", year="1950", today=TODAY) == date(1950, 4, 7)
    assert read_birth_date(month=" 02 ", day="29", year="1952", today=TODAY) == date(1952, 2, 29)
    assert read_birth_date(month="12", day="07", year="2026", today=TODAY) == TODAY
    assert read_birth_date(month="01", day="01", year="1901", today=TODAY) == date(1901, 1, 1)  # 125 years back


def test_a_missing_part_is_named_in_the_languages_own_order() -> None:
    assert part_order("en") == ("month", "day", "year")
    assert part_order("es") == ("day", "month", "year")
    assert said("", "", "1950", "es") == "Escriba el día y el mes."
    assert said("", "", "1950", "en") == "Please type the month and the day."
