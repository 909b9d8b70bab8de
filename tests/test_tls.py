"""The lobby over HTTPS: a self-signed certificate made for the LAN, and Streamlit serving with it."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

from clinic.tls import ensure_self_signed
from tests.helpers import free_port, wait_until


def test_a_self_signed_certificate_names_the_lobby_hosts_and_keeps_its_key_private(tmp_path: Path) -> None:
    cert, key = tmp_path / "lobby.pem", tmp_path / "lobby.key"
    assert ensure_self_signed(cert, key, hosts=["localhost", "192.168.1.20"])
    assert not ensure_self_signed(cert, key), "an existing certificate is kept"
    text = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "DNS:localhost" in text and "IP Address:192.168.1.20" in text
    assert oct(key.stat().st_mode & 0o777) == "0o600"


def test_the_lobby_serves_https_with_the_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "lobby.pem", tmp_path / "lobby.key"
    ensure_self_signed(cert, key, hosts=["localhost", "127.0.0.1"])
    port = free_port()
    env = {**os.environ, "CLINIC_DATA_DIR": str(tmp_path / "data"), "CLINIC_TLS_CERT": str(cert),
           "CLINIC_TLS_KEY": str(key)}  # fmt: skip
    with open(tmp_path / "lobby.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "clinic", "lobby", "--port", str(port)], env=env,
                                  stdout=log, stderr=log)  # fmt: skip
    context = ssl.create_default_context(cafile=str(cert))

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"https://localhost:{port}/_stcore/health", context=context, timeout=2) as r:
                return bool(r.read() == b"ok")
        except OSError:
            return False

    try:
        wait_until(healthy, timeout=60, what="the lobby answering over HTTPS")
    finally:
        server.terminate()
        server.wait(timeout=20)
