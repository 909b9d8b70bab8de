"""Counting the transactions a user action opens, on a real engine (issue #24: one user action, one transaction).

`count_transactions(engine)` listens to the engine's own events: each `begin` is a transaction, and one in which
an INSERT, UPDATE or DELETE ran is a writing one. Works on SQLite and PostgreSQL, for ORM sessions and Core
connections alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Transactions:
    """What an engine did inside the block: every transaction, and which of them wrote."""

    opened: int = 0
    writing: int = 0
    statements: list[list[str]] = field(default_factory=list)  # per transaction, for a readable failure

    def describe(self) -> str:
        return "\n".join(f"transaction {n + 1}: " + " | ".join(s[:60] for s in stmts)
                         for n, stmts in enumerate(self.statements))  # fmt: skip


@contextmanager
def count_transactions(engine: Engine) -> Iterator[Transactions]:
    seen = Transactions()
    open_ones: dict[int, list[str]] = {}

    def begin(conn: Any) -> None:
        seen.opened += 1
        open_ones[id(conn)] = []
        seen.statements.append(open_ones[id(conn)])

    def statement(conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        stmts = open_ones.get(id(conn))
        if stmts is None:
            return
        first = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if first in WRITES and not any(s.split(None, 1)[0].upper() in WRITES for s in stmts if s.strip()):
            seen.writing += 1
        stmts.append(sql.strip())

    def end(conn: Any) -> None:
        open_ones.pop(id(conn), None)

    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)
    try:
        yield seen
    finally:
        event.remove(engine, "begin", begin)
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", end)
        event.remove(engine, "rollback", end)
