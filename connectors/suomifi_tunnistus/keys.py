"""Self-signed RSA key pairs for SAML, made once into the data directory (embedded default only).

Suomi.fi allows one certificate in the SP metadata, used for both signing and encryption; its
test environment accepts a self-signed one, production wants a CA-signed one (suomifi.md §1.2).
The sandbox IdP keeps its own pairs the same way, so the e-service and ``kuntaflow sandbox``
agree on them through the shared data directory. Private keys are written 0600 and never
committed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

DEFAULT_KEY_BITS = 3072
CERT_DAYS = 3650


@dataclass(frozen=True)
class KeyPair:
    """Paths of a PEM private key and its X.509 certificate."""

    key_file: Path
    cert_file: Path

    def certificate_base64(self) -> str:
        """The certificate's DER as one base64 line, as it goes into ``ds:X509Certificate``."""
        return cert_base64(self.cert_file.read_text())


def cert_base64(pem: str) -> str:
    """A PEM certificate's body without armour or line breaks."""
    lines = [line.strip() for line in pem.strip().splitlines()]
    return "".join(line for line in lines if line and not line.startswith("-----"))


def generate_key_pair(common_name: str, *, bits: int = DEFAULT_KEY_BITS) -> tuple[bytes, bytes]:
    """A new RSA key and a self-signed SHA-256 certificate, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def ensure_key_pair(directory: Path, name: str, common_name: str, *, bits: int = DEFAULT_KEY_BITS) -> KeyPair:
    """The pair ``<directory>/<name>/key.pem`` + ``cert.pem``, generated on first use.

    Safe when several processes start at once: the pair is written into a temporary folder that
    is renamed into place atomically; the first writer wins and the others use its pair.
    """
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    pair = KeyPair(final / "key.pem", final / "cert.pem")
    if not pair.cert_file.is_file():
        key_pem, cert_pem = generate_key_pair(common_name, bits=bits)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=directory))
        fd = os.open(staging / "key.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_pem)
        (staging / "cert.pem").write_bytes(cert_pem)
        try:
            os.rename(staging, final)
        except OSError:  # another process was first: keep its pair
            shutil.rmtree(staging, ignore_errors=True)
    if not (pair.key_file.is_file() and pair.cert_file.is_file()) or not _matches(pair):
        raise RuntimeError(f"the key pair in {final} is incomplete or does not belong together")
    return pair


def _matches(pair: KeyPair) -> bool:
    key = serialization.load_pem_private_key(pair.key_file.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(pair.cert_file.read_bytes())
    return key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
