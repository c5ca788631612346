"""The live page over TLS when it is reachable from elsewhere (--allow-remote): a key and a
self-signed certificate made for this run, their SHA-256 fingerprint printed so the room
can check what its browsers are shown. `cryptography` (already there for paramiko) makes
them; nothing is read from or written to a user's folder."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Certificate:
    context: ssl.SSLContext
    fingerprint: str  # SHA-256 of the certificate, AA:BB:... as browsers show it


def make(host: str, days: int = 7) -> Certificate:
    """A server context for `host` (an address, or a name) with a new key and certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "swarmlab ui")])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="swarmlab-ui-") as tmp:  # load_cert_chain reads files
        path = os.path.join(tmp, "pair.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        context.load_cert_chain(path)
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return Certificate(context, ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)))
