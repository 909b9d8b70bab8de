"""`clinic listen` as a child process, as the clinic runs it: the backlog drain with start-up included, the
steady-rate latency run, and the peak RSS, which a listener on a thread of the bench cannot show."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.common import (
    child_env,
    count_rows,
    drop_session,
    listener_settings,
    prime_session,
    publish_backlog,
    stop_process,
    usage_backlog,
    vm_hwm_mb,
    wait_until,
)
from bench.ingest.latency import measure_latency
from bench.ingest.stores import store
from bench.ingest.trial import LIMIT_USER, STORE_USER, Context, drain_timeout, new_tag
from shared.store.db import make_engine


@dataclass
class ServiceRun:
    backend: str
    backlog: int
    drain_s: float | None = None  # includes the interpreter's start-up
    latency_sent: int = 0
    latency_seen: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    receive_p50_ms: float | None = None
    receive_p99_ms: float | None = None
    poll_query_ms: float | None = None
    listener_rss_mb: float | None = None
    children_rss_mb: float | None = None  # the listener's writer process (and multiprocessing's resource tracker)
    broker_rss_mb: float | None = None
    exit_code: int | None = None
    error: str | None = None


def clinic_listen_command() -> list[str]:
    """`clinic listen` from this interpreter's environment (not a pyenv shim, so the pid is the listener's)."""
    beside = Path(sys.executable).with_name("clinic")
    exe = str(beside) if beside.exists() else shutil.which("clinic")
    return [exe, "listen"] if exe else [sys.executable, "-c", "from clinic.cli import main; main()", "listen"]


def run_service(ctx: Context, backend: str, backlog: int, rate: float, seconds: float) -> ServiceRun:
    out = ServiceRun(backend=backend, backlog=backlog)
    tag = new_tag()
    with ExitStack() as stack:
        url = store(ctx, stack, backend)
        settings = listener_settings(ctx.broker, ctx.tmp, url, **ctx.overrides)
        # `clinic listen` connects as its account, and the broker makes that the client id: prime that session
        prime_session(ctx.broker, STORE_USER, STORE_USER, ctx.listener_password)
        stack.callback(drop_session, ctx.broker, STORE_USER, STORE_USER, ctx.listener_password)
        ctx.ensure_no_session(LIMIT_USER)
        if backlog:
            publish_backlog(ctx.broker, usage_backlog(ctx.devices, backlog, tag, ids=ctx.ids))
        engine = make_engine(url)
        stack.callback(engine.dispose)

        log_path = ctx.tmp / f"listen-{backend}-{tag}.log"
        with open(log_path, "wb") as log_file:
            started = time.perf_counter()
            proc = subprocess.Popen(
                clinic_listen_command(),
                env=child_env(settings),
                cwd=ctx.tmp,  # no stray .env from the caller's folder
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        stack.callback(stop_process, proc)

        def alive_or_fail() -> None:
            if proc.poll() is not None:
                raise RuntimeError(f"`clinic listen` exited with {proc.returncode}: {_tail(log_path)}")

        def drained() -> bool:
            alive_or_fail()
            return count_rows(engine) >= backlog

        try:
            wait_until(drained, timeout=drain_timeout(backlog), interval=0.02, what="`clinic listen` backlog")
            out.drain_s = time.perf_counter() - started
            lat = measure_latency(ctx, engine, rate, seconds, alive_or_fail)
            out.latency_sent, out.latency_seen = lat["sent"], lat["seen"]
            out.p50_ms, out.p99_ms, out.max_ms = lat["p50_ms"], lat["p99_ms"], lat["max_ms"]
            out.receive_p50_ms, out.receive_p99_ms = lat["receive_p50_ms"], lat["receive_p99_ms"]
            out.poll_query_ms = lat["poll_query_ms"]
            out.listener_rss_mb = vm_hwm_mb(proc.pid)
            out.children_rss_mb = sum(vm_hwm_mb(c.pid) or 0 for c in psutil.Process(proc.pid).children(recursive=True))
            out.broker_rss_mb = vm_hwm_mb(ctx.broker.process.pid)
            stop_process(proc, timeout=30)
            out.exit_code = proc.returncode
        except (RuntimeError, TimeoutError) as exc:
            out.error = str(exc)
    return out


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"
