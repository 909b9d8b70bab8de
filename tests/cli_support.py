"""Running the `clinic` command in-process for the CLI tests (the `cli` runner and `maria` fixtures are in
tests/conftest.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from clinic.cli import app
from tests.factories import KIOSK_URL

KIOSK = KIOSK_URL  # the lobby address the `cli` fixture sets, so cards link to it


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    """`clinic <args>`: (exit code, stdout, stderr)."""
    result = cli.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_json(cli: CliRunner, *args: str) -> object:
    """`clinic <args> --json`, which must succeed: the parsed output."""
    code, out, err = run(cli, *args, "--json")
    assert code == 0, err
    return json.loads(out)
