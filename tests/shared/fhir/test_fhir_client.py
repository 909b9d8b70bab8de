"""The FHIR server's REST API against a real HTTP server on loopback: the day's search page after page, a pushed
transaction, and a clear error when the server is down or refuses."""

from __future__ import annotations

from datetime import UTC, date
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from shared.fhir.client import day_search_url, fetch_day, post_transaction
from shared.fhir.errors import ServerUnreachable
from tests.fhir_support import appointment, bundle, fhir_server, patient
from tests.helpers import free_port

DAY = date(2026, 11, 23)


def test_the_search_asks_for_the_clinics_local_day_with_each_patient() -> None:
    url = day_search_url("https://ehr.example/fhir/", day=DAY, tz=ZoneInfo("Europe/Oslo"))
    parts = urlsplit(url)
    assert parts.path == "/fhir/Appointment"
    assert parse_qs(parts.query) == {
        "date": ["ge2026-11-23T00:00:00+01:00", "lt2026-11-24T00:00:00+01:00"],
        "_include": ["Appointment:patient"],
        "_count": ["200"],
    }


def test_every_page_of_the_search_is_read() -> None:
    first = bundle(appointment("a1", patient_ref="Patient/p1", start="2026-11-23T10:00:00Z"), patient("p1", mrn="M1"),
                   kind="searchset")  # fmt: skip
    second = bundle(appointment("a2", patient_ref="Patient/p1", start="2026-11-23T11:00:00Z"), kind="searchset")
    with fhir_server() as server:
        server.pages = [first, second]
        merged = fetch_day(server.base, day=DAY, tz=UTC)
    assert [e["resource"]["id"] for e in merged["entry"]] == ["a1", "p1", "a2"]
    assert [method for method, _ in server.requests] == ["GET", "GET"]
    assert "_include=Appointment%3Apatient" in server.requests[0][1]


def test_an_unreachable_server_is_named_without_the_query() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(ServerUnreachable) as failed:
        fetch_day(f"http://127.0.0.1:{port}/fhir", day=DAY, tz=UTC)
    assert str(failed.value) == (
        f"cannot reach the FHIR server (GET http://127.0.0.1:{port}/fhir/Appointment): [Errno 111] Connection refused"
    )


def test_an_error_answer_shows_the_servers_diagnostics() -> None:
    with fhir_server() as server:
        server.status, server.outcome = 401, "missing bearer token"
        with pytest.raises(ServerUnreachable) as failed:
            fetch_day(server.base, day=DAY, tz=UTC)
    assert str(failed.value) == f"GET {server.base}/Appointment answered 401 Unauthorized: missing bearer token"


def test_a_next_page_on_another_host_is_refused() -> None:
    with fhir_server() as server:
        page = bundle(kind="searchset")
        page["link"] = [{"relation": "next", "url": "file:///etc/passwd"}]
        server.pages = [page]
        with pytest.raises(ServerUnreachable, match="sent a next page on another server"):
            fetch_day(server.base, day=DAY, tz=UTC)


def test_a_transaction_is_posted_to_the_base_and_its_response_returned() -> None:
    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": patient("p1", mrn="M1"),
                   "request": {"method": "POST", "url": "Patient"}}]}  # fmt: skip
    with fhir_server() as server:
        answer = post_transaction(server.base, transaction)
    assert server.requests == [("POST", "/fhir")] and server.posted == [transaction]
    assert answer["type"] == "transaction-response" and len(answer["entry"]) == 1


@pytest.mark.parametrize("base", ["ftp://ehr.example/fhir", "ehr.example/fhir", "file:///tmp/x"])
def test_only_http_addresses_are_used(base: str) -> None:
    with pytest.raises(ServerUnreachable, match="must be an http:// or https:// URL"):
        fetch_day(base, day=DAY, tz=UTC)
