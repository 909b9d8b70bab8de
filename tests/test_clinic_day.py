"""A short clinic day in CI: every lobby, staff and front-desk write succeeds while the listener records devices.

The same code as `python -m bench.clinic_day` (real Mosquitto, `clinic listen` as a child process, the lobby and
staff app's people in two processes), only shorter; it asserts no error and every device message stored once. The
latency figures belong to the benchmark, not to this test.
"""

from __future__ import annotations

import pytest

from bench.clinic_day import parse_args, report, run_day


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_short_clinic_day_has_no_errors_and_loses_nothing(backend: str, pg_database: str) -> None:
    args = parse_args(["--idle", "2", "--duration", "6", "--rate", "150", "--backlog", "3000", "--devices", "20",
                       "--kiosks", "2", "--backlog-timeout", "120"])  # fmt: skip
    day = run_day(backend, args)
    text = report(day)
    assert day.errors == 0, text
    assert day.published > 3000 and day.stored == day.published, text
    assert day.dead_letters == 0 and day.listener_exit == 0, text
    for phase in day.phases:
        assert phase.results.latencies.get("lobby check-in"), f"no check-in ran in {phase.name}: {text}"
        assert phase.results.latencies.get("staff sign-in"), f"no sign-in ran in {phase.name}: {text}"
