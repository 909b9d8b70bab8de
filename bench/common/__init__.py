"""The bench's one import point for shared helpers: `from bench.common import ...` in every benchmark.

The pieces live in modules with one job each: processes (stopping children, SIGTERM as Ctrl-C, CPU, memory,
load, polling), broker (Mosquitto from the repo's config, stopped and restarted), stores (fresh SQLite files,
temporary PostgreSQL databases, private servers), preload (bulk-loaded stores), payloads (the devices'
messages), sessions (MQTT v5 connections, persistent sessions), publishing (the QoS 1 publisher), listener
(settings and environment for `clinic listen`) and machine_facts (where a run happened). This module re-exports
every public name, so benchmarks need not know which module holds what.

Everything here cleans up after itself through an `ExitStack` the caller owns, so Ctrl-C (or an error) still
stops child processes, drops temporary PostgreSQL databases and removes temporary folders.
"""

from __future__ import annotations

from bench.common.broker import Broker, mosquitto_binary, start_broker, start_broker_again, stop_broker
from bench.common.listener import child_env, listener_settings
from bench.common.machine_facts import backend_versions, code_version, machine
from bench.common.payloads import ID_STYLES, PREFIX, SITE, Message, backlog_minutes, timed_usage, usage_backlog
from bench.common.preload import PRELOAD_COLS, preload_events
from bench.common.processes import (
    install_sigterm_as_interrupt,
    load_average,
    process_cpu_s,
    stop_process,
    thread_cpu_s,
    vm_hwm_mb,
    wait_until,
)
from bench.common.publishing import PUBLISH_WINDOW, Publisher, publish_backlog
from bench.common.sessions import SESSION_EXPIRY_S, drop_session, listener_topic, prime_session, session_held
from bench.common.stores import (
    PG_ADMIN_URL,
    count_rows,
    device_ids,
    postgres_store,
    prepare_store,
    private_postgres,
    sqlite_store,
)

# The tests' helpers are the one home of these; the benchmarks have always imported them from here.
from tests.helpers import free_port, port_open
from tests.pg_cluster import PrivateCluster

__all__ = [
    "ID_STYLES",
    "PG_ADMIN_URL",
    "PREFIX",
    "PRELOAD_COLS",
    "PUBLISH_WINDOW",
    "SESSION_EXPIRY_S",
    "SITE",
    "Broker",
    "Message",
    "PrivateCluster",
    "Publisher",
    "backend_versions",
    "backlog_minutes",
    "child_env",
    "code_version",
    "count_rows",
    "device_ids",
    "drop_session",
    "free_port",
    "install_sigterm_as_interrupt",
    "listener_settings",
    "listener_topic",
    "load_average",
    "machine",
    "mosquitto_binary",
    "port_open",
    "postgres_store",
    "preload_events",
    "prepare_store",
    "prime_session",
    "private_postgres",
    "process_cpu_s",
    "publish_backlog",
    "session_held",
    "sqlite_store",
    "start_broker",
    "start_broker_again",
    "stop_broker",
    "stop_process",
    "thread_cpu_s",
    "timed_usage",
    "usage_backlog",
    "vm_hwm_mb",
    "wait_until",
]
