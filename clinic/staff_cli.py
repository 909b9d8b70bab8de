"""`clinic staff`: serve the staff app, and manage staff accounts from the command line."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer

staff_app = typer.Typer(help="Serve the staff app (no sub-command) and manage staff accounts.",
                        invoke_without_command=True)  # fmt: skip


@staff_app.callback()
def serve(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option(help="Port; default CLINIC_STAFF_PORT (8502).")] = None,
    address: Annotated[str | None, typer.Option(help="Address; default CLINIC_STAFF_ADDRESS.")] = None,
) -> None:
    """Serve the staff app: equipment board, arrivals and administration (sign-in required)."""
    if ctx.invoked_subcommand is not None:
        return
    from clinic.apps import app_url, streamlit_argv
    from clinic.cli import engine_for, settings

    cfg = settings()
    port, address = port or cfg.staff_port, address or cfg.staff_address
    with engine_for(cfg):
        pass
    typer.echo(f"staff app on {app_url(cfg, port=port, address=address)}", err=True)
    argv = streamlit_argv("staff", cfg, port=port, address=address)
    os.execv(argv[0], argv)


@staff_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Sign-in name (a-z, 0-9, '.', '_', '-').")],
    role: Annotated[str, typer.Option(help="technician, front_desk or admin.")],
    name: Annotated[str, typer.Option(help="Name shown in the app.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a staff account; the password is asked for twice (or read from standard input)."""
    from clinic.cli import engine_for, settings, user_errors
    from shared.staff.accounts import create_account

    @user_errors
    def run() -> None:
        password = _read_password()
        with engine_for(settings()) as engine:
            user = create_account(engine, username=username, password=password, role=role, display_name=name)
        if as_json:
            typer.echo(json.dumps({"id": user.id, "username": user.username, "role": user.role}))
        else:
            typer.echo(f"created {user.role.replace('_', ' ')} account {user.username!r}")

    run()


@staff_app.command("passwd")
def passwd(username: Annotated[str, typer.Argument(help="The account.")]) -> None:
    """Set a new password (also lifts a lock-out)."""
    from clinic.cli import engine_for, settings, user_errors
    from shared.staff.accounts import update_account

    @user_errors
    def run() -> None:
        password = _read_password()
        with engine_for(settings()) as engine:
            update_account(engine, username=username, actor="cli", password=password)
        typer.echo(f"password changed for {username!r}")

    run()


@staff_app.command("list")
def list_accounts() -> None:
    """Every staff account with its role (never a password)."""
    from clinic.cli import _table, engine_for, settings, user_errors
    from shared.staff import accounts as staff

    @user_errors
    def run() -> None:
        with engine_for(settings()) as engine:
            accounts = staff.list_accounts(engine)
        rows = [[a.username, a.display_name, a.role, "disabled" if a.disabled else "active"] for a in accounts]
        _table(["USERNAME", "NAME", "ROLE", "STATE"], rows)

    run()


def _read_password() -> str:
    """From the terminal (asked twice, not echoed) or the first line of standard input (for scripts)."""
    if sys.stdin.isatty():
        first = typer.prompt("Password", hide_input=True)
        if typer.prompt("Repeat the password", hide_input=True) != first:
            from shared.store.errors import ValidationFailed

            raise ValidationFailed("the two passwords differ")
        return str(first)
    return sys.stdin.readline().rstrip("\r\n")
