"""The listener's database half, in a process of its own: decode, commit, and report what is stored.

Why a process: draining a backlog, the listener spent about half its time in paho (reading and parsing packets)
and half decoding and storing, all of it Python under one GIL. A writer *thread* was tried first and was slower
than one thread (docs/benchmarks.md, issue #23): each time the writer wanted the GIL back after a SQLite call, it
waited for the network thread, and the other way round. A process has its own interpreter, so the network loop
reads the next batch while this one decodes and commits the last, on the machine's second core. (Decoding here
rather than in the network loop measured faster: a decoded event costs more to pickle than to decode again.)

What does not change: a message is acknowledged only after its row is committed (the network loop sends the
acks when this process reports a part of a batch committed); a batch that fails is retried one message at a
time, and what cannot be stored becomes a dead letter; while the database is unavailable this process holds its
batch and retries with backoff, and nothing it holds is acknowledged. If either process dies, the other notices
(a closed pipe): the writer exits, or the network loop starts a new writer and gives it the batch again (the
unique event key makes that harmless). The writer logs nothing itself: it reports to the network loop, which
logs, so an operator reads one log.

It also keeps the listener's heartbeat (`listener_heartbeat`, shared/equipment/recording.py), which the apps read
to say when recording has stopped: the network loop asks for a beat about every third of the keep-alive while it
holds its subscription, riding in the next batch's transaction (one more statement) or alone when idle; a clean
stop records `stopped_at`. A beat is written only when a commit can be, so a held batch also goes stale.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, tzinfo
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.equipment.dead_letter_limits import purge_old
from shared.equipment.events import BatchResult, Decoded
from shared.equipment.ingest import record_batch, record_batch_in
from shared.equipment.maintenance_blocks import block_overdue
from shared.equipment.payloads import CodedReject, decode
from shared.equipment.recording import ListenerIdentity, record_beat, record_stop
from shared.store.db import is_transient, make_engine, write_transaction
from shared.store.types import utcnow

PURGE_EVERY_S = 3600.0  # how often the writer deletes dead letters past their retention
MAINTENANCE_EVERY_S = 60.0  # how often it takes out of service stations whose overdue maintenance blocks use
DB_RETRY_MIN_S, DB_RETRY_MAX_S = 0.2, 10.0  # backoff while the database is locked or down
STOPPING_RETRY_S = 0.2  # once asked to hurry (the listener is stopping), retry this often
# SQLite's page cache for the writer's connection (the default is 2 MiB, 500 pages): a batch of 2,000 messages
# from 200 stations touches a few leaf pages per station in each index; with 8 MiB, decoding and storing such a
# batch at a million stored events took 61-62 us a message instead of 70-71 (in-process, docs/benchmarks.md).
WRITER_SQLITE_CACHE_MIB = 8

# A message as the network loop hands it over: topic (None when it is not UTF-8), raw topic, payload, received.
Raw = tuple[str | None, bytes, bytes, datetime]


@dataclass(frozen=True, slots=True)
class WriterConfig:
    """What the writer process needs (it builds its own engine: connections never cross a process)."""

    database_url: str
    topic_prefix: str
    tz: tzinfo
    dead_letter_quota: int
    retention_days: int
    sqlite_busy_timeout_ms: int


class WriterProcess:
    """The network loop's handle on the writer: start, submit a batch, read its reports, stop.

    `engine`: run the writer as a thread of this process on that engine instead (same code, same pipe), for
    tests that hook the engine's events; it gives up the point of the design, the second interpreter.
    """

    def __init__(self, config: WriterConfig, *, engine: Engine | None = None) -> None:
        self._config = config
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited sockets or pools
        self._engine = engine
        self._process: Any = None
        self._conn: Connection | None = None
        self._sender: _Sender | None = None

    def start(self) -> None:
        """Start a writer (a new one after one died)."""
        ours, theirs = self._context.Pipe(duplex=True)
        if self._engine is not None:
            writer = _Writer(theirs, self._engine, self._config)
            self._process = threading.Thread(target=_run_thread, args=(writer, theirs), name="listener-writer",
                                             daemon=True)  # fmt: skip
            self._process.start()
        else:
            self._process = self._context.Process(target=_main, args=(theirs, self._config), name="listener-writer",
                                                  daemon=True)  # fmt: skip
            self._process.start()
            theirs.close()
        self._conn = ours
        self._sender = _Sender(ours)

    @property
    def running(self) -> bool:
        """Started, and neither stopped nor reaped: commands can reach it."""
        return self._sender is not None

    def fileno(self) -> int:
        """The pipe to select() on: readable when the writer reported something, or died."""
        assert self._conn is not None
        return self._conn.fileno()

    def submit(self, seq: int, messages: list[Raw], beat: ListenerIdentity | None = None) -> None:
        """A batch to commit; with `beat`, the listener's heartbeat goes in the same transaction. Returns at once:
        the batch goes down the pipe on the sender's thread."""
        assert self._sender is not None
        self._sender.send(("batch", seq, messages, beat))

    def beat(self, listener: ListenerIdentity) -> None:
        """Record the listener's heartbeat now (between batches: nothing else to commit)."""
        assert self._sender is not None
        self._sender.send(("beat", listener))

    def hurry(self, give_up_in_s: float) -> None:
        """Retry an unavailable database often, and give up after `give_up_in_s` (the listener is stopping)."""
        if self._sender is not None:
            self._sender.send(("hurry", give_up_in_s))

    def reports(self) -> list[tuple[Any, ...]]:
        """Every report waiting in the pipe; raises EOFError when the writer has died."""
        assert self._conn is not None
        out = []
        while self._conn.poll():
            out.append(self._conn.recv())
        return out

    def exitcode(self) -> int | None:
        return getattr(self._process, "exitcode", None)

    def stop(self, timeout: float, *, listener: ListenerIdentity | None = None) -> None:
        """Ask the writer to end (after its batch; recording `listener`'s clean stop), wait for it, and make sure it
        is gone."""
        if self._sender is not None:
            self._sender.send(("stop", listener))
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive() and hasattr(self._process, "kill"):
                self._process.kill()
                self._process.join(5)
        self._close()

    def reap(self) -> None:
        """Wait for a writer that died (after EOFError) and close its pipe, so `start` can begin a new one."""
        if self._process is not None:
            self._process.join(5)
        self._close()

    def _close(self) -> None:
        if self._sender is not None:
            self._sender.close()  # the writer has ended: its end of the pipe is closed, so no write blocks
            self._sender = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _Sender:
    """Writes commands down the writer's pipe on a thread of its own, in the order given.

    Why: a batch of 2,000 messages is about half a megabyte pickled, more than the pipe holds, so while the writer
    commits the last batch, writing the next one blocks until the writer reads it. On the network loop that block
    stopped the reading of messages (py-spy: a fifth of the loop's time in `Connection._send` during a drain). On
    this thread the loop goes on reading; the write itself releases the GIL. A failed write (the writer died) ends
    the thread quietly: the network loop learns of the death from the pipe's end (`reports` raises EOFError).
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="listener-writer-pipe", daemon=True)
        self._thread.start()

    def send(self, command: tuple[Any, ...]) -> None:
        self._queue.put(ForkingPickler.dumps(command))  # pickled here, so an unpicklable command fails its caller

    def close(self, timeout: float = 5.0) -> None:
        """Stop after what is queued (the writer is gone or has been asked to stop)."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            try:
                self._conn.send_bytes(data)
            except (OSError, ValueError):  # the writer died (or its pipe was closed): nothing more can reach it
                return


# -- the writer process ---------------------------------------------------------------------------------------
def _main(conn: Connection, config: WriterConfig) -> None:
    # The service manager and a terminal signal the whole group; only the listener decides when its writer ends
    # (after the last batch is committed), and a closed pipe ends it if the listener is killed.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import shared.store.db as db

    db.SQLITE_BUSY_TIMEOUT_MS = config.sqlite_busy_timeout_ms
    engine = make_engine(config.database_url, sqlite_cache_mib=WRITER_SQLITE_CACHE_MIB)
    try:
        _Writer(conn, engine, config).run()
    except (EOFError, OSError):
        pass  # the listener is gone: what we did not report is unacknowledged, and the broker resends it
    finally:
        engine.dispose()


def _run_thread(writer: _Writer, conn: Connection) -> None:
    try:
        writer.run()
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


class _Writer:
    def __init__(self, conn: Connection, engine: Engine, config: WriterConfig) -> None:
        self._conn = conn
        self._engine = engine
        self._prefix = config.topic_prefix
        self._tz = config.tz
        self._quota = config.dead_letter_quota
        self._retention_days = config.retention_days
        self._delay = 0.0
        self._held_since: float | None = None
        self._give_up_at: float | None = None
        self._next_purge = 0.0  # soon after start, then hourly
        self._next_maintenance = 0.0  # soon after start, then every minute, idle or not
        self._stopping = False
        self._stop_as: ListenerIdentity | None = None  # whose clean stop to record once the last batch is in
        self._beat_failing = False
        self._queued: deque[tuple[Any, ...]] = deque()  # batches that came while one was held, in order

    def run(self) -> None:
        while not self._stopping:
            if self._queued:
                self._handle(self._queued.popleft())
                continue
            if time.monotonic() >= self._next_maintenance:
                self._block_overdue_maintenance()
            wake = min(self._next_purge, self._next_maintenance)
            if not self._conn.poll(max(0.0, wake - time.monotonic())):
                if time.monotonic() >= self._next_purge:
                    self._purge()
                continue
            self._handle(self._conn.recv())
        self._record_stop()

    def _handle(self, command: tuple[Any, ...]) -> None:
        kind = command[0]
        if kind == "batch":
            _, seq, messages, beat = command
            self._commit(seq, [_decoded(raw, self._prefix) for raw in messages], beat)
            self._conn.send(("done", seq))
        elif kind == "beat":
            self._beat(command[1])
        elif kind == "hurry":
            self._give_up_at = time.monotonic() + float(command[1])
        elif kind == "stop":
            self._stopping = True
            self._give_up_at = time.monotonic()
            self._stop_as = command[1]

    def _commit(self, seq: int, items: list[Decoded], beat: ListenerIdentity | None = None) -> None:
        """Store `items` (with the listener's heartbeat, when given, in the same transaction), reporting each
        committed part (counted from the start of the batch)."""
        start = 0
        while start < len(items):
            remaining = items[start:]
            try:
                result = self._record(remaining, beat)
            except Exception as exc:
                if _unavailable(exc):
                    if not self._hold(exc, len(remaining)):
                        return
                    continue
                self._conn.send(("fallback", len(remaining), _short(exc)))
                result, done, failure = self._record_one_by_one(remaining)
                self._report(seq, done, result)
                start += done
                if beat is not None and failure is None:  # the batch's transaction, and its beat, were rolled back
                    self._beat(beat)
                    beat = None
                if failure is not None and not self._hold(failure, len(items) - start):
                    return
                continue
            self._report(seq, len(remaining), result)
            if beat is not None:
                self._beat_failing = False
            return

    def _record(self, items: list[Decoded], beat: ListenerIdentity | None) -> BatchResult:
        """One batch in one transaction; with `beat`, the heartbeat's upsert too (one statement more)."""
        with write_transaction(self._engine) as conn:
            result = record_batch_in(conn, items, tz=self._tz, dead_letter_quota=self._quota)
            if beat is not None:
                record_beat(conn, beat, utcnow())
        return result

    def _beat(self, listener: ListenerIdentity) -> None:
        """The heartbeat alone (the listener is idle); a failure is reported once until a beat succeeds again."""
        try:
            with write_transaction(self._engine) as conn:
                record_beat(conn, listener, utcnow())
        except Exception as exc:
            if not self._beat_failing:
                self._conn.send(("beat_failed", _db_reason(exc)))
            self._beat_failing = True
            return
        self._beat_failing = False

    def _record_stop(self) -> None:
        """A clean stop, once the last batch is committed: the apps then say "recording stopped since" now. Not when
        the database was unavailable (the beat has gone stale anyway) and never raising: the writer is ending."""
        if self._stop_as is None or self._held_since is not None:
            return
        with contextlib.suppress(Exception), write_transaction(self._engine) as conn:
            record_stop(conn, self._stop_as, utcnow())

    def _report(self, seq: int, count: int, result: BatchResult) -> None:
        if self._held_since is not None and count:
            self._conn.send(("recovered", time.monotonic() - self._held_since, count))
            self._held_since = None
        self._delay = 0.0
        rejects = [(r.reason, r.topic) for r in result.rejected]
        self._conn.send(("committed", seq, count, result.inserted, result.duplicates, result.dead_lettered, rejects))

    def _hold(self, exc: Exception, count: int) -> bool:
        """Wait before retrying (reading commands meanwhile); False once hurried past the deadline."""
        if self._held_since is None:
            self._held_since = time.monotonic()
        self._delay = DB_RETRY_MIN_S if self._delay == 0 else min(DB_RETRY_MAX_S, self._delay * 2)
        delay = self._delay
        if self._give_up_at is not None:
            if time.monotonic() >= self._give_up_at:
                self._conn.send(("gave_up", count))
                return False
            delay = STOPPING_RETRY_S
        self._conn.send(("held", _db_reason(exc), count, delay))
        until = time.monotonic() + delay
        while (left := until - time.monotonic()) > 0 and self._conn.poll(left):
            command = self._conn.recv()
            if command[0] == "batch":  # the next batch (the listener hands over two): after this one
                self._queued.append(command)
                continue
            self._handle(command)  # "hurry" or "stop"
            if self._give_up_at is not None:
                break
        return True

    def _record_one_by_one(self, batch: list[Decoded]) -> tuple[BatchResult, int, Exception | None]:
        """Each message in its own transaction; one that cannot be stored becomes a dead letter.

        Returns what was recorded, how many messages (from the start of `batch`) are committed, and the error
        that stopped it early when the database became unavailable (those messages stay held, unacked).
        """
        total = BatchResult()
        for done, decoded in enumerate(batch):
            try:
                part = self._record_or_dead_letter(decoded)
            except Exception as exc:  # unavailable, or even the dead letter could not be written
                return total, done, exc
            total.inserted += part.inserted
            total.duplicates += part.duplicates
            total.dead_lettered += part.dead_lettered
            total.rejected.extend(part.rejected)
        return total, len(batch), None

    def _record_or_dead_letter(self, decoded: Decoded) -> BatchResult:
        """One message, or its dead letter when storing it fails for a reason retrying will not fix."""
        try:
            return record_batch(engine=self._engine, items=[decoded], tz=self._tz, dead_letter_quota=self._quota)
        except Exception as exc:
            if _unavailable(exc):
                raise
            failure = exc
        topic, payload = getattr(decoded, "topic", ""), getattr(decoded, "payload", b"")
        self._conn.send(("unstorable", topic, _short(failure)))
        reason = f"could not be stored: {type(failure).__name__}: {str(failure)[:300]}"
        unstorable = CodedReject(topic, payload, reason, utcnow(), code="unstorable")
        return record_batch(engine=self._engine, items=[unstorable], tz=self._tz, dead_letter_quota=self._quota)

    def _block_overdue_maintenance(self) -> None:
        """Once a minute, between batches: stations whose overdue maintenance blocks use go out of service (a
        failure is reported and tried again a minute later; the batches go on)."""
        self._next_maintenance = time.monotonic() + MAINTENANCE_EVERY_S
        try:
            blocked = block_overdue(engine=self._engine, now=utcnow(), tz=self._tz)
        except Exception as exc:  # never the writer's end: recording messages matters more
            self._conn.send(("maintenance_failed", _short(exc)))
            return
        for task in blocked:
            self._conn.send(("maintenance_blocked", task.site, task.station, task.task))

    def _purge(self) -> None:
        """Once an hour, between batches, delete dead letters past their retention (a failure waits an hour)."""
        self._next_purge = time.monotonic() + PURGE_EVERY_S
        try:
            with write_transaction(self._engine) as conn:
                purged = purge_old(conn, utcnow(), days=self._retention_days)
        except (OperationalError, DBAPIError) as exc:
            self._conn.send(("purge_failed", _short(exc)))
            return
        if purged:
            self._conn.send(("purged", purged, self._retention_days))


def _decoded(raw: Raw, prefix: str) -> Decoded:
    """Decode one message; nothing raises (a bug in decode becomes a dead letter with its reason)."""
    topic, topic_bytes, payload, received_at = raw
    if topic is None:
        return CodedReject(topic_bytes.decode("utf-8", "replace"), payload, "topic is not valid UTF-8", received_at,
                           code="unknown_topic")  # fmt: skip
    try:
        return decode(topic, payload, prefix=prefix, received_at=received_at)
    except Exception as exc:
        return CodedReject(topic, payload, f"internal decode error: {exc!r}", received_at, code="internal_error")


def _unavailable(exc: Exception) -> bool:
    """A failure of the database rather than of the batch (locked, down, connection lost): hold and retry."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and (exc.connection_invalidated or is_transient(exc))


def _db_reason(exc: Exception) -> str:
    """What the database said, for the operator ("OperationalError: database or disk is full"): the driver's first
    line only, never the statement or its parameters."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(cause).strip().splitlines() or [""])[0][:160]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"
