"""A site's rendered broker config bridges to the center; the center's ACL confines each bridge to its site."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from shared.store.settings import Settings
from telemetry.broker import bridge_sites, ensure_broker_files, set_bridge_password
from telemetry.broker_config import write_config
from telemetry.broker_files import BrokerFiles
from telemetry.broker_tls import BrokerTls, ensure_broker_tls


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **values)  # type: ignore[call-arg]


def _bridge_section(config: Path) -> list[str]:
    lines = config.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("connection "))
    return lines[start:]


def test_a_site_without_bridge_to_renders_no_bridge(tmp_path: Path) -> None:
    cfg = _settings(tmp_path)
    ensure_broker_files(cfg)
    assert "connection " not in write_config(cfg, port=1883).read_text()


def test_a_site_with_bridge_to_forwards_its_own_topics_at_qos_1_with_a_persistent_session(tmp_path: Path) -> None:
    cfg = _settings(tmp_path, site="north", bridge_to="center.example.org:8883", bridge_password="s3cret")
    ensure_broker_files(cfg)
    config = write_config(cfg, port=1883)
    section = _bridge_section(config)
    for line in (
        "connection bridge.north",
        "address center.example.org:8883",
        "remote_clientid bridge.north",
        "remote_username bridge.north",
        "remote_password s3cret",
        "topic clinic/north/# out 1",
        "cleansession false",
        "local_cleansession false",
        "bridge_protocol_version mqttv311",
        "notification_topic clinic/north/bridge/state",
    ):
        assert line in section
    assert not any(line.startswith("bridge_cafile") for line in section)
    # The bridge's password is in the file: only its owner may read it.
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_the_bridge_verifies_the_center_with_the_ca_given(tmp_path: Path) -> None:
    tls = BrokerTls(tmp_path / "center-tls")
    ensure_broker_tls(tls, names=["localhost"])
    cfg = _settings(tmp_path, site="north", bridge_to="localhost:8883", bridge_password="x", bridge_cafile=tls.ca)
    ensure_broker_files(cfg)
    section = _bridge_section(write_config(cfg, port=1883))
    assert f"bridge_cafile {tls.ca.resolve()}" in section
    assert "bridge_insecure false" in section


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"bridge_to": "center:8883"}, "CLINIC_BRIDGE_PASSWORD is needed with CLINIC_BRIDGE_TO"),
        ({"bridge_to": "center:8883", "bridge_password": "x", "bridge_cafile": "/nowhere/ca.pem"},
         "CLINIC_BRIDGE_CAFILE: no CA certificate at /nowhere/ca.pem"),
    ],
)  # fmt: skip
def test_an_incomplete_bridge_setting_is_refused_with_its_name(
    tmp_path: Path, values: dict[str, object], message: str
) -> None:
    cfg = _settings(tmp_path, **values)
    ensure_broker_files(cfg)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        write_config(cfg, port=1883)


@pytest.mark.parametrize("value", ["center", "center:", ":8883", "center:99999", "center:http"])
def test_a_bridge_address_that_is_not_host_port_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="must be host:port"):
        _settings(tmp_path, bridge_to=value)


def test_each_sites_bridge_account_may_write_its_own_site_only(tmp_path: Path) -> None:
    center = _settings(tmp_path)
    ensure_broker_files(center)
    first = set_bridge_password(center, "north")
    set_bridge_password(center, "south")
    assert bridge_sites(center) == {"north": "bridge.north", "south": "bridge.south"}
    acl = BrokerFiles(center.broker_dir).acl.read_text()
    assert "user bridge.north\ntopic write clinic/north/#\n" in acl
    assert "user bridge.south\ntopic write clinic/south/#\n" in acl
    passwd = BrokerFiles(center.broker_dir).passwd.read_text()
    assert "bridge.north:$7$" in passwd and first not in passwd  # stored hashed only
