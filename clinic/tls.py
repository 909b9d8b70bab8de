"""A self-signed certificate for the lobby on a LAN: tablet browsers allow the camera only over HTTPS."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
from pathlib import Path

CERT_DAYS = 825  # the longest validity Apple devices accept for a TLS server certificate


class TlsError(RuntimeError):
    """The certificate could not be made; the message says why."""


def lan_addresses() -> list[str]:
    """This machine's addresses that a tablet on the LAN may use (best effort, no network traffic)."""
    found = {"127.0.0.1"}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, family=socket.AF_INET):
            found.add(str(info[4][0]))
    except OSError:
        pass
    return sorted(found)


def ensure_self_signed(cert: Path, key: Path, *, hosts: list[str] | None = None) -> bool:
    """Create a self-signed certificate and key (key readable by the owner only) unless both exist."""
    if cert.exists() and key.exists():
        return False
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TlsError("openssl is not installed; install it or set CLINIC_TLS_CERT and CLINIC_TLS_KEY")
    names = hosts or ["localhost", socket.gethostname(), *lan_addresses()]
    san = ",".join(_san_entry(name) for name in dict.fromkeys(names))
    cert.parent.mkdir(parents=True, exist_ok=True)
    command = [
        openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", str(CERT_DAYS),
        "-subj", "/CN=clinic-lobby", "-addext", f"subjectAltName={san}",
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TlsError(f"openssl could not make a certificate: {result.stderr.strip()[:300]}")
    key.chmod(0o600)
    return True


def _san_entry(name: str) -> str:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return f"DNS:{name}"
    return f"IP:{name}"
