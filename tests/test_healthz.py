"""`/healthz` on both apps, served for real (`streamlit run` with the command `clinic lobby`/`clinic staff` exec),
and the store check behind it (shared/store/health.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from clinic.apps import streamlit_argv
from shared.store.db import init_db, make_engine
from shared.store.health import short_reason, store_answers
from shared.store.settings import Settings
from tests.helpers import free_port, wait_until

APPS = ("lobby", "staff")
PASSWORD = "n0t-in-the-answer"


def get(url: str, *, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one request (an error status is an answer too)."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def streamlit_up(port: int) -> bool:
    try:
        return get(f"http://127.0.0.1:{port}/_stcore/health")[2] == b"ok"
    except OSError:
        return False


@contextmanager
def serving(app: str, tmp_path: Path, database_url: str) -> Iterator[int]:
    """The app served as `clinic lobby`/`clinic staff` serve it (their command line) on a free port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")}
    env |= {"CLINIC_DATA_DIR": str(tmp_path / app), "CLINIC_DATABASE_URL": database_url, "CLINIC_TIMEZONE": "UTC"}
    argv = streamlit_argv(app, Settings(tls_cert=None, tls_key=None), port=port, address="127.0.0.1")  # plain HTTP
    log = tmp_path / f"{app}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield port
    except BaseException:
        print(f"--- {log} ---\n{log.read_text(errors='replace')[-3000:]}")
        raise
    finally:
        server.terminate()
        server.wait(timeout=20)


def serve_both(stack: ExitStack, tmp_path: Path, urls: dict[str, str]) -> dict[str, int]:
    """Both apps started at once (they start in parallel), each on its store; returns once both serve."""
    ports = {app: stack.enter_context(serving(app, tmp_path, urls[app])) for app in APPS}
    for app, port in ports.items():
        wait_until(lambda: streamlit_up(port), timeout=60, what=f"the {app} app serving")  # noqa: B023
    return ports


def test_both_apps_answer_healthz_200_while_the_store_answers(tmp_path: Path, pg_database: str) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = make_engine(sqlite_url)
    init_db(engine)  # as `clinic lobby` does before it serves
    engine.dispose()
    with ExitStack() as stack:
        ports = serve_both(stack, tmp_path, {"lobby": sqlite_url, "staff": pg_database})  # one app on each backend
        for app, port in ports.items():
            status, headers, body = get(f"http://127.0.0.1:{port}/healthz")
            assert (status, json.loads(body)) == (200, {"app": app, "status": "ok", "store": "ok"})
            assert headers["content-type"] == "application/json" and headers["cache-control"] == "no-store"
            assert get(f"http://127.0.0.1:{port}/healthz", method="HEAD")[::2] == (200, b"")
            assert streamlit_up(port), "Streamlit's own /_stcore/health still answers"
        assert get(f"http://127.0.0.1:{ports['lobby']}/")[0] == 200, "the lobby's page is served as before"


def test_both_apps_answer_healthz_503_with_a_short_reason_when_the_store_is_down(tmp_path: Path) -> None:
    closed = f"postgresql://clinic:{PASSWORD}@127.0.0.1:{free_port()}/clinic"  # nobody listens there: refused
    with ExitStack() as stack:
        ports = serve_both(stack, tmp_path, dict.fromkeys(APPS, closed))
        for app, port in ports.items():
            started = time.monotonic()
            status, _, body = get(f"http://127.0.0.1:{port}/healthz")
            assert time.monotonic() - started < 3
            answer = json.loads(body)
            assert (status, answer["app"], answer["status"]) == (503, app, "error")
            assert "Connection refused" in answer["store"], answer
            assert PASSWORD not in answer["store"] and "://" not in answer["store"] and len(answer["store"]) <= 120
            assert streamlit_up(port), "the server itself still runs"


def test_a_store_that_never_answers_is_reported_within_the_timeout_by_one_check_at_a_time() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections (backlog), never says a word
        engine = make_engine(f"postgresql://clinic:{PASSWORD}@127.0.0.1:{silent.getsockname()[1]}/clinic")
        results: list[str | None] = []
        callers = [threading.Thread(target=lambda: results.append(store_answers(engine, timeout_s=0.3)))
                   for _ in range(3)]  # fmt: skip
        started = time.monotonic()
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        assert time.monotonic() - started < 2
        assert results == ["no answer within 0.3 s"] * 3
        assert [t.name for t in threading.enumerate()].count("store-health") == 1, "the callers shared one check"
    # Closing the listening socket resets the waiting connection: the check ends, and the next one starts afresh.
    wait_until(lambda: "store-health" not in [t.name for t in threading.enumerate()], timeout=10, what="the check")
    reason = store_answers(engine, timeout_s=5)
    assert reason is not None and reason.startswith("OperationalError: ") and PASSWORD not in reason
    engine.dispose()


def test_a_store_that_answers_is_none_and_a_failure_to_open_it_is_a_reason(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    assert store_answers(engine) == "OperationalError: no such table: alembic_version", "a store without a schema"
    init_db(engine)
    assert store_answers(engine) is None
    engine.dispose()

    def broken() -> Engine:
        raise RuntimeError("the schema is newer than this code")

    assert store_answers(broken) == "RuntimeError: the schema is newer than this code"


def test_a_reason_is_one_short_line_without_a_url_or_password() -> None:
    said = f"could not connect to postgresql://clinic:{PASSWORD}@db/clinic password={PASSWORD}\nHINT: " + "x" * 200
    wrapped = OperationalError("SELECT 1", {}, Exception(said))
    reason = short_reason(wrapped, password=PASSWORD)
    assert reason == "Exception: could not connect to <url> password=***"
    assert short_reason(Exception(f"auth failed ({PASSWORD})" + "y" * 200), password=PASSWORD).startswith(
        "Exception: auth failed (***)yyy"
    )
    assert len(short_reason(Exception("z" * 500))) == 120
