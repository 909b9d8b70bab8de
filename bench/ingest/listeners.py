"""The naive and project designs: each drains the backlog into a store on a thread of this process, so their rates
and thread CPU compare directly with the limit's."""

from __future__ import annotations

import sys
import threading
from contextlib import ExitStack

from sqlalchemy import Engine

from bench.common import (
    count_rows,
    drop_session,
    listener_settings,
    listener_topic,
    prime_session,
    publish_backlog,
    usage_backlog,
    wait_until,
)
from bench.ingest.stores import store
from bench.ingest.trial import LIMIT_USER, STORE_USER, Context, Meter, Trial, drain_timeout, new_tag
from bench.naive import NaiveListener
from shared.store.db import init_db, make_engine
from telemetry.listener import Listener


# -- naive ----------------------------------------------------------------------------------------------------
def run_naive(ctx: Context, design: str, n: int) -> Trial:
    backend = design.rsplit("-", 1)[1]
    tag = new_tag()
    client_id = STORE_USER  # the broker makes the username the client id, whatever a client asks for
    with ExitStack() as stack:
        url = store(ctx, stack, backend)
        prime_session(ctx.broker, client_id, STORE_USER, ctx.listener_password)
        stack.callback(drop_session, ctx.broker, client_id, STORE_USER, ctx.listener_password)
        ctx.ensure_no_session(LIMIT_USER)
        publish_s = publish_backlog(ctx.broker, usage_backlog(ctx.devices, n, tag, ids=ctx.ids))

        password, plain = ctx.listener_password, "plain" in design
        peer = NaiveListener(ctx.broker.port, STORE_USER, password, client_id, listener_topic(), url, plain=plain)
        meter = Meter(ctx.broker)
        peer.start()
        stack.callback(peer.stop)
        wait_until(lambda: peer.committed >= n, timeout=drain_timeout(n), interval=ctx.poll_s, what="naive peer")
        trial = meter.finish((design, n, publish_s), peer.thread)
        trial.extra = {"rows": count_rows(peer.engine)}
        return trial


# -- the project's listener -----------------------------------------------------------------------------------
def run_project(ctx: Context, backend: str, n: int, url: str | None = None) -> Trial:
    """Drain `n` messages into a fresh store, the pre-loaded one (--stored) or `url` (the growth mode's).

    The counts in `extra` are taken after the listener stopped and its session was dropped, so a message beyond
    the backlog (or a late duplicate) shows in them; `project_problems` checks them.
    """
    tag = new_tag()
    with ExitStack() as outer:
        url = url or store(ctx, outer, backend)
        engine = make_engine(url)  # what `clinic listen` does (clinic.cli.engine_for)
        outer.callback(engine.dispose)
        init_db(engine)
        rows_before, dead_before = count_rows(engine), count_rows(engine, "dead_letter")
        with ExitStack() as stack:
            settings = listener_settings(ctx.broker, ctx.tmp, url, **ctx.overrides)
            client_id = settings.resolved_mqtt_client_id
            if client_id != STORE_USER:  # the session primed below must be the one the listener resumes
                raise RuntimeError(f"the listener would connect as {client_id}, not {STORE_USER}")
            prime_session(ctx.broker, STORE_USER, STORE_USER, ctx.listener_password)
            stack.callback(drop_session, ctx.broker, STORE_USER, STORE_USER, ctx.listener_password)
            ctx.ensure_no_session(LIMIT_USER)  # else the limit's session would queue this backlog too
            backlog = usage_backlog(ctx.devices, n, tag, ids=ctx.ids, first_at=ctx.next_backlog_start(backend, n))
            publish_s = publish_backlog(ctx.broker, backlog)
            del backlog  # one backlog in memory at a time: the broker holds it now

            listener = Listener(settings, engine)
            thread = threading.Thread(target=listener.run, name="project-listener", daemon=True)
            stats = listener.stats

            def done() -> bool:
                return stats.inserted + stats.duplicates + stats.dead_lettered >= n

            meter = Meter(ctx.broker)
            thread.start()
            stack.callback(_stop_listener, listener, thread)
            wait_until(done, timeout=drain_timeout(n), interval=ctx.poll_s, what="project listener")
            trial = meter.finish((f"project-{backend}", n, publish_s), thread)
        trial.extra = _counts(engine, rows_before, dead_before, listener)
        return trial


def _counts(engine: Engine, rows_before: int, dead_before: int, listener: Listener) -> dict[str, int | float]:
    stats = listener.stats
    rows = count_rows(engine)
    return {
        "rows": rows,
        "stored_before": rows_before,
        "received": stats.received,
        "inserted": stats.inserted,
        "duplicates": stats.duplicates,
        "dead_letters": count_rows(engine, "dead_letter") - dead_before,
        "batches": stats.batches,
        "mean_batch": round(stats.inserted / max(1, stats.batches), 1),
    }


def project_problems(trial: Trial) -> list[str]:
    """What the listener's counts say is wrong: every message of the backlog received and inserted once, no
    duplicate, no dead letter, and the table grown by exactly the backlog."""
    n, x = trial.messages, trial.extra
    problems = [
        f"{name} {x[key]:,} (expected {want:,})"
        for name, key, want in (
            ("received", "received", n),
            ("inserted", "inserted", n),
            ("duplicates", "duplicates", 0),
            ("dead letters", "dead_letters", 0),
        )
        if x.get(key) != want
    ]
    grown = x["rows"] - x["stored_before"]
    if grown != n:
        problems.append(f"the table grew by {grown:,} rows (expected {n:,})")
    return problems


def _stop_listener(listener: Listener, thread: threading.Thread) -> None:
    listener.stop()
    thread.join(timeout=30)
    if thread.is_alive():
        print("warning: the listener thread did not stop within 30 s", file=sys.stderr)
