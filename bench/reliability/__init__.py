"""Reliability under faults: a flood of QoS 1 messages, a fault injected mid-flood, then every event counted.

    python -m bench.reliability                                  # full: 100,000 messages, every scenario, both stores
    python -m bench.reliability --messages 10000 --scenarios 1,2 --backends sqlite       # quick

For each scenario, on each backend where it applies, this starts its own Mosquitto (the repo's config rendered
on a free port: persistence on), a fresh store and `python -m clinic listen` as a child process. It waits until
the listener's subscription is confirmed (its log says so), then a thread publishes the flood (200 devices
alternating usage start/stop with unique event ids, QoS 1, every PUBACK awaited, reconnecting when the broker
goes away) while the main thread injects the fault:

  1 listener-kill   the listener SIGKILLed 3 times, when a seeded random 10-90% of the flood is stored,
                    restarted each time after a seeded pause of 0-1 s                     (SQLite, PostgreSQL)
  2 broker-restart  Mosquitto stopped (SIGTERM, it saves its persistence file) when a seeded 20-60% of the
                    flood is PUBACKed, restarted 1-3 s later; publisher and listener reconnect by themselves
                                                                                          (SQLite, PostgreSQL)
  3 db-outage       SQLite: another process holds a write transaction (BEGIN IMMEDIATE) for 10 s from when
                    20-60% is stored, and the listener is SIGKILLed 2-8 s into the lock and restarted at once.
                    PostgreSQL: a private server (initdb in /tmp, free port, durable defaults) is stopped
                    (`pg_ctl -m fast`) when 20-60% is stored and started again 1-3 s later.
  4 shared-sub      two listeners in one MQTT v5 shared subscription (CLINIC_MQTT_SHARED_GROUP); one is
                    SIGKILLed when 30-60% is stored and restarted 5-10 s later                 (PostgreSQL)

Then it waits until every PUBACKed message is stored (or nothing has moved for --stall-timeout seconds),
stops the listeners with SIGTERM and counts: published (PUBACKed), stored (distinct event ids), duplicated
(rows minus distinct ids), lost (PUBACKed ids missing from the table), dead-lettered, and whether the stations'
uses_total adds up to the starts stored. It exits 1 if anything was lost or duplicated, a state total did not
match, or a listener died on its own. Ctrl-C or SIGTERM stops the child processes, drops the temporary
databases and removes the temporary folders.
"""

# The documentation above is also `python -m bench.reliability --help`. The modules, one job each:
#   __main__    the command line: parse_args, main (plan, header, one row per scenario, the table, the JSON)
#   scenarios   which scenarios exist and where they apply, and the faults each one injects
#   run         one scenario's set-up (broker, store, listeners, flood) and its waiting on progress
#   runner      runs a scenario and counts what reached the store
#   flood       the QoS 1 flood published from a thread across broker restarts
#   listeners   `clinic listen` child processes and their logs
#   result      a scenario's counts, and when it counts as passed
#   report      the rows, the table and the JSON file
