"""A FHIR server's REST API over HTTP (stdlib urllib): the day's Appointments with their Patients from the search
API, page after page, and a transaction Bundle posted to the server's base."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode, urlsplit

from shared.fhir.errors import ServerUnreachable

FHIR_JSON = "application/fhir+json"
TIMEOUT_S = 30
MAX_PAGES = 50  # a day's schedule is a few hundred appointments; more pages than this means a looping server
MAX_BYTES = 20 * 1024 * 1024
PAGE_SIZE = 200

log = logging.getLogger(__name__)


def day_search_url(base: str, *, day: date, tz: tzinfo) -> str:
    """The search for the clinic-local day's Appointments, each with its Patient (`_include`)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    query = urlencode([
        ("date", f"ge{start.isoformat()}"), ("date", f"lt{end.isoformat()}"),
        ("_include", "Appointment:patient"), ("_count", str(PAGE_SIZE)),
    ])  # fmt: skip
    return f"{_base(base)}/Appointment?{query}"


def fetch_day(base: str, *, day: date, tz: tzinfo) -> dict[str, Any]:
    """Every page of the day's search merged into one searchset Bundle."""
    url: str | None = day_search_url(base, day=day, tz=tz)
    entries: list[Any] = []
    for _ in range(MAX_PAGES):
        if url is None:
            return {"resourceType": "Bundle", "type": "searchset", "entry": entries}
        page = _exchange(urllib.request.Request(url, headers={"Accept": FHIR_JSON}))
        if page.get("resourceType") != "Bundle":
            raise ServerUnreachable(f"{_safe(url)} answered a {page.get('resourceType')!r}, not a Bundle")
        entries.extend(page.get("entry") or [])
        url = _next_page(page, base)
    raise ServerUnreachable(f"{_safe(base)} sent more than {MAX_PAGES} pages of search results")


def _next_page(page: dict[str, Any], base: str) -> str | None:
    """The page's `next` link, only when it stays on the server's own scheme and host."""
    found = next((link.get("url") for link in page.get("link") or []
                  if isinstance(link, dict) and link.get("relation") == "next"), None)  # fmt: skip
    if not isinstance(found, str) or not found:
        return None
    if urlsplit(found)[:2] != urlsplit(_base(base))[:2]:
        raise ServerUnreachable(f"{_safe(base)} sent a next page on another server ({_safe(found)})")
    return found


def post_transaction(base: str, bundle: dict[str, Any]) -> dict[str, Any]:
    """Post a transaction Bundle to the server's base; its transaction-response Bundle."""
    body = json.dumps(bundle).encode()
    request = urllib.request.Request(
        _base(base), data=body, method="POST", headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
    )
    answer = _exchange(request)
    if answer.get("resourceType") != "Bundle" or answer.get("type") != "transaction-response":
        raise ServerUnreachable(f"{_safe(base)} did not answer the transaction with a transaction-response Bundle")
    return answer


def _exchange(request: urllib.request.Request) -> dict[str, Any]:
    """Send one request; the JSON answer, or ServerUnreachable saying what went wrong (no traceback)."""
    where = f"{request.get_method()} {_safe(request.full_url)}"
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # only http(s): checked in _base
            raw = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise ServerUnreachable(f"{where} answered {exc.code} {exc.reason}{_outcome(exc)}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ServerUnreachable(f"cannot reach the FHIR server ({where}): {reason}") from None
    if len(raw) > MAX_BYTES:
        raise ServerUnreachable(f"{where} answered more than {MAX_BYTES // 1024 // 1024} MiB")
    try:
        answer = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ServerUnreachable(f"{where} did not answer JSON") from None
    if not isinstance(answer, dict):
        raise ServerUnreachable(f"{where} did not answer a FHIR resource")
    log.info("FHIR %s: %d bytes", where, len(raw))
    return answer


def _outcome(exc: urllib.error.HTTPError) -> str:
    """The first diagnostics of an OperationOutcome in an error answer, if there is one."""
    try:
        body = json.loads(exc.read(64 * 1024) or b"{}")
        issue = (body.get("issue") or [{}])[0]
        text = issue.get("diagnostics") or (issue.get("details") or {}).get("text")
    except (ValueError, AttributeError, OSError):
        return ""
    return f": {str(text)[:200]}" if text else ""


def _base(base: str) -> str:
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ServerUnreachable(f"FHIR server address {base!r} must be an http:// or https:// URL")
    return base.rstrip("/")


def _safe(url: str) -> str:
    """The address without its query (search parameters) or any user:password, for messages and logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
