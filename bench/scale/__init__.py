"""Scale benchmark: the board, check-in and usage chart on a clinic chain's store, and how they grow with it.

    python -m bench.scale                                  # full: 1,000 stations / 20 sites / 5,000,000 events
    python -m bench.scale --scale 0.1 --calls 50           # quick: 2 sites against 1 (~2 min)
    python -m bench.scale --backends sqlite --explain      # one backend, with the query plans of each call

Each backend gets two stores, generated with bulk inserts into a schema made by `shared.store.db.init_db` (so every
index exists while loading): the full one and one 10x smaller (`--ratio`). Both keep 50 stations per site,
about 5,000 usage events per station over the last 30 days and 5,000 patients per site, so a query that
reads one site should take the same time in both, and one that reads everything should grow 10x:

  stations     equipment + equipment_state rows with counters that agree with the events
  events       usage start/stop pairs (unique event ids, device_ts = event_at, received_at a little later)
               in opening hours, a cleaning after ~85% of the stops of stations cleaned after each use,
               some stations in use, needing cleaning, offline or out of service (a fault event)
  care side    patients, past (done / no-show) and future appointments, 6% of each site's patients booked
               today, 3-5 active plan lines on stations of the patient's site, an exercise library, one QR
               card per patient (10% also have an older, revoked one) and the check-ins of past visits

Then each query runs through the project's own services, interleaved between the two stores (small, full,
full, small, ...) so that load from other work on the machine hits both alike: median and p95 of `--calls`
calls after warm-up, and the growth ratio full / small.

  board, one site     shared.equipment.stations.list_stations(session=..., tz=..., site=...)      target < 50 ms
  board, all sites    shared.equipment.stations.list_stations(session=..., tz=...)                 target < 20 ms
  board()             shared.equipment.board.board(session=..., tz=..., site=...) (alerts + urgency sort, for reference)
  check-in, first     shared.care.checkin.check_in_card: token -> card -> patient -> today's appointment (marked
                      arrived, check-in recorded) -> plan with live station status; a new patient each call, at a time
                      shortly before their appointment                                   target < 30 ms
  check-in, repeat    the same cards again (already checked in: the same reads, fewer writes)
  usage chart         shared.equipment.usage.usage_stats(..., days=7) for one site

SQLite stores are files in a temporary folder, loaded with sqlite3 `executemany` (one transaction per chunk,
journal off while loading, then back to WAL) and not ANALYZEd (the app never runs ANALYZE). PostgreSQL stores
are temporary databases loaded with COPY (psycopg `cursor.copy()`; foreign-key triggers skipped with
`session_replication_role = replica`, the data being consistent by construction), then VACUUM ANALYZEd as
autovacuum would soon do. Everything is removed at the end, also on Ctrl-C or SIGTERM.
"""
