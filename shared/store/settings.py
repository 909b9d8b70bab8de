"""All configuration in one place: `CLINIC_*` environment variables (or a `.env` file)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.store.units import Units, units_for_zone

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Minutes a disinfectant must stay wet after a wipe-down before the station may be used (most hospital wipes
# say 1 to 3 min on the label). Kinds not listed use "default"; CLINIC_CONTACT_TIME_MIN adds to or overrides these.
DEFAULT_CONTACT_TIME_MIN: dict[str, float] = {"default": 2.0}
MAX_CONTACT_TIME_MIN = 60.0
DEFAULT_WAITING_ALERT_MIN = 15


class Settings(BaseSettings):
    """Settings for every process of the system; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="CLINIC_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="SQLite file, broker passwords/ACL, certificates")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    timezone: str | None = Field(default=None, description="IANA zone for 'today'; default the system's")
    log_level: str = "INFO"

    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_client_id: str | None = Field(default=None, description="the listener's session id; default its username")
    mqtt_shared_group: str | None = None
    mqtt_tls_ca: Path | None = Field(default=None, description="CA the listener/simulator verify the broker with")
    mqtt_tls_port: int = Field(default=8883, description="the broker's TLS listener, after `clinic init --tls`")
    mqtt_tls_address: str = Field(default="0.0.0.0", description="address the broker's TLS listener binds")
    mqtt_session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    mqtt_keepalive_s: int = Field(default=30, ge=5)
    topic_prefix: str = "clinic"
    site: str = "main"

    bridge_to: str | None = Field(default=None, description="host:port of the chain's central broker (a site)")
    bridge_username: str | None = Field(default=None, description="the bridge's account there; default bridge.<site>")
    bridge_password: str | None = None
    bridge_cafile: Path | None = Field(default=None, description="CA the bridge verifies the central broker with")

    clinic_name: str = Field(default="Riverside Physical Therapy", description="shown on the lobby and cards")
    units: Units | None = Field(default=None, description="us or metric, in doses; default by timezone's country")
    kiosk_url: str | None = Field(default=None, description="base URL that QR cards link to; default the lobby")
    confirm_dob: bool = Field(default=True, description="patients confirm their birth date before anything shows")
    checkin_before_min: int = Field(default=120, ge=0, description="check-in opens this long before the start")
    checkin_after_min: int = Field(default=60, ge=0, description="and closes this long after it")
    dob_max_attempts: int = Field(default=5, ge=1)
    dob_lock_min: int = Field(default=15, ge=1)
    lobby_idle_s: int = Field(default=60, ge=5, description="the lobby returns to its welcome screen after this")
    lobby_port: int = 8501
    lobby_address: str = "127.0.0.1"
    staff_port: int = 8502
    staff_url: str | None = Field(default=None, description="base URL station labels link to; default the staff app")
    staff_address: str = "127.0.0.1"
    staff_session_timeout_min: int = Field(default=30, ge=1, description="staff are signed out after this idle")
    staff_session_max_hours: int = Field(default=12, ge=1, le=24 * 7, description="a staff sign-in lasts at most this")
    board_refresh_s: float = Field(default=1.5, ge=1, description="how often the equipment board refreshes")
    tls_cert: Path | None = Field(default=None, description="certificate (PEM) to serve the lobby over HTTPS")
    tls_key: Path | None = None

    contact_time_min: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_CONTACT_TIME_MIN),
        description='disinfectant contact time per equipment kind, JSON like {"treadmill": 2, "default": 1}',
    )
    plan_link_days: int = Field(
        default=42, ge=1, le=366, description="a patient's take-home plan link works this many days (or until revoked)"
    )
    plan_link_writes_per_min: int = Field(
        default=30, ge=1, description="most ticks and pain answers one take-home link may send in a minute"
    )
    waiting_alert_min: int = Field(
        default=DEFAULT_WAITING_ALERT_MIN, ge=1, description="a checked-in patient not started after this is flagged"
    )
    clean_within_min: float = Field(
        default=15, ge=0, description="a use counts as cleaned in time when cleaned this soon after it ended"
    )

    dead_letters_per_device_hour: int = Field(
        default=100, ge=1, description="new dead letters kept per device and hour; the excess is counted, not stored"
    )
    dead_letter_retention_days: int = Field(default=90, ge=1, description="dead letters older than this are deleted")
    disk_warn_percent: int = Field(
        default=90,
        ge=1,
        le=100,
        description="warn (listener log, staff app, `clinic status`) when the data disk is this full",
    )
    backup_dir: Path | None = Field(
        default=None, description="where `clinic db backup` writes; default data_dir/backups"
    )
    backup_max_age_h: int = Field(default=36, ge=1, description="warn when the last backup is older than this")
    ingest_batch_max: int = Field(default=2000, ge=1, description="most messages committed in one transaction")
    mqtt_receive_maximum: int = Field(default=4000, ge=1, le=65535, description="unacked messages in flight")

    @field_validator("site")
    @classmethod
    def _site_is_an_id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(f"site {value!r} must match {ID_PATTERN.pattern}")
        return value

    @field_validator("mqtt_shared_group")
    @classmethod
    def _shared_group_is_a_group_name(cls, value: str | None) -> str | None:
        # It becomes a topic level ($share/<group>/...): a bad one would fail the subscription on every connect.
        if value is None:
            return None
        if not value or any(ch in "/+#" or ch.isspace() or not ch.isprintable() for ch in value):
            raise ValueError(
                f"CLINIC_MQTT_SHARED_GROUP {value!r} must be a shared-subscription group name: one or more characters "
                "without / + # or spaces (or leave it unset for no shared group)"
            )
        return value

    @model_validator(mode="after")
    def _client_id_is_the_account(self) -> Settings:
        # The broker replaces every client id with the username (use_username_as_clientid), so another id
        # would only mislead the logs and the operator.
        if self.mqtt_username and self.mqtt_client_id and self.mqtt_client_id != self.mqtt_username:
            raise ValueError(
                f"CLINIC_MQTT_CLIENT_ID {self.mqtt_client_id!r} must equal CLINIC_MQTT_USERNAME "
                f"{self.mqtt_username!r} (the broker uses the account as the client id), or be left unset"
            )
        return self

    @field_validator("bridge_to")
    @classmethod
    def _bridge_is_host_port(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        host, _, port = value.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c.isspace() for c in host):
            raise ValueError(f"bridge address {value!r} must be host:port (e.g. center.example.org:8883)")
        return value.strip()

    @property
    def resolved_bridge_username(self) -> str:
        """The bridge's account (and client id) on the central broker: CLINIC_BRIDGE_USERNAME or bridge.<site>."""
        return self.bridge_username or f"bridge.{self.site}"

    @property
    def resolved_mqtt_client_id(self) -> str:
        """The listener's client id: CLINIC_MQTT_CLIENT_ID, else its account, else clinic-listener."""
        return self.mqtt_client_id or self.mqtt_username or "clinic-listener"

    @field_validator("topic_prefix")
    @classmethod
    def _prefix_has_no_wildcards(cls, value: str) -> str:
        if not value or any(ch in value for ch in "+#") or value.startswith("/") or value.endswith("/"):
            raise ValueError(f"topic prefix {value!r} must be a plain topic level without + # or edge slashes")
        return value

    @field_validator("contact_time_min")
    @classmethod
    def _contact_times(cls, value: dict[str, float]) -> dict[str, float]:
        table = dict(DEFAULT_CONTACT_TIME_MIN)
        for kind, minutes in value.items():
            if not 0 <= minutes <= MAX_CONTACT_TIME_MIN:
                raise ValueError(f"contact time for {kind!r} must be 0 to {MAX_CONTACT_TIME_MIN:g} minutes")
            table[kind.strip()] = float(minutes)
        return table

    def contact_time(self, kind: str) -> timedelta:
        """How long a station of this kind stays 'cleaning' after a wipe-down."""
        return contact_time_for(self.contact_time_min, kind)

    def as_env(self) -> dict[str, str]:
        """The CLINIC_* variables that reproduce these settings in a child process (dicts and lists as JSON)."""
        env = {}
        for name, value in self.model_dump(mode="json").items():
            if value is not None:
                env[f"CLINIC_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
        return env

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'clinic.db').resolve()}"

    @property
    def resolved_kiosk_url(self) -> str:
        """What QR cards link to: CLINIC_KIOSK_URL, or this machine's lobby address and port."""
        if self.kiosk_url:
            return self.kiosk_url
        scheme = "https" if self.tls_cert and self.tls_key else "http"
        return f"{scheme}://localhost:{self.lobby_port}"

    @property
    def resolved_staff_url(self) -> str:
        """What station labels link to: CLINIC_STAFF_URL, or this machine's staff app address and port."""
        if self.staff_url:
            return self.staff_url
        scheme = "https" if self.tls_cert and self.tls_key else "http"
        return f"{scheme}://localhost:{self.staff_port}"

    @property
    def resolved_units(self) -> Units:
        """The units patients read doses in: CLINIC_UNITS, else those of CLINIC_TIMEZONE's country ("us" if none)."""
        return self.units or units_for_zone(self.timezone)

    @property
    def tz(self) -> tzinfo:
        """The clinic's time zone, which decides what 'today' means."""
        if self.timezone:
            return ZoneInfo(self.timezone)
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local

    @property
    def resolved_backup_dir(self) -> Path:
        """Where `clinic db backup` writes when not told otherwise: CLINIC_BACKUP_DIR, or data_dir/backups."""
        return self.backup_dir or self.data_dir / "backups"

    @property
    def broker_dir(self) -> Path:
        """Where the broker's password file, ACL and persistence live."""
        return self.data_dir / "mosquitto"


def contact_time_for(table: Mapping[str, float], kind: str) -> timedelta:
    """The contact time for an equipment kind from a kind -> minutes table ("default" for kinds not listed)."""
    minutes = table.get(kind, table.get("default", DEFAULT_CONTACT_TIME_MIN["default"]))
    return timedelta(minutes=minutes)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
