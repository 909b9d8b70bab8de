"""Two small endpoints of the staff app that set and clear its sign-in cookie: a Streamlit script cannot send a
Set-Cookie header, and the cookie must be HttpOnly (page scripts never see it)."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.staff.web_sessions import COOKIE_NAME, claim_session
from shared.store.db import init_db, make_engine, unit_of_work
from shared.store.settings import get_settings

CLAIM_PATH = "/_clinic/session/claim"
END_PATH = "/_clinic/session/end"
MAX_CODE = 100


@cache
def _engine() -> Engine:
    engine = make_engine(get_settings().resolved_database_url)
    init_db(engine)
    return engine


def same_origin(request: Request) -> bool:
    """Only the app's own pages may post here (a page elsewhere cannot claim or end a session)."""
    origin = request.headers.get("origin")
    if origin is None or request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return False
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host") and parts.scheme in ("http", "https")


async def claim(request: Request) -> Response:
    """Exchange the one-time code the sign-in gave this page for the session cookie."""
    if not same_origin(request):
        return Response("forbidden", status_code=403)
    code = (await request.body()).decode(errors="replace").strip()[:MAX_CODE]
    agent = request.headers.get("user-agent", "")

    def _claim() -> str | None:
        with unit_of_work(_engine()) as session:
            return claim_session(session=session, handoff=code, user_agent=agent)

    token = await run_in_threadpool(_claim)
    if token is None:
        return Response("no such sign-in", status_code=403)
    response = Response("ok", headers={"Cache-Control": "no-store"})
    response.set_cookie(COOKIE_NAME, token, max_age=get_settings().staff_session_max_hours * 3600, path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")  # fmt: skip
    return response


async def end(request: Request) -> Response:
    """Sign-out: clear the cookie (the app has already ended its session server-side, which is what counts)."""
    if not same_origin(request):
        return Response("forbidden", status_code=403)
    response = Response("ok", headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")  # fmt: skip
    return response


ROUTES = [Route(CLAIM_PATH, claim, methods=["POST"]), Route(END_PATH, end, methods=["POST"])]
