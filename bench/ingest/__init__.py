"""Ingest benchmark: time to drain a queued backlog, per design, against one broker on one machine.

    python -m bench.ingest                                  # full: 100,000 messages, 200 devices, median of 3
    python -m bench.ingest --messages 20000 --repeat 1      # quick

Designs (interleaved in each repeat, so drift on the machine hits them all alike):
  limit      a bare paho-mqtt subscriber (MQTT v5, persistent session, QoS 1) that receives and discards
  naive      bench/naive.py: one SQLModel session and commit per message (smaller backlog, --naive-messages),
             with the project's engine (SQLite WAL + synchronous=NORMAL) and, as naive-plain-sqlite, with a
             plain `create_engine(url)` (rollback journal, synchronous=FULL)
  project    telemetry.listener.Listener, unchanged, on a thread (as `clinic listen` runs it)
each on SQLite (a fresh file) and PostgreSQL (a fresh database, dropped afterwards) where a store is involved.

Method: the consumer's persistent session is created first, the publisher publishes the whole backlog at QoS 1
and waits for every PUBACK, then the consumer starts; the time runs from its start until the last message is
received (limit) or committed (naive: its commit counter; project: Listener.stats, checked against the table).
Besides msgs/s it reports the CPU time per message of the consumer's thread and of Mosquitto, which other load
on the machine does not inflate (the 1-minute load average before each drain is printed too).

Then, per backend, `clinic listen` runs as a child process: it drains a backlog, then devices publish at a
steady rate (default 100 msg/s for 20 s) with the send time in the payload's metrics, and a poller records when
each row becomes visible in the database (p50/p99 publish -> visible). Its peak RSS (VmHWM) is read at the end.
"""
