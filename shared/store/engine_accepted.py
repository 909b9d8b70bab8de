"""A bridge for callers that still pass `engine=` to a service that now takes the caller's session (issue #24).

Only set-up code outside the checked packages calls this way (tests and benchmarks that record a staff action or
sign in before what they test); the apps and the CLI pass a session. Remove it with the last such caller.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine

from shared.store.db import unit_of_work

P = ParamSpec("P")
R = TypeVar("R")


def engine_accepted(service: Callable[P, R]) -> Callable[P, R]:
    """Let `engine=` stand for `session=`: the service then runs in a unit of work of its own (its one
    transaction, as a page's `run_action` gives it). Type checkers see only the session form."""

    @wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        engine: Engine | None = kwargs.pop("engine", None)  # type: ignore[assignment]
        if engine is None:
            return service(*args, **kwargs)
        with unit_of_work(engine) as session:
            given: dict[str, Any] = {**kwargs, "session": session}
            return service(*args, **given)

    return run
