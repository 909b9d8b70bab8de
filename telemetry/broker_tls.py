"""MQTT over TLS: a local CA for the clinic's broker, its server certificate, and the client side's TLS set-up.

Devices and services verify the broker against the CA (`<data dir>/mosquitto/tls/ca.pem`), so passwords never
cross the clinic's Wi-Fi in clear text. The CA key stays in the data folder (owner only) to renew the server
certificate; nothing here is a client certificate.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CA_DAYS = 3650
SERVER_DAYS = 825  # the longest validity Apple devices accept for a TLS server certificate


@dataclass(frozen=True, slots=True)
class BrokerTls:
    """Where the broker's CA and server certificate live (`<data dir>/mosquitto/tls`)."""

    root: Path

    @property
    def ca(self) -> Path:
        """What devices and services verify the broker with (public; copy it to each device)."""
        return self.root / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def cert(self) -> Path:
        return self.root / "server.pem"

    @property
    def key(self) -> Path:
        return self.root / "server.key"

    def exists(self) -> bool:
        return self.ca.exists() and self.cert.exists() and self.key.exists()


def server_names() -> list[str]:
    """Names a device may use for this machine: localhost, the host name and its addresses."""
    names = ["localhost", "127.0.0.1", socket.gethostname()]
    with contextlib.suppress(OSError):  # no resolvable host name: localhost still works
        names += [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, family=socket.AF_INET)]
    return list(dict.fromkeys(names))


def ensure_broker_tls(tls: BrokerTls, *, names: list[str] | None = None) -> bool:
    """Make the CA and a server certificate for `names` unless both exist; True when they were made now."""
    if tls.exists():
        return False
    tls.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clinic telemetry CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now, CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(**_usage(cert_sign=True)), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names = [_alt_name(name) for name in names or server_names()]
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clinic broker")])
    server = (
        _builder(server_name, ca_name, key.public_key(), now, SERVER_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(tls.ca_key, _private_pem(ca_key), private=True)
    _write(tls.key, _private_pem(key), private=True)
    _write(tls.cert, server.public_bytes(serialization.Encoding.PEM))
    _write(tls.ca, ca.public_bytes(serialization.Encoding.PEM))
    return True


def use_tls(client: mqtt.Client, ca: Path) -> None:
    """Make a paho client verify the broker against the clinic's CA (TLS 1.2 or later, host name checked)."""
    if not ca.exists():
        raise FileNotFoundError(f"CLINIC_MQTT_TLS_CA: no CA certificate at {ca} (run `clinic init --tls`)")
    client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
    )


def _usage(*, cert_sign: bool) -> dict[str, bool]:
    flags = ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "encipher_only",
             "decipher_only")  # fmt: skip
    return {"digital_signature": True, "key_cert_sign": cert_sign, "crl_sign": cert_sign, **dict.fromkeys(flags, False)}


def _alt_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    pem, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return key.private_bytes(pem, pkcs8, serialization.NoEncryption())


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
