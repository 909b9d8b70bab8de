"""The ingest benchmark's store-growth mode in CI: tiny rounds on both backends, so a change that breaks it fails
here rather than an hour into a long run on the benchmark machine. The rates are the benchmark's, not the test's;
this asserts the rounds, the stores' growth and the listener's counts."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import pytest

from bench.common import device_ids, prime_session, start_broker
from bench.ingest.__main__ import main, parse_args
from bench.ingest.limit import run_limit
from bench.ingest.listeners import project_problems
from bench.ingest.trial import STORE_USER, Context, Trial
from tests.conftest import PG_ADMIN_URL


@pytest.mark.integration
def test_growth_rounds_fill_one_store_per_backend_and_pass_their_checks(pg_database: str, tmp_path: Path) -> None:
    out = tmp_path / "growth.json"
    args = ["--messages", "400", "--growth", "1000", "--devices", "20", "--no-service", "--pg-url", PG_ADMIN_URL]
    assert main([*args, "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["ids"] == "uuid"
    rounds = results["growth"]["rounds"]
    for backend in ("sqlite", "postgresql"):
        mine = [r for r in rounds if r["backend"] == backend]
        assert [r["stored_before"] for r in mine] == [0, 400, 800]
        assert all(not r["problems"] and r["project"]["extra"]["received"] == 400 for r in mine)
        assert mine[0]["vs_round_1"] == 1.0
        for r in mine:  # the limit's rate is the mean of its drains before and after the listener's
            before, after = (r[k]["messages"] / r[k]["drain_s"] for k in ("limit", "limit_after"))
            assert r["limit_rate"] == pytest.approx((before + after) / 2)
            assert r["limit"]["extra"]["received"] == r["limit_after"]["extra"]["received"] == 400
    for sqlite_round, pg_round in zip(rounds[::2], rounds[1::2], strict=True):  # one limit drain between the two
        assert (sqlite_round["backend"], pg_round["backend"]) == ("sqlite", "postgresql")
        assert sqlite_round["limit_after"] == pg_round["limit"]
        summary = results["growth"]["summary"][backend]
        assert summary["rounds"] == 3 and summary["rows"] == 1200 and not summary["failed"]


def test_a_listener_that_drained_more_than_its_backlog_fails_the_round() -> None:
    trial = Trial("project-sqlite", 400, 0.1, 0.1)
    trial.extra = {"rows": 1200, "stored_before": 400, "received": 800, "inserted": 800, "duplicates": 0,
                   "dead_letters": 0}  # fmt: skip
    problems = project_problems(trial)
    assert any("received 800" in p for p in problems) and any("grew by 800" in p for p in problems)


@pytest.mark.integration
def test_the_limit_refuses_to_publish_while_the_listeners_session_is_held(tmp_path: Path) -> None:
    # The trap: a session the listener left would queue the limit's backlog too, and its next drain would count it.
    with ExitStack() as stack:
        broker = start_broker(tmp_path / "data", stack)
        ctx = Context(broker, tmp_path, device_ids(5), PG_ADMIN_URL, 0.005)
        prime_session(broker, STORE_USER, STORE_USER, broker.listener_password)
        with pytest.raises(RuntimeError, match=r"still held a session for svc\.listener"):
            run_limit(ctx, 10)
        assert run_limit(ctx, 10).extra == {"received": 10}  # the check ended that session


def test_long_is_five_million_rows_and_excludes_growth() -> None:
    assert parse_args(["--long"]).growth == 5_000_000
    assert parse_args(["--growth", "1_000_000", "--ids", "sequential"]).growth == 1_000_000
    with pytest.raises(SystemExit):
        parse_args(["--long", "--growth", "100"])
