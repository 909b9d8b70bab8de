"""The MQTT listener: persistent QoS 1 session, batches committed by a writer process, acks only after commit.

Why this shape (docs/devices.md has the contract, docs/benchmarks.md the figures): the broker keeps our
session while we are down, so nothing published meanwhile is lost; a message is acknowledged only once its
row is committed, so a crash before the ack means the broker redelivers it, and the unique event key turns
that into one row.
Two processes: this network loop reads messages and sends the acks; the writer (telemetry/writer_process.py)
decodes and commits them, on the other core. While the writer commits one batch, the loop reads the next, and hands
it over as soon as the writer is free: at light load every message is committed at once, under a flood batches
grow to what arrives during one commit (at most `ingest_batch_max`), and a full batch is handed over while the
writer still commits the last, so the writer never waits for the loop (`WRITER_QUEUE`). Handing over never waits
for the writer either: a thread writes the batch into its pipe (telemetry/writer_process.py, `_Sender`), and the
loop goes back to reading. The loop is paho's own
external-loop API (`loop_read`, `loop_write`, `loop_misc`) around one `select` that also watches the writer's pipe,
so an ack goes out the moment its batch is committed, and a burst of messages costs one `select`, not one each.
Between turns, at most every 2 s, the loop does its chores: about once a minute it checks the data disk (a
warning in the log when it is nearly full), and it rewrites its status file for operators
(telemetry/listener_status.py), which it removes when it stops cleanly.
Whether it is recording is also said where the apps and MQTT clients can see it (shared/equipment/recording.py,
docs/reliability.md "When recording stops"): while subscribed, it asks the writer to record a heartbeat in the store
about every third of the keep-alive; and it publishes a retained status on `<prefix>/<site>/system/listener/<client
id>`: "online" once subscribed, "offline" on a clean stop, and "offline" as its last will, which the broker
publishes when the connection is lost (killed, hung, cut off).
Nothing a paho callback meets ends the listener: each callback is guarded (but `_on_message`, the hot path, which is
written never to raise), a bad setting is refused at start (shared/store/settings.py), and a refused connection or
subscription ends `run()` with its reason.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import time
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import Engine

import shared.store.db as db
from shared.equipment.recording import ListenerIdentity, beat_interval_s, status_payload, status_topic
from shared.equipment.topics import subscription
from shared.store.settings import Settings
from shared.store.types import utcnow
from shared.upkeep.disk import disk_status
from telemetry.batching import Backoff, DiskAlarm, HandedOver, ListenerStats, Pending
from telemetry.listener_status import WRITE_MAX_S, WRITE_MIN_S, ListenerStatus, remove_status, status_path, write_status
from telemetry.persistent_session import BrokerRefused, connect_persistent, persistent_client, refusal
from telemetry.writer_process import Raw, WriterConfig, WriterProcess

log = logging.getLogger(__name__)

RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 30.0  # exponential backoff between connection attempts
IDLE_POLL_S = 0.25  # longest the network loop blocks, so keep-alives are noticed
READ_BURST = 256  # most messages read after one select before the loop looks at the writer again
# Batches the writer may hold at once: while it commits one, the next full batch already waits in its pipe, so it
# never idles while the network loop notices the commit and hands over (it idled about 13 % of a backlog drain).
WRITER_QUEUE = 2
STOP_WITHIN_S = 10.0  # on stop, how long the writer may keep retrying an unavailable database
WRITER_DEATHS_PER_MINUTE = 5  # more than this and the listener ends (its service manager restarts it)
DISK_CHECK_EVERY_S = 60.0  # how often the loop looks at the data disk's fill
DISK_REMIND_EVERY_S = 3600.0  # while the disk stays nearly full, the warning is repeated this often
OFFLINE_WITHIN_S = 2.0  # on a clean stop, how long to wait for the broker to take the "offline" status
_OK = MQTTErrorCode.MQTT_ERR_SUCCESS


class Listener:
    """Records every device message exactly once; `run()` blocks until `stop()` (or a signal) is called.

    `writer_thread=True` runs the writer as a thread on `engine` (tests that hook the engine's events);
    otherwise it is a process of its own with its own engine on the same database.
    """

    def __init__(self, settings: Settings, engine: Engine, *, writer_thread: bool = False) -> None:
        self.settings = settings
        self.engine = engine
        self.stats = ListenerStats()
        self._buffer: list[Pending] = []  # received, not yet handed to the writer
        self._handed: deque[HandedOver] = deque()  # batches the writer has, oldest (the one it commits) first
        self._seq = 0  # the last batch handed over (reports name theirs)
        self._writer_deaths: list[float] = []
        config = WriterConfig(
            database_url=engine.url.render_as_string(hide_password=False),
            topic_prefix=settings.topic_prefix,
            tz=settings.tz,
            dead_letter_quota=settings.dead_letters_per_device_hour,
            retention_days=settings.dead_letter_retention_days,
            sqlite_busy_timeout_ms=db.SQLITE_BUSY_TIMEOUT_MS,
        )
        self._writer = WriterProcess(config, engine=engine if writer_thread else None)
        self._wake_r, self._wake_w = os.pipe()  # stop() from a signal handler interrupts the select
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._pipe_closed = False
        self._net_backoff = Backoff(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._generation = 0
        self._connected = False
        self._stopping = False
        self._refused: str | None = None
        self.subscribed = threading.Event()  # set once the broker confirmed our subscription
        # What operators see (the log's disk warning, the status file), refreshed by `_chores` between turns.
        self._holding = False  # the writer reported the database unavailable and holds its batch
        self._last_commit_at: datetime | None = None
        self._started_at = utcnow()
        self._disk_alarm = DiskAlarm(remind_s=DISK_REMIND_EVERY_S)
        self._disk_check_failed = False
        self._next_chores = 0.0
        self._next_disk_check = 0.0
        self._status_file: Path | None = None
        self._status_written: tuple[Any, ...] | None = None  # what the file says (but its time), and when
        self._status_written_at = 0.0
        self._status_failed = False
        # Whether it records, for the apps (a heartbeat in the store) and for MQTT clients (a retained status).
        self._identity: ListenerIdentity | None = None  # set by run()
        self._beat_every = max(WRITE_MIN_S, beat_interval_s(settings.mqtt_keepalive_s))
        self._next_beat = 0.0
        self._beat_due = False
        self._status_topic = status_topic(settings.topic_prefix, settings.site, settings.resolved_mqtt_client_id)
        self._status_mids: set[int] = set()
        self._status_refusal_logged = False
        self._client = self._make_client()

    # -- public -----------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask `run()` to commit, acknowledge what it committed and return (safe from a signal handler)."""
        self._stopping = True
        if not self._pipe_closed:
            with contextlib.suppress(OSError):  # BlockingIOError: already woken
                os.write(self._wake_w, b"!")

    def run(self) -> None:
        """Connect, then receive and record until stopped; reconnects with backoff when the broker goes."""
        self._started_at = utcnow()
        self._identity = ListenerIdentity(account=self.settings.resolved_mqtt_client_id, site=self.settings.site,
                                          pid=os.getpid(), host=socket.gethostname()[:255],
                                          started_at=self._started_at)  # fmt: skip
        self._chores()
        self._writer.start()
        stopped = False
        try:
            self._run()
            stopped = True
        finally:
            self._shutdown()
            if stopped:  # a listener that ended on an error leaves its status to go stale: "not answering"
                self._remove_status()

    def subscriptions(self) -> list[str]:
        """The topic filters this listener subscribes to (every device's messages, or a shared group's share)."""
        return [subscription(self.settings.topic_prefix, self.settings.mqtt_shared_group)]

    # -- the network loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        next_attempt = 0.0
        while not self._stopping:
            if self._refused:
                raise BrokerRefused(self._refused)
            if self._client.socket() is None:
                if time.monotonic() >= next_attempt and not self._try_connect():
                    next_attempt = time.monotonic() + self._net_backoff.next()
                if self._client.socket() is None:
                    self._wait([], 0.05)
            elif (rc := self._pump(IDLE_POLL_S)) != _OK:
                self._lost_connection(rc)
                next_attempt = time.monotonic() + self._net_backoff.next()
            self._settle()
            self._hand_over()
            if time.monotonic() >= self._next_chores:
                self._chores()

    def _pump(self, timeout: float) -> MQTTErrorCode:
        """One turn of paho's external loop: wait for the socket or the writer, read a burst, write, keep alive."""
        client = self._client
        sock = client.socket()
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        pending = sock.pending() if hasattr(sock, "pending") else 0  # TLS: bytes already decrypted
        fd = sock.fileno()
        readable = self._wait([fd], 0 if pending else timeout, write=client.want_write())
        if readable is None:  # the socket was closed under us
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if fd in readable or pending:
            for _ in range(READ_BURST):  # paho reads one packet per call: go on while messages keep coming
                before = self.stats.received
                rc = client.loop_read()
                if rc != _OK:
                    return rc
                if self.stats.received == before or client.socket() is None:
                    break
        if client.socket() is None:
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if client.want_write():
            rc = client.loop_write()
            if rc != _OK:
                return rc
        return client.loop_misc()

    def _wait(self, fds: list[int], timeout: float, *, write: bool = False) -> list[int] | None:
        """select() on `fds`, the writer's pipe and the stop pipe; the readable ones (None if a socket closed)."""
        watched = [*fds, self._writer.fileno(), self._wake_r]
        try:
            readable, _, _ = select.select(watched, fds if write else [], [], timeout)
        except (OSError, ValueError, TypeError):
            return None
        if self._wake_r in readable:
            with contextlib.suppress(OSError):
                while os.read(self._wake_r, 4096):
                    pass
        return readable

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        # Nothing may raise out of a paho callback; decoding (and turning bad messages into dead letters with
        # their reason) is the writer's.
        try:
            topic: str | None = msg.topic
        except UnicodeDecodeError:
            topic = None
        raw: Raw = (topic, b"" if topic is not None else msg._topic, bytes(msg.payload), utcnow())
        self._buffer.append(Pending(msg.mid, msg.qos, self._generation, raw))
        self.stats.received += 1

    def _hand_over(self) -> None:
        """Give the writer what arrived while it committed the last batch (at most `ingest_batch_max`), with the
        heartbeat when one is due; a beat due while nothing is to be committed goes alone. While it commits, a
        full batch (a backlog) is handed over too, to wait in its pipe (`WRITER_QUEUE`)."""
        size = self.settings.ingest_batch_max
        while self._buffer and (not self._handed or (len(self._handed) < WRITER_QUEUE and len(self._buffer) >= size)):
            batch, self._buffer = self._buffer[:size], self._buffer[size:]
            self._submit(batch)
        if not self._handed and self._beat_due and self._identity is not None:
            self._beat_due = False
            self._writer.beat(self._identity)

    def _unacked(self) -> int:
        """Messages received and not yet acknowledged: waiting for a batch, or handed to the writer."""
        return len(self._buffer) + sum(len(batch.pending) for batch in self._handed)

    def _submit(self, batch: list[Pending]) -> None:
        self._seq += 1
        self._handed.append(HandedOver(self._seq, batch))
        beat, self._beat_due = (self._identity if self._beat_due else None), False
        # Never raises: a thread writes it into the pipe; if the writer died, _settle sees it and starts another.
        self._writer.submit(self._seq, [p.message for p in batch], beat)

    def _settle(self) -> None:
        """Act on the writer's reports: acknowledge what it committed, count it, log what it saw."""
        try:
            reports = self._writer.reports()
        except (EOFError, OSError):
            self._writer_died()
            return
        for report in reports:
            self._on_report(report)

    def _on_report(self, report: tuple[Any, ...]) -> None:
        kind = report[0]
        if kind in ("committed", "done") and (not self._handed or report[1] != self._handed[0].seq):
            return  # not the batch the writer has first (cannot happen: it commits in order, one pipe per writer)
        if kind == "committed":
            _, _seq, count, inserted, duplicates, dead_lettered, rejects = report
            batch = self._handed[0]
            done, batch.pending = batch.pending[:count], batch.pending[count:]
            self._ack(done)
            if count:
                self._holding = False
                self._last_commit_at = utcnow()
            self.stats.committed += count
            self.stats.batches += 1
            self.stats.inserted += inserted
            self.stats.duplicates += duplicates
            self.stats.dead_lettered += dead_lettered
            for reason, topic in rejects:  # one line each, never a traceback: a device's mistake is not ours
                log.warning("dead letter (%s) on %s", _one_line(reason), _one_line(topic))
        elif kind == "done":
            self._handed.popleft()  # what is left of it (it gave up while stopping) stays unacked
        elif kind == "held":
            _, error, _count, delay = report
            self.stats.db_retries += 1
            self._holding = True
            log.warning("database unavailable (%s); holding %d messages unacked, retrying in %.1fs",
                        error, self._unacked(), delay)  # fmt: skip
        elif kind == "recovered":
            log.info("database available again after %.0f s; %d held messages recorded, %d more being recorded",
                     report[1], report[2], len(self._buffer))  # fmt: skip
        elif kind == "fallback":
            log.warning("a batch of %d could not be recorded (%s); retrying one message at a time", *report[1:])
        elif kind == "unstorable":
            log.warning("a message on %s could not be stored (%s); keeping it as a dead letter",
                        *(_one_line(part) for part in report[1:]))  # fmt: skip
        elif kind == "gave_up":
            log.warning("stopping with %d messages uncommitted: the broker redelivers them", report[1])
        elif kind == "purged":
            log.info("deleted %d dead letters older than %d days", *report[1:])
        elif kind == "maintenance_blocked":
            log.warning("station %s/%s taken out of service: its maintenance '%s' is overdue and blocks use",
                        *report[1:])  # fmt: skip
        elif kind == "maintenance_failed":
            log.warning("could not check for overdue maintenance that blocks use (%s); trying again in a minute",
                        report[1])  # fmt: skip
        elif kind == "purge_failed":
            log.warning("dead-letter retention sweep failed (%s); trying again in an hour", report[1])
        elif kind == "beat_failed":
            log.warning("could not record the listener's heartbeat (%s): the apps will say recording has stopped "
                        "until it is recorded again", report[1])  # fmt: skip

    def _writer_died(self) -> None:
        """Start a new writer and give it the batches the old one held (unacked; the event key dedupes)."""
        self._writer.reap()
        code = self._writer.exitcode()
        now = time.monotonic()
        self._writer_deaths = [t for t in self._writer_deaths if now - t < 60] + [now]
        if len(self._writer_deaths) > WRITER_DEATHS_PER_MINUTE:
            raise RuntimeError(f"the listener's writer process ended {len(self._writer_deaths)} times in a minute "
                               f"(last exit code {code}); see the log above")  # fmt: skip
        log.error("the listener's writer process ended unexpectedly (exit code %s); starting a new one", code)
        self._writer.start()
        held = [pending for batch in self._handed for pending in batch.pending]
        self._handed.clear()
        if held:
            self._submit(held)

    def _ack(self, messages: list[Pending]) -> None:
        for pending in messages:
            # Acks for a previous connection are void: the broker redelivers those, and they dedupe.
            if pending.qos > 0 and pending.generation == self._generation and self._connected:
                self._client.ack(pending.mid, pending.qos)

    # -- connection -------------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        client = persistent_client(self.settings, self.settings.resolved_mqtt_client_id)
        if self._status_topic is None:
            log.warning("client id %r cannot be a topic level: the listener publishes no online/offline status",
                        self.settings.resolved_mqtt_client_id)  # fmt: skip
        else:  # the broker publishes this the moment it loses the connection (no delay), and keeps it
            will = Properties(PacketTypes.WILLMESSAGE)
            will.WillDelayInterval = 0
            client.will_set(self._status_topic, status_payload("offline", None, os.getpid()), qos=1, retain=True,
                            properties=will)  # fmt: skip
        client.on_connect = _guarded(self._on_connect, "on_connect", then=self._reconnect)
        client.on_disconnect = _guarded(self._on_disconnect, "on_disconnect")
        client.on_message = self._on_message  # the hot path, written never to raise: no wrapper
        client.on_subscribe = _guarded(self._on_subscribe, "on_subscribe", then=self._reconnect)
        client.on_publish = _guarded(self._on_publish, "on_publish")
        return client

    def _reconnect(self) -> None:
        """After a callback failed while (re)establishing the session: drop the connection, so `_run` connects and
        subscribes again with backoff."""
        with contextlib.suppress(Exception):
            self._client.disconnect()

    def _try_connect(self) -> bool:
        if not connect_persistent(self._client, self.settings):
            return False
        self._generation += 1
        return True

    def _on_connect(self, client: mqtt.Client, _userdata: Any, flags: Any, reason: ReasonCode, _props: Any) -> None:
        if reason.is_failure:
            self._refused = refusal(reason, "the listener", "check CLINIC_MQTT_USERNAME/PASSWORD")
            return
        self._connected = True
        self._net_backoff.reset()
        self.stats.connects += 1
        self._status_mids.clear()
        topics = self.subscriptions()
        # Subscribe on every connect, so a broker that lost our session still gets the subscription back.
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        try:
            rc, _mid = client.subscribe([(topic, options) for topic in topics])
        except ValueError as exc:  # a topic filter paho refuses: stop with the reason rather than die in a callback
            self._refused = f"the listener cannot subscribe to {topics}: {exc}"
            return
        if rc != _OK:
            log.error("could not send the subscription (%s); reconnecting", mqtt.error_string(rc))
        log.info(
            "connected to %s:%s (session present: %s), subscribing to %s",
            self.settings.mqtt_host,
            self.settings.mqtt_port,
            getattr(flags, "session_present", "?"),
            ", ".join(topics),
        )

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[ReasonCode], _p: Any) -> None:
        refused = [str(reason) for reason in reasons if reason.is_failure]
        if refused:  # retrying cannot help: end run() with the reason (`clinic listen` prints it, exit code 2)
            self._refused = (f"the broker refused the subscription to {', '.join(self.subscriptions())}: "
                             f"{', '.join(refused)} (check the ACL of {self.settings.resolved_mqtt_client_id} "
                             "and CLINIC_MQTT_SHARED_GROUP)")  # fmt: skip
            log.error("%s", self._refused)
            return
        log.info("subscribed: the broker confirmed the subscription")
        self.subscribed.set()
        self._beat_due = True  # the apps learn at once that recording has resumed
        self._next_beat = time.monotonic() + self._beat_every
        self._publish_status("online")

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        if mid not in self._status_mids:
            return
        self._status_mids.discard(mid)
        if reason.is_failure and not self._status_refusal_logged:
            self._status_refusal_logged = True
            log.warning("the broker refused the listener's status on %s (%s): `clinic init` renders an ACL that "
                        "allows it; recording goes on", self._status_topic, reason)  # fmt: skip

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if self._connected:
            log.warning("disconnected from the broker: %s", reason)
        self._connected = False
        self.subscribed.clear()
        self._beat_due = False  # not recording from now on: the heartbeat goes stale

    def _publish_status(self, state: Literal["online", "offline"]) -> mqtt.MQTTMessageInfo | None:
        """Publish the listener's retained status (QoS 1); None when it has no status topic or could not send it."""
        if self._status_topic is None:
            return None
        try:
            info = self._client.publish(self._status_topic, status_payload(state, utcnow(), os.getpid()), qos=1,
                                        retain=True)  # fmt: skip
        except (ValueError, RuntimeError, OSError) as exc:
            log.warning("could not publish the listener's status %r (%s)", state, exc)
            return None
        self._status_mids.add(info.mid)
        return info

    def _lost_connection(self, rc: MQTTErrorCode) -> None:
        """Hand what we hold to the writer (the broker will redeliver it, and the event key dedupes)."""
        log.debug("network loop ended with %s", rc)
        self._connected = False
        self.subscribed.clear()  # (paho has said so through on_disconnect, if it could)
        self._beat_due = False
        self._hand_over()

    def _shutdown(self) -> None:
        """Commit and acknowledge what was received, then leave the session in place for next time."""
        give_up_at = time.monotonic() + STOP_WITHIN_S
        self._writer.hurry(STOP_WITHIN_S)
        # No writer after too many deaths (_writer_died reaped the last and raised): what is held stays unacked.
        while self._writer.running and (self._buffer or self._handed) and time.monotonic() < give_up_at:
            self._hand_over()
            self._wait([], 0.2)
            self._settle()
            if time.monotonic() >= self._next_chores:
                self._chores()  # the heartbeat goes on while the last batch is committed
        self._writer.stop(timeout=max(1.0, give_up_at - time.monotonic() + 1), listener=self._identity)
        if self._client.socket() is not None and self._connected:  # a clean stop: no last will, so say it
            offline = self._publish_status("offline")
            if offline is not None:
                self._flush_until(offline.is_published, OFFLINE_WITHIN_S)
        if self._client.socket() is not None:
            end = time.monotonic() + 2
            while self._client.want_write() and time.monotonic() < end and self._client.loop_write() == _OK:
                pass
            self._connected = False  # a disconnect we asked for is not worth a warning
            self._client.disconnect()
            self._client.loop_read()
        self._pipe_closed = True
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        log.info("listener stopped: %s", self.stats)

    def _flush_until(self, done: Any, timeout: float) -> None:
        """Turn paho's loop on the socket alone (the writer is gone) until `done()` or `timeout` seconds; what
        arrives meanwhile stays unacknowledged, and the broker redelivers it."""
        end = time.monotonic() + timeout
        while not done() and (left := end - time.monotonic()) > 0:
            sock = self._client.socket()
            if sock is None:
                return
            if self._client.want_write() and self._client.loop_write() != _OK:
                return
            pending = sock.pending() if hasattr(sock, "pending") else 0
            try:
                readable, _, _ = select.select([sock], [], [], 0 if pending else min(left, 0.1))
            except (OSError, ValueError, TypeError):
                return
            if (readable or pending) and self._client.loop_read() != _OK:
                return

    # -- chores between turns: the data disk and the status file --------------------------------------------
    def _chores(self) -> None:
        """Check the disk when a minute has passed, and rewrite the status file when due (at most every 2 s)."""
        now = time.monotonic()
        self._next_chores = now + WRITE_MIN_S
        if now >= self._next_disk_check:
            self._check_disk(now)
        self._heartbeat(now)
        if not self._stopping and self.subscribed.is_set() and now >= self._next_beat:
            self._next_beat = now + self._beat_every
            self._beat_due = True  # `_hand_over` gives it to the writer, with the next batch or alone

    def _check_disk(self, now: float) -> None:
        """Warn when the data disk has become nearly full (again each hour while it stays so); say when it is not."""
        self._next_disk_check = now + DISK_CHECK_EVERY_S
        percent = self.settings.disk_warn_percent
        try:
            disk = disk_status(self.settings.data_dir, warn_percent=percent)
        except Exception as exc:  # a check that fails must never stop the recording
            if not self._disk_check_failed:
                log.warning("could not check the data disk (%s: %s); trying again in a minute", type(exc).__name__, exc)
            self._disk_check_failed = True
            return
        self._disk_check_failed = False
        outcome = self._disk_alarm.update(disk.nearly_full, now)
        if outcome == "warn":
            log.warning("data disk nearly full: %s; free space before recording stops", disk.describe())
        elif outcome == "clear":
            log.info("data disk back under %d%% full: %s", percent, disk.describe())

    def _heartbeat(self, now: float) -> None:
        """Rewrite the status file when what it says changed, or when it is getting old (at least every 5 s)."""
        state = (
            self._connected,
            self._holding,
            self._unacked(),
            self.stats.committed,
            self._last_commit_at,
            self._disk_alarm.full,
        )
        if state == self._status_written and now - self._status_written_at < WRITE_MAX_S:
            return
        connected, holding, held, recorded, last_commit_at, disk_full = state
        status = ListenerStatus(
            pid=os.getpid(),
            account=self.settings.resolved_mqtt_client_id,
            started_at=self._started_at.isoformat(),
            updated_at=utcnow().isoformat(),
            connected=connected,
            holding=holding,
            held=held,
            recorded=recorded,
            last_commit_at=last_commit_at.isoformat() if last_commit_at is not None else None,
            disk_nearly_full=disk_full,
        )
        try:
            if self._status_file is None:
                self._status_file = status_path(self.settings.data_dir, self.settings.resolved_mqtt_client_id)
            write_status(self._status_file, status)
        except OSError as exc:  # a full disk, a read-only folder: recording goes on, and we try again next time
            if not self._status_failed:
                log.warning("could not write the listener's status file (%s); retrying every few seconds", exc)
            self._status_failed = True
            return
        if self._status_failed:
            log.info("the listener's status file is written again: %s", self._status_file)
        self._status_failed = False
        self._status_written, self._status_written_at = state, now

    def _remove_status(self) -> None:
        """A clean stop removes the status file (an operator tool then says "not running", not "not answering")."""
        path = self._status_file
        if path is None:  # never written
            return
        try:
            remove_status(path)
        except OSError as exc:
            log.warning("could not remove the listener's status file %s (%s)", path, exc)


def _guarded(callback: Any, name: str, *, then: Any = None) -> Any:
    """`callback` for paho, which must never raise out of it (paho would re-raise it from `loop_read` and end the
    listener): a failure is logged with its traceback (a bug of ours, not a device's), then `then()` if given."""

    def guarded(*args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("the listener's %s callback failed; going on", name)
            if then is not None:
                then()

    guarded.__name__ = name
    return guarded


def _one_line(value: object) -> str:
    """A value for a log line: newlines (a database's multi-line message, say) never split the line."""
    return " ".join(str(value).splitlines())
