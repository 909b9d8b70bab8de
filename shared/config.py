"""All configuration in one place: `CLINIC_*` environment variables (or a `.env` file)."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


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
    mqtt_client_id: str = "clinic-listener"
    mqtt_shared_group: str | None = None
    mqtt_session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    mqtt_keepalive_s: int = Field(default=30, ge=5)
    topic_prefix: str = "clinic"
    site: str = "main"

    clinic_name: str = Field(default="Riverside Physical Therapy", description="shown on the lobby and cards")
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
    staff_address: str = "127.0.0.1"
    staff_session_timeout_min: int = Field(default=30, ge=1, description="staff are signed out after this idle")
    board_refresh_s: float = Field(default=3.0, ge=1, description="how often the equipment board refreshes")
    tls_cert: Path | None = Field(default=None, description="certificate (PEM) to serve the lobby over HTTPS")
    tls_key: Path | None = None

    ingest_batch_max: int = Field(default=500, ge=1, description="most messages committed in one transaction")
    ingest_max_delay_ms: int = Field(default=200, ge=1, description="longest a message waits for its batch")
    mqtt_receive_maximum: int = Field(default=1000, ge=1, le=65535, description="unacked messages in flight")

    @field_validator("site")
    @classmethod
    def _site_is_an_id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(f"site {value!r} must match {ID_PATTERN.pattern}")
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _prefix_has_no_wildcards(cls, value: str) -> str:
        if not value or any(ch in value for ch in "+#") or value.startswith("/") or value.endswith("/"):
            raise ValueError(f"topic prefix {value!r} must be a plain topic level without + # or edge slashes")
        return value

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
    def tz(self) -> tzinfo:
        """The clinic's time zone, which decides what 'today' means."""
        if self.timezone:
            return ZoneInfo(self.timezone)
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local

    @property
    def broker_dir(self) -> Path:
        """Where the broker's password file, ACL and persistence live."""
        return self.data_dir / "mosquitto"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
