"""The naive and project designs: each drains the backlog into a store on a thread of this process, so their rates
and thread CPU compare directly with the limit's."""

from __future__ import annotations

import sys
import threading
from contextlib import ExitStack

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
from bench.ingest.trial import Context, Meter, Trial, drain_timeout, new_tag
from bench.naive import NaiveListener
from shared.store.db import init_db, make_engine
from telemetry.broker_acl import LISTENER_USER
from telemetry.listener import Listener


# -- naive ----------------------------------------------------------------------------------------------------
def run_naive(ctx: Context, design: str, n: int) -> Trial:
    backend = design.rsplit("-", 1)[1]
    tag = new_tag()
    client_id = f"bench-naive-{tag}"
    with ExitStack() as stack:
        url = store(ctx, stack, backend)
        prime_session(ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        stack.callback(drop_session, ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        publish_s = publish_backlog(ctx.broker, usage_backlog(ctx.devices, n, tag))

        password, plain = ctx.listener_password, "plain" in design
        peer = NaiveListener(ctx.broker.port, LISTENER_USER, password, client_id, listener_topic(), url, plain=plain)
        meter = Meter(ctx.broker)
        peer.start()
        stack.callback(peer.stop)
        wait_until(lambda: peer.committed >= n, timeout=drain_timeout(n), interval=ctx.poll_s, what="naive peer")
        trial = meter.finish((design, n, publish_s), peer.thread)
        trial.extra = {"rows": count_rows(peer.engine)}
        return trial


# -- the project's listener -----------------------------------------------------------------------------------
def run_project(ctx: Context, backend: str, n: int) -> Trial:
    tag = new_tag()
    client_id = f"bench-project-{tag}"
    with ExitStack() as stack:
        url = store(ctx, stack, backend)
        settings = listener_settings(ctx.broker, ctx.tmp, url, **ctx.overrides)
        prime_session(ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        stack.callback(drop_session, ctx.broker, client_id, LISTENER_USER, ctx.listener_password)
        publish_s = publish_backlog(ctx.broker, usage_backlog(ctx.devices, n, tag))

        engine = make_engine(url)  # what `clinic listen` does (clinic.cli.engine_for)
        stack.callback(engine.dispose)
        init_db(engine)
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
        trial.extra = {
            "rows": count_rows(engine),
            "dead_letters": count_rows(engine, "dead_letter"),
            "duplicates": stats.duplicates,
            "batches": stats.batches,
            "mean_batch": round(stats.inserted / max(1, stats.batches), 1),
        }
        return trial


def _stop_listener(listener: Listener, thread: threading.Thread) -> None:
    listener.stop()
    thread.join(timeout=30)
    if thread.is_alive():
        print("warning: the listener thread did not stop within 30 s", file=sys.stderr)
