"""Debian's slapd with a small directory, for the LDAP sign-in tests: started the way operators run
it (its own configuration file, LDAP with StartTLS and LDAPS on 127.0.0.1, a certificate from a CA
of the test's own), loaded from `fixtures/directory.ldif`, stopped afterwards."""
from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SLAPD = shutil.which("slapd") or next((p for p in ("/usr/sbin/slapd",) if Path(p).exists()), None)
SLAPADD = shutil.which("slapadd") or next((p for p in ("/usr/sbin/slapadd",) if Path(p).exists()), None)
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
LDIF = Path(__file__).parent / "fixtures" / "directory.ldif"

BASE_DN = "dc=example,dc=com"
SERVICE_DN = "cn=courseware,ou=services,dc=example,dc=com"
SERVICE_PASSWORD = "service-account-secret"

if SLAPD is None and os.environ.get("CI"):
    raise RuntimeError("CI must run the directory sign-in tests: .ci/run installs Debian's slapd")

requires_slapd = pytest.mark.skipif(
    SLAPD is None or SLAPADD is None or not SCHEMAS.is_dir(),
    reason="slapd is not installed (apt-get install slapd; .ci/run installs it)",
)


@dataclass(frozen=True)
class Directory:
    ldap_url: str  # ldap:// for StartTLS
    ldaps_url: str
    ca_file: Path
    folder: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _certificates(folder: Path) -> Path:
    """A CA and a certificate for 127.0.0.1 signed by it; return the CA's file."""
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Courseware test CA", ca_key, "Courseware test CA", ca_key, ca=True)
    server = certificate("127.0.0.1", server_key, "Courseware test CA", ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(server.public_bytes(pem))
    (folder / "server.key").write_bytes(server_key.private_bytes(
        pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    return folder / "ca.pem"


def _configuration(folder: Path) -> Path:
    (folder / "db").mkdir()
    config = folder / "slapd.conf"
    config.write_text("\n".join([
        *(f"include {SCHEMAS / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")),
        f"modulepath {MODULES}",
        "moduleload back_mdb",
        f"pidfile {folder / 'slapd.pid'}",
        f"TLSCACertificateFile {folder / 'ca.pem'}",
        f"TLSCertificateFile {folder / 'server.pem'}",
        f"TLSCertificateKeyFile {folder / 'server.key'}",
        "database mdb",
        "maxsize 10485760",
        f'suffix "{BASE_DN}"',
        f'rootdn "cn=admin,{BASE_DN}"',
        f"directory {folder / 'db'}",
        # People may only bind with their password; the service account reads; anonymous reads nothing.
        "access to attrs=userPassword by self =xw by anonymous auth by * none",
        f'access to * by dn.exact="{SERVICE_DN}" read by self read by * none',
        "",
    ]))
    return config


def _wait_for(port: int, process: subprocess.Popen, deadline: float) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"slapd stopped at start: {process.stderr.read().decode(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise RuntimeError("slapd did not start listening within 30 s")
        time.sleep(0.05)  # polling for the port, not timing anything


@contextlib.contextmanager
def running_directory(folder: Path) -> Iterator[Directory]:
    """Start slapd on two free ports of 127.0.0.1 with the test directory loaded; stop it afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_file = _certificates(folder)
    config = _configuration(folder)
    subprocess.run([SLAPADD, "-q", "-f", str(config), "-l", str(LDIF)], check=True, capture_output=True)
    plain, secure = _free_port(), _free_port()
    urls = f"ldap://127.0.0.1:{plain}/ ldaps://127.0.0.1:{secure}/"
    # -d 0: stay in the foreground, so this process owns it and nothing outlives the tests.
    process = subprocess.Popen([SLAPD, "-f", str(config), "-h", urls, "-d", "0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        _wait_for(plain, process, deadline)
        _wait_for(secure, process, deadline)
        # By name, as operators configure it: ldap3 checks the certificate's DNS names (not IP addresses on Python 3.12+).
        yield Directory(f"ldap://localhost:{plain}", f"ldaps://localhost:{secure}", ca_file, folder)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()
