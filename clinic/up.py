"""`clinic up`: start (or reuse) the broker, then the listener and maybe the simulator, and supervise them.

A child that dies is restarted with backoff (1 s doubling to 30 s, from 1 s again after a minute up) and the
others go on. Children run in their own sessions, so a Ctrl-C in the terminal reaches only this supervisor, which
then stops them in reverse order: the simulator says offline, the listener commits what it holds, and only then does
the broker go. Each child's output goes to `<data dir>/logs/<name>.log`.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import FrameType

import typer
from sqlalchemy import Engine

from clinic.apps import app_url, streamlit_argv
from clinic.log_rotation import rotate_logs
from clinic.output import safe_url
from clinic.processes import Child, port_open, start_child, stop_children, wait_for_port
from clinic.up_setup import (
    BROKER_START_TIMEOUT_S,
    UpError,
    clinic_command,
    forget_pid_file,
    listener_env,
    native_env,
    simulator_env,
    start_broker,
    with_certificate,
)
from clinic.up_state import ChildState, UpState, forget_state, write_state
from shared.demo.native import seed_demo_bindings
from shared.demo.patients import seed_demo_patients
from shared.demo.staff import ensure_demo_staff
from shared.demo.stations import registered_ids, seed_demo
from shared.store.db import init_db, make_engine, read_session, unit_of_work
from shared.store.errors import ValidationFailed
from shared.store.private_files import make_private, private_dir
from shared.store.settings import Settings
from shared.store.types import utcnow
from telemetry.broker import FileBrokerAccounts, ensure_broker_files

POLL_S = 0.2
BACKOFF_FIRST_S, BACKOFF_MAX_S = 1.0, 30.0  # a crashed child is restarted after 1 s, 2 s, 4 s, ... at most 30 s
BACKOFF_RESET_S = 60.0  # a child that ran this long before crashing starts again from the first delay
ROTATE_EVERY_S = 30.0  # how often `watch` checks the size of the logs
LISTENER_READY_TEXT = "subscribed"  # what the listener logs once its subscription is in place
LISTENER_READY_TIMEOUT_S = 15.0


@dataclass(slots=True)
class Restarts:
    """One child's crash record: restarts in a row, when the next is due, since when it has been up."""

    count: int = 0
    due: float | None = None
    running_since: float | None = None
    total: int = 0  # restarts since `clinic up` started, for `clinic status`

    def crashed(self, now: float) -> float:
        """Note a crash; returns the delay before the restart (doubling, reset after a minute of uptime)."""
        if self.running_since is not None and now - self.running_since >= BACKOFF_RESET_S:
            self.count = 0
        self.count += 1
        self.total += 1
        delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self.count - 1))
        self.due = now + delay
        return delay


class Supervisor:
    """Starts the processes, prints where they run, and stops them on a signal or when one dies."""

    def __init__(self, cfg: Settings, *, simulate: bool, rate: float, seed: bool, https: bool = False) -> None:
        self.cfg, self.simulate, self.rate, self.seed = cfg, simulate, rate, seed
        self.https = https
        self.children: list[Child] = []
        self.broker: Child | None = None
        self.stopping = False
        self.logs_dir = cfg.data_dir / "logs"
        self.demo_lines: list[str] = []
        self.staff_lines: list[str] = []
        self.commands: dict[str, tuple[list[str], dict[str, str]]] = {}  # how each child was started
        self.started_at = utcnow()
        self.child_started: dict[str, str] = {}  # name -> when this run of it started (ISO), for `clinic status`
        self.restarts: dict[str, Restarts] = {}

    def request_stop(self, _signum: int = 0, _frame: FrameType | None = None) -> None:
        """Signal handler: ask the supervisor to stop everything (only sets a flag)."""
        self.stopping = True

    def run(self) -> int:
        """Set up, start, supervise; returns the exit code (0 after Ctrl-C or SIGTERM, 2 if it could not start)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.request_stop)
        try:
            self.start()
            return 0 if self.stopping else self.watch()
        except UpError as exc:
            typer.echo(f"error: {exc}", err=True)
            return 2
        finally:
            stop_children(self.children)
            forget_state(self.cfg.data_dir)
            if self.broker is not None:
                forget_pid_file(self.cfg, self.broker)

    def start(self) -> None:
        """Prepare the store and the broker files, then start the processes and say what runs where."""
        if self.https:
            self.cfg = with_certificate(self.cfg)
        cfg = self.cfg
        self.prepare_store()
        accounts = ensure_broker_files(cfg)
        private_dir(self.logs_dir)
        make_private(cfg.data_dir)  # owner-only throughout: the store, logs and backups of older releases were 0644
        reused = port_open(cfg.mqtt_host, cfg.mqtt_port)
        if not reused:
            self.broker = start_broker(cfg, self.logs_dir)
            self.child_started["mosquitto"] = utcnow().isoformat()
            self.commands["mosquitto"] = (list(self.broker.process.args), dict(os.environ))  # type: ignore[arg-type]
            self.children.append(self.broker)
        if self.stopping:
            return
        self.children.append(
            self.start_child("listener", clinic_command("listen"), listener_env(cfg, os.environ, accounts))
        )
        # The native adapter translates plugs, Zigbee sensors and ESPHome nodes; it runs whether or not any is bound
        # yet, so a device set up later reports (and is offered for binding) without another start.
        self.children.append(self.start_child("native", clinic_command("native"), native_env(os.environ, accounts)))
        if self.simulate:
            self.wait_for_listener(self.children[-2])
            argv = clinic_command("simulate", "--rate", str(self.rate), "--duration", "0", "--site", cfg.site)
            self.children.append(self.start_child("simulator", argv, simulator_env(os.environ, accounts)))
            argv = clinic_command("simulate-native", "--duration", "0", "--site", cfg.site)  # plugs, sensors, nodes
            self.children.append(self.start_child("native-sim", argv, simulator_env(os.environ, accounts)))
        for app, port, address in (
            ("lobby", cfg.lobby_port, cfg.lobby_address),
            ("staff", cfg.staff_port, cfg.staff_address),
        ):
            argv = streamlit_argv(app, cfg, port=port, address=address)
            self.children.append(self.start_child(app, argv, os.environ))
        for child, port, address in ((self.children[-2], cfg.lobby_port, cfg.lobby_address),
                                     (self.children[-1], cfg.staff_port, cfg.staff_address)):  # fmt: skip
            if not wait_for_port(address, port, timeout=BROKER_START_TIMEOUT_S):
                typer.echo(f"the {child.name} app is not answering yet; see {child.log_path}", err=True)
        self.print_summary(reused)
        self.save_state()

    def wait_for_listener(self, listener: Child) -> None:
        """Let the listener subscribe before simulating: on a first run it has no session queueing for it."""
        deadline = time.monotonic() + LISTENER_READY_TIMEOUT_S
        while not self.stopping and listener.process.poll() is None and time.monotonic() < deadline:
            if LISTENER_READY_TEXT in listener.output():
                return
            time.sleep(0.05)
        if not self.stopping and listener.process.poll() is None:
            typer.echo(f"the listener has not subscribed after {LISTENER_READY_TIMEOUT_S:.0f}s; starting anyway")

    def prepare_store(self) -> None:
        """Create the schema; with seeding, demo stations (once), demo patients and demo staff accounts."""
        engine = make_engine(self.cfg.resolved_database_url)
        try:
            init_db(engine)
            with read_session(engine) as session:
                empty = not registered_ids(session=session, site=self.cfg.site)
            if self.seed and empty:
                with unit_of_work(engine) as session:
                    ids = seed_demo(session=session, site=self.cfg.site)
                typer.echo(f"registered {len(ids)} demo stations at site {self.cfg.site!r}")
            if self.seed:
                self.bind_demo_devices(engine)
                cards = seed_demo_patients(engine=engine, settings=self.cfg, now=utcnow())
                self.demo_lines = [f"  {demo.first:<6} born {demo.dob.isoformat()}  {card.url}" for demo, card in cards]
                self.staff_lines = [
                    f"  {user:<7} {role.replace('_', ' '):<11} password {password}"
                    for user, role, password in ensure_demo_staff(engine=engine)
                ]
        finally:
            engine.dispose()

    def bind_demo_devices(self, engine: Engine) -> None:
        """Bind the demo's native devices (`clinic simulate-native` plays them) to their demo stations, once."""
        try:
            with unit_of_work(engine) as session:
                bound = seed_demo_bindings(session=session, accounts=FileBrokerAccounts(self.cfg), site=self.cfg.site)
        except ValidationFailed as exc:
            typer.echo(f"the demo devices were not bound: {exc}", err=True)
            return
        if bound:
            typer.echo(f"bound {len(bound)} demo devices to their stations ({', '.join(bound)})")

    def print_summary(self, reused: bool) -> None:
        """Say what runs where, and how to see the state."""
        cfg = self.cfg
        broker = "using the broker already running there" if reused else f"started, pid {self._pid('mosquitto')}"
        simulator = (f"pid {self._pid('simulator')}, {self.rate:g} msg/s; native devices pid {self._pid('native-sim')}"
                     if self.simulate else "off (add --simulate)")  # fmt: skip
        lines = [
            "clinic is up:",
            f"  broker     {cfg.mqtt_host}:{cfg.mqtt_port} ({broker})",
            f"  database   {safe_url(cfg.resolved_database_url)}",
            f"  listener   pid {self._pid('listener')}",
            f"  native     pid {self._pid('native')} (Shelly, Tasmota, Zigbee2MQTT and ESPHome devices)",
            f"  simulator  {simulator}",
            f"  lobby      {app_url(cfg, port=cfg.lobby_port, address=cfg.lobby_address)} (pid {self._pid('lobby')})",
            f"  staff app  {app_url(cfg, port=cfg.staff_port, address=cfg.staff_address)} (pid {self._pid('staff')})",
            f"  logs       {self.logs_dir.resolve()}/ ({', '.join(c.log_path.name for c in self.children)})",
            "See the state with `clinic equipment list` (add --json for scripts). Stop with Ctrl-C.",
        ]
        if self.demo_lines:
            lines += ["Demo check-in cards (open a link, or type it into the lobby's scan field):", *self.demo_lines]
        if self.staff_lines:
            lines += ["Demo staff accounts for the staff app (new passwords at every start):", *self.staff_lines]
        typer.echo("\n".join(lines))

    def watch(self) -> int:
        """Until a stop request (returns 0), restart any child that dies, with backoff, and leave the rest be."""
        restarts = self.restarts = {child.name: Restarts() for child in self.children}
        next_rotation = 0.0
        while not self.stopping:
            now = time.monotonic()
            if now >= next_rotation:  # the children's logs, and the broker's own, never fill the disk
                rotate_logs(self.logs_dir)
                rotate_logs(self.cfg.broker_dir)
                next_rotation = now + ROTATE_EVERY_S
            for index, child in enumerate(self.children):
                state = restarts[child.name]
                code = child.process.poll()
                if code is None:
                    state.running_since = state.running_since or now
                    continue
                if state.due is None:
                    delay = state.crashed(now)
                    typer.echo(
                        f"error: {child.name} (pid {child.process.pid}) exited unexpectedly with code {code}; "
                        f"see {child.log_path}. Restarting it in {delay:g}s (restart {state.count}); "
                        "the other services go on.",
                        err=True,
                    )
                    self.save_state()
                elif now >= state.due:
                    self.children[index] = self.restart(child)
                    state.due, state.running_since = None, None
                    self.save_state()
            time.sleep(POLL_S)
        typer.echo("stopping...")
        return 0

    def restart(self, child: Child) -> Child:
        """Start a dead child again with the command and environment it was first started with."""
        argv, env = self.commands[child.name]
        fresh = start_child(child.name, argv, env, self.logs_dir)
        self.child_started[child.name] = utcnow().isoformat()
        if child is self.broker:
            self.broker = fresh
        typer.echo(f"restarted {child.name} (pid {fresh.process.pid})", err=True)
        return fresh

    def start_child(self, name: str, argv: list[str], env: Mapping[str, str]) -> Child:
        """Start a child and remember how, so that `watch` can restart it."""
        self.commands[name] = (argv, dict(env))
        self.child_started[name] = utcnow().isoformat()
        return start_child(name, argv, env, self.logs_dir)

    def save_state(self) -> None:
        """Tell `clinic status` what runs: this supervisor, each child's pid, its start and restarts."""
        children = [
            ChildState(name=c.name, pid=c.process.pid, started_at=self.child_started.get(c.name, ""),
                       restarts=self.restarts[c.name].total if c.name in self.restarts else 0,
                       running=c.process.poll() is None)
            for c in self.children
        ]  # fmt: skip
        write_state(self.cfg.data_dir, UpState(pid=os.getpid(), started_at=self.started_at.isoformat(),
                                               children=children))  # fmt: skip

    def _pid(self, name: str) -> str:
        return next((str(c.process.pid) for c in self.children if c.name == name), "?")


def run_up(cfg: Settings, *, simulate: bool, rate: float, seed: bool, https: bool = False) -> int:
    """Run `clinic up` until Ctrl-C or SIGTERM; returns the exit code."""
    return Supervisor(cfg, simulate=simulate, rate=rate, seed=seed, https=https).run()
