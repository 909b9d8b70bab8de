"""Small helpers shared by the tests and the benchmarks: free ports, waiting for ports and for conditions.

The one home of these (bench/ imports them too), so a deadline means the same everywhere.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


class WaitTimedOut(AssertionError, TimeoutError):
    """A wait passed its deadline: a failed assertion in a test, a `TimeoutError` for the benchmarks."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, *, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port right now."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for_port(port: int, *, up: bool = True, timeout: float = 15.0) -> None:
    """Poll until the port accepts (or refuses) connections, with a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port) == up:
            return
        time.sleep(0.02)
    raise TimeoutError(f"port {port} did not {'open' if up else 'close'} within {timeout}s")


def wait_until(
    predicate: Callable[[], object], *, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"
) -> None:
    """Poll `predicate()` until it is truthy or the deadline passes (event-driven waits, no fixed sleeps).

    At the deadline it raises `WaitTimedOut`, both an `AssertionError` and a `TimeoutError`.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return
        time.sleep(interval)
    raise WaitTimedOut(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")
