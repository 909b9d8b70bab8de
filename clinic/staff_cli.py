"""`clinic staff`: serve the staff app, and manage staff accounts from the command line."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from clinic.apps import serve_app
from clinic.common import store, user_errors
from clinic.output import table
from shared.staff import accounts as staff
from shared.store.db import read_session
from shared.store.errors import ValidationFailed

staff_app = typer.Typer(help="Serve the staff app (no sub-command) and manage staff accounts.",
                        invoke_without_command=True)  # fmt: skip


@staff_app.callback()
@user_errors
def serve(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option(help="Port; default CLINIC_STAFF_PORT (8502).")] = None,
    address: Annotated[str | None, typer.Option(help="Address; default CLINIC_STAFF_ADDRESS.")] = None,
) -> None:
    """Serve the staff app: equipment board, arrivals and administration (sign-in required)."""
    if ctx.invoked_subcommand is not None:
        return
    serve_app("staff", "staff app", port=port, address=address)


@staff_app.command("add")
@user_errors
def add(
    username: Annotated[str, typer.Argument(help="Sign-in name (a-z, 0-9, '.', '_', '-').")],
    role: Annotated[str, typer.Option(help="technician, front_desk, manager or admin.")],
    name: Annotated[str, typer.Option(help="Name shown in the app.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a staff account; the password is asked for twice (or read from standard input)."""
    password = _read_password()
    with store() as (_, engine):
        user = staff.create_account(engine=engine, username=username, password=password, role=role, display_name=name)
    if as_json:
        typer.echo(json.dumps({"id": user.id, "username": user.username, "role": user.role}))
    else:
        typer.echo(f"created {user.role.replace('_', ' ')} account {user.username!r}")


@staff_app.command("passwd")
@user_errors
def passwd(username: Annotated[str, typer.Argument(help="The account.")]) -> None:
    """Set a new password (also lifts a lock-out)."""
    password = _read_password()
    with store() as (_, engine):
        staff.update_account(engine=engine, username=username, actor="cli", password=password)
    typer.echo(f"password changed for {username!r}")


@staff_app.command("list")
@user_errors
def list_accounts() -> None:
    """Every staff account with its role (never a password)."""
    with store() as (_, engine), read_session(engine) as session:
        accounts = staff.list_accounts(session=session)
    rows = [[a.username, a.display_name, a.role, "disabled" if a.disabled else "active"] for a in accounts]
    table(["USERNAME", "NAME", "ROLE", "STATE"], rows)


def _read_password() -> str:
    """From the terminal (asked twice, not echoed) or the first line of standard input (for scripts)."""
    if sys.stdin.isatty():
        first = typer.prompt("Password", hide_input=True)
        if typer.prompt("Repeat the password", hide_input=True) != first:
            raise ValidationFailed("the two passwords differ")
        return str(first)
    return sys.stdin.readline().rstrip("\r\n")
