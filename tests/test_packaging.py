"""The installable product, the cheap part: what the shipped packages import is declared, the broker's config is the
repo's own, and `clinic --version`. scripts/wheel_check.sh builds the wheel, installs it outside the checkout and
runs `clinic up` from it (a step of scripts/test.sh)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions, version
from pathlib import Path

from typer.testing import CliRunner

from clinic.cli import app
from telemetry.broker_config import REPO_CONFIG

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("clinic", "kiosk", "shared", "telemetry")  # the wheel's packages (pyproject.toml)


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imports() -> Iterator[tuple[str, Path]]:
    """The top-level module of every absolute import in the shipped packages, with the file that imports it."""
    for package in SHIPPED:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    yield name.split(".")[0], path


def test_every_third_party_module_the_packages_import_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_normalised(re.split(r"[\[<>=!~;\s]", req, maxsplit=1)[0]) for req in project["dependencies"]}
    distributions = packages_distributions()
    undeclared: dict[str, str] = {}
    for module, path in _imports():
        if module in sys.stdlib_module_names or module in SHIPPED or module == "__future__":
            continue
        if not {_normalised(d) for d in distributions.get(module, [module])} & declared:
            undeclared.setdefault(module, str(path.relative_to(ROOT)))
    assert not undeclared, f"imported but not in [project] dependencies: {undeclared}"


def test_the_shipped_packages_import_nothing_from_bench_or_tests() -> None:
    wrong = sorted({str(path.relative_to(ROOT)) for module, path in _imports() if module in ("bench", "tests")})
    assert not wrong, f"bench/ and tests/ are not in the wheel: {wrong}"


def test_from_a_checkout_the_broker_config_is_the_repo_root_mosquitto_conf() -> None:
    assert REPO_CONFIG == ROOT / "mosquitto.conf"


def test_clinic_version_prints_the_installed_version_and_exits_0() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"clinic {version('clinic-checkin')}"
