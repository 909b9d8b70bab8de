"""One round: publish for `seconds`, wait until everything it caused is recorded, and read what each process's
CPU clock moved meanwhile."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.common import Message, load_average, wait_until
from bench.native.rig import Rig
from bench.native.traffic import PoolPublishers

CATCH_UP_S = 120.0  # longer than this after the last publish, and the services did not keep up
SETTLED_S = 0.3  # the plugs' stations' rows must stay unchanged this long before a native round counts as done


@dataclass
class Round:
    kind: str  # native | contract
    number: int  # 0: warm-up, not reported
    published: int
    seconds: float  # publishing
    late_max_ms: float
    refused: int
    payload_bytes: float  # mean size of the round's payloads
    catch_up_s: float  # from the last PUBACK until everything the round caused was recorded
    adapter_cpu_s: float
    listener_cpu_s: float
    broker_cpu_s: float
    plug_events: int  # rows recorded at the plugs' stations during the round (derived events)
    load: float  # 1-minute load average at the start

    @property
    def rate(self) -> float:
        return self.published / self.seconds

    def us(self, cpu_s: float) -> float:
        return cpu_s / self.published * 1e6

    @property
    def per_message_us(self) -> float:
        """What one message of the round cost: the adapter and the listener for a native message (the adapter
        is part of its path), the listener alone for a contract message (the adapter idles meanwhile)."""
        spent = self.listener_cpu_s + (self.adapter_cpu_s if self.kind == "native" else 0.0)
        return self.us(spent)


def run_round(rig: Rig, publishers: PoolPublishers, kind: str, number: int,
              senders: Sequence[Callable[[float], Message]], seconds: int) -> Round:  # fmt: skip
    rig.check_alive()
    load = load_average()
    committed, plug_events, contract_events = rig.adapter_committed(), rig.events("plugs"), rig.events("contract")
    cpu = (rig.adapter.cpu_s(), rig.listener.cpu_s(), rig.broker_cpu_s())
    sent = publishers.pace(senders, seconds)
    last_publish = time.monotonic()
    if kind == "native":
        wait_until(lambda: _native_done(rig, committed + sent.published), timeout=CATCH_UP_S, interval=0.05,
                   what="the adapter to commit the round and the listener to store what it derived")  # fmt: skip
    else:
        target = contract_events + sent.published
        wait_until(lambda: _alive(rig) and rig.events("contract") >= target, timeout=CATCH_UP_S, interval=0.05,
                   what="the listener to store the round")  # fmt: skip
    catch_up = time.monotonic() - last_publish
    after = (rig.adapter.cpu_s(), rig.listener.cpu_s(), rig.broker_cpu_s())
    return Round(kind, number, sent.published, sent.seconds, sent.late_max_ms, sent.refused,
                 sent.payload_bytes / max(1, sent.published), catch_up, after[0] - cpu[0], after[1] - cpu[1],
                 after[2] - cpu[2], rig.events("plugs") - plug_events, load)  # fmt: skip


def _alive(rig: Rig) -> bool:
    rig.check_alive()
    return True


def _native_done(rig: Rig, committed: int) -> bool:
    """The adapter committed every message, the broker confirmed every derived one (the outbox is empty), and
    the plugs' stations' rows stopped changing (the listener stored what was derived)."""
    rig.check_alive()
    if rig.adapter_committed() < committed or rig.outbox():
        return False
    rows = rig.events("plugs")
    time.sleep(SETTLED_S)
    return rig.events("plugs") == rows and not rig.outbox()
