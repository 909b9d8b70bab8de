"""Whether the store answers: the check behind the apps' `/healthz` (and anything else that must say so quickly).

`store_answers` reads the schema version table on a worker thread and waits at most `timeout_s`, so a store
that hangs (a PostgreSQL host that stopped answering, a disk that blocks) is reported
as such instead of holding the caller.
At most one check per engine is in flight: a caller that comes while one still runs waits for that one's
answer, so a monitor polling a hung store does not pile up threads. The reason given is short and never holds
the store's URL or password (a monitor's log is no place for them).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from shared.store.schema import VERSION_TABLE

STORE_TIMEOUT_S = 2.0
MAX_REASON = 120

EngineSource = Engine | Callable[[], Engine]


@dataclass
class _Check:
    done: threading.Event = field(default_factory=threading.Event)
    reason: str | None = None


_in_flight: dict[int, _Check] = {}  # id(engine or engine getter) -> its running check
_lock = threading.Lock()


def store_answers(engine: EngineSource, *, timeout_s: float = STORE_TIMEOUT_S) -> str | None:
    """None when the store answers a read of its schema version within `timeout_s`, else a short reason.

    `engine` is the engine, or how to get it (an app's process-wide engine, opened at its first use): getting
    it counts towards the timeout, and a failure to get it is a reason like any other.
    """
    key = id(engine)
    with _lock:
        check = _in_flight.get(key)
        if check is None:
            check = _in_flight[key] = _Check()
            threading.Thread(target=_probe, args=(engine, key, check), name="store-health", daemon=True).start()
    if check.done.wait(timeout_s):
        return check.reason
    return f"no answer within {timeout_s:g} s"


def _probe(engine: EngineSource, key: int, check: _Check) -> None:
    password: str | None = None
    try:
        bound = engine if isinstance(engine, Engine) else engine()
        password = bound.url.password
        with bound.connect() as conn:
            conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar_one()  # reads the store itself
    except Exception as exc:  # every failure is a reason to report, never the caller's error
        check.reason = short_reason(exc, password=password)
    finally:
        with _lock:
            _in_flight.pop(key, None)
        check.done.set()


_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_PASSWORD = re.compile(r"password\s*=\s*\S+", re.IGNORECASE)


def short_reason(exc: BaseException, *, password: str | None = None) -> str:
    """The first line of what the driver said (not SQLAlchemy's wrapping), with no URL or password in it."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    message = next((line.strip() for line in str(cause).splitlines() if line.strip()), "")
    if password:
        message = message.replace(password, "***")
    message = _PASSWORD.sub("password=***", _URL.sub("<url>", message))
    reason = f"{type(cause).__name__}: {message}" if message else type(cause).__name__
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 3] + "..."
