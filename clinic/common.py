"""What every `clinic` sub-command shares: settings, the engine, the one error handler, logging and signals.

Every `clinic/*_cli.py` module imports this one (and `clinic.output`); none imports another command module
except for a named helper, and `clinic.cli` only assembles the Typer apps, so there is no import cycle.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import wraps
from typing import Annotated, Any, NoReturn, Protocol, TypeVar

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from shared.store.db import init_db, make_engine
from shared.store.errors import ClinicError
from shared.store.settings import Settings, get_settings

F = TypeVar("F", bound=Callable[..., Any])
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of text.")]
JsonTableFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
PatientId = Annotated[int, typer.Argument(help="The patient's id (printed by `clinic patient add`).")]


def user_errors(func: F) -> F:
    """Turn user mistakes into one line on stderr and exit code 2, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ClinicError as exc:
            fail(str(exc))
        except OperationalError as exc:
            fail(f"cannot use the database ({exc.orig}); check CLINIC_DATABASE_URL")
        except ValueError as exc:  # settings validation and the like
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print an error for a person and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    """Settings, with a readable message when an environment variable is wrong."""
    try:
        return get_settings()
    except ValueError as exc:
        fail(f"bad configuration: {exc}")


@contextmanager
def engine_for(cfg: Settings, *, create_schema: bool = True) -> Iterator[Engine]:
    """The engine, disposed after; the schema created when missing (cheap, and saves a forgotten `clinic init`)
    unless `create_schema` is false (`clinic db`, which manages the schema itself)."""
    engine = make_engine(cfg.resolved_database_url)
    try:
        if create_schema:
            init_db(engine)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def store() -> Iterator[tuple[Settings, Engine]]:
    """The settings and an engine on the store (its schema created when missing), for one command."""
    cfg = settings()
    with engine_for(cfg) as engine:
        yield cfg, engine


def setup_logging(cfg: Settings) -> None:
    """One format for every process; level from CLINIC_LOG_LEVEL."""
    logging.basicConfig(
        level=cfg.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def stop_on_signals(stop: Callable[[], None]) -> None:
    """Call `stop()` on SIGTERM or Ctrl-C (SIGINT), so a long-running command ends cleanly."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop())


class Runner(Protocol):
    """A long-running adapter of `telemetry/`: runs until `stop()` is called."""

    def run(self) -> object: ...

    def stop(self) -> None: ...


def run_until_stopped(
    make: Callable[[Settings, Engine], Runner], *, records_events: bool = False, single: str | None = None
) -> None:
    """Run an adapter on the store until SIGTERM or Ctrl-C (`clinic listen`, `clinic chain listen|sync`).

    `records_events` takes the listener lock first, so `clinic db restore` of this store refuses while it runs,
    and refuses a second listener with the same broker account on this store (it would take over the session);
    a broker that refuses the adapter's account is one `error:` line. `single` (a command's name, `native`)
    refuses a second copy of that command on this store.
    """
    from shared.store.lock import listener_lock, only_one
    from telemetry.persistent_session import BrokerRefused

    cfg = settings()
    setup_logging(cfg)
    with ExitStack() as held:
        if records_events:
            held.enter_context(listener_lock(cfg.data_dir, cfg.resolved_database_url))
            # The broker names a session after the account (use_username_as_clientid): a second listener with
            # the same account would take the session over, and the two would knock each other off for ever.
            account = f"{cfg.mqtt_username or cfg.resolved_mqtt_client_id} on {cfg.mqtt_host}:{cfg.mqtt_port}"
            held.enter_context(only_one(cfg.data_dir, cfg.resolved_database_url, command="listen", as_=account))
        elif single is not None:
            held.enter_context(only_one(cfg.data_dir, cfg.resolved_database_url, command=single))
        engine = held.enter_context(engine_for(cfg))
        runner = make(cfg, engine)
        stop_on_signals(runner.stop)
        try:
            runner.run()
        except BrokerRefused as exc:
            fail(str(exc))
