"""The CPU cost of a native device's message against a contract message, with 200 plugs reporting every second.

    python -m bench.native                              # SQLite, 60 s rounds, native/contract twice each
    python -m bench.native --seconds 30 --backend both  # SQLite, then PostgreSQL (a fresh database, dropped after)

Per backend: Mosquitto from the repo's config on a free port and a fresh store. Two sets of 200 treadmills are
registered: `treadmill-NNN`, each fed by a Shelly Plus Plug S bound with `bind_source` and the kind's default
thresholds (`shellyplusplugs-<12 random hex>`), and `bench-eq-NNNN`, which publish the device contract
themselves. `clinic listen` and `clinic native` run as real processes (accounts svc.listener and svc.native)
and the run waits until both log that the broker confirmed their subscriptions.

First a warm-up of each kind, not reported: 250 s of plug messages, because the adapter keeps each plug's last
240 readings (for calibration) and its cost grows with that history until it is full, as it is all day in a
clinic; and 5 s of contract messages. Then the rounds, interleaved (native, contract, native, contract, ...
`--rounds` of each):

- native: each plug publishes `<name>/status/switch:0`, the Shelly Gen2 status (apower, voltage, current,
  aenergy, temperature), once a second. Its power follows uses: mostly idle at about 3 W; now and then a use of
  3-15 minutes at 150-300 W, and at least 3 minutes idle after each, so the adapter derives starts and stops.
  The plugs' timeline pauses between native rounds (the plugs are silent, their last level holds).
- contract: each `bench-eq-NNNN` station publishes `clinic/main/equipment/<id>/usage`, start and stop in turn,
  with a UUID event id, once a second.

Both send 200 messages a second spread evenly over each second, at QoS 1, from four of the simulator's pool
accounts (`svc.simulator-<n>`). A round's CPU is psutil's user + system time of each process, from just before
its first message until everything it caused is recorded (native: every message committed by the adapter, its
outbox empty and the derived events stored; contract: every message stored). Per message: adapter + listener
for a native message, the listener for a contract message; the reported figures are the medians of the rounds.

Afterwards: the listener's and the adapter's logs have no error, there is no dead letter, every contract
message is stored once, and at each plug's station the starts and stops recorded are those of the uses the
generator made (a use that began less than the on-hold ago, or ended less than the off-hold ago, may or may not
have its event yet). Results are also written as JSON to bench/results/.
"""
