""" "Clean next" holds still: an automatic refresh keeps every shown row in its place (a station that left stays
as an empty row, a new one joins at the end); only a re-sort (a page run, the user's tap) takes the queue's order."""

from __future__ import annotations

from types import SimpleNamespace

from shared.equipment.cleaning_queue import QueueItem, hold_places


def item(equipment_id: str) -> QueueItem:
    """A queue entry; places depend on the station's site and id only."""
    return QueueItem(SimpleNamespace(site="main", id=equipment_id), ())  # type: ignore[arg-type]


def keys(rows: list[tuple[str, QueueItem | None]]) -> list[tuple[str, bool]]:
    return [(key, row is not None) for key, row in rows]


def test_a_refresh_keeps_places_and_a_re_sort_takes_the_new_order() -> None:
    shown = ["main/a", "main/b", "main/c"]
    now_queue = [item("c"), item("d"), item("a")]  # b was cleaned elsewhere, d is new and more urgent than a
    held = hold_places(shown, now_queue, resort=False, limit=8)
    assert keys(held) == [("main/a", True), ("main/b", False), ("main/c", True), ("main/d", True)]
    resorted = hold_places(shown, now_queue, resort=True, limit=8)
    assert keys(resorted) == [("main/c", True), ("main/d", True), ("main/a", True)]
    assert keys(hold_places([], now_queue, resort=False, limit=2)) == [("main/c", True), ("main/d", True)]


def test_the_same_stations_in_another_order_do_not_move() -> None:
    shown = ["main/a", "main/b"]
    assert keys(hold_places(shown, [item("b"), item("a")], resort=False, limit=8)) == [
        ("main/a", True),
        ("main/b", True),
    ]
