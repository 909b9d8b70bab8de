"""Ingest benchmark: time to drain a queued backlog, per design, against one broker on one machine.

    python -m bench.ingest                                  # full: 100,000 messages, 200 devices, median of 3
    python -m bench.ingest --messages 20000 --repeat 1      # quick
    python -m bench.ingest --growth 1000000 --no-service    # store growth: 10 rounds of 100,000 into one store
    python -m bench.ingest --long --no-service              # the same to 5,000,000 rows (--growth 5000000)

Designs (interleaved in each repeat, so drift on the machine hits them all alike):
  limit      a bare paho-mqtt subscriber (MQTT v5, persistent session, QoS 1) that receives and discards; it reads
             as the group's second listener account (svc.listener-2) on topics of its own site ("bare"), since the
             broker makes a client's id its username and only separate accounts have separate sessions
  naive      bench/naive.py: one SQLModel session and commit per message (smaller backlog, --naive-messages),
             with the project's engine (SQLite WAL + synchronous=NORMAL) and, as naive-plain-sqlite, with a
             plain `create_engine(url)` (rollback journal, synchronous=FULL)
  project    telemetry.listener.Listener, unchanged, on a thread (as `clinic listen` runs it)
each on SQLite (a fresh file) and PostgreSQL (a fresh database, dropped afterwards) where a store is involved.

Method: the consumer's persistent session is created first (a clean start, so nothing is left from an earlier
run; the other consumer's session is checked to be gone, else it would queue this backlog too), the publisher
publishes the whole backlog at QoS 1 and waits for every PUBACK, then the consumer starts; the time runs from its
start until the last message is received (limit) or committed (naive: its commit counter; project:
Listener.stats, checked against the table).
Besides msgs/s it reports the CPU time per message of the consumer's thread and of Mosquitto, which other load
on the machine does not inflate (the 1-minute load average before each drain is printed too).

Then, per backend, `clinic listen` runs as a child process: it drains a backlog, then devices publish at a
steady rate (default 100 msg/s for 20 s) with the send time in the payload's metrics, and a poller records when
each row becomes visible in the database (p50/p99 publish -> visible). Its peak RSS (VmHWM) is read at the end.

Event ids (--ids): random UUIDs by default, as many devices send them (they land all over the unique index);
`--ids sequential` sends `tag-device-n`, which arrive in index order. The choice is in the header and the JSON.

Store growth (--growth ROWS, or --long for 5,000,000): instead of the designs above, one store per backend (a
SQLite file; a PostgreSQL database) takes backlog after backlog of --messages until it holds ROWS rows. Each
round, the limit drains a backlog of the same size, then each backend's listener drains its own into the growing
store followed by the limit again, so each listener's drain lies between two of the limit's (after an unreported
warm-up of both). The table gives per round the rows stored before it, the limit's rate (the mean of the drains
before and after the listener's), the listener's, the ratio project/limit and that ratio over the backend's
round-1 ratio ("vs round 1"), then per backend the median ratio and the lowest "vs round 1". A ratio measured
within one round is what to read: it cancels most drift on the machine, which moves either rate alone by
15-30%. Every round checks the listener's counts (each
message received and inserted once, no duplicate, no dead letter, the table grown by exactly the backlog) and
the limit's (its backlog, exactly); the run stops at a round that fails them. --repeat, --designs, --stored and
--naive-messages do not apply; `clinic listen` still runs afterwards unless --no-service. A SQLite store of
5,000,000 rows takes about 2 GB in the temporary folder (TMPDIR), removed at the end.
"""
