"""`/healthz`, served by both Streamlit apps beside their pages: whether this app's server runs and reaches the
store, for a monitor (systemd, a load balancer, Uptime Kuma) to poll.

200 `{"app": "lobby", "status": "ok", "store": "ok"}` when the store answers `SELECT 1` within 2 s, else 503
with `"status": "error"` and a short reason in `"store"` (never the store's URL or password). No sign-in, no
patient data, no Streamlit session: it checks the engine the app's pages use (`kiosk.resources.engine`, opened
here if no page has opened it yet). Streamlit's own `/_stcore/health` says only that the server runs.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from kiosk import resources
from shared.store.health import store_answers

HEALTH_PATH = "/healthz"


class _OutsideScripts(logging.Filter):
    """Drops the warnings of threads opening the pages' engine for /healthz: Streamlit says "missing
    ScriptRunContext" at each cache miss outside a script run (each poll while the store is down), and having
    no session is the point here."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread not in self.threads


_OUTSIDE_SCRIPTS = _OutsideScripts()
logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_OUTSIDE_SCRIPTS)


def pages_engine() -> Engine:
    """The engine the app's pages use (one per server process), opened now if no page has yet."""
    thread = threading.get_ident()
    _OUTSIDE_SCRIPTS.threads.add(thread)
    try:
        return resources.engine()
    finally:
        _OUTSIDE_SCRIPTS.threads.discard(thread)


def health_routes(app: str) -> list[BaseRoute]:
    """The `/healthz` route of the app named `app` ("lobby", "staff"); GET, and HEAD (the same, without a body)."""

    async def healthz(_request: Request) -> Response:
        reason = await run_in_threadpool(store_answers, pages_engine)
        body = {"app": app, "status": "ok" if reason is None else "error", "store": reason or "ok"}
        return JSONResponse(body, status_code=200 if reason is None else 503, headers={"Cache-Control": "no-store"})

    return [Route(HEALTH_PATH, healthz, methods=["GET"])]
