"""A throw-away PKI for TLS tests, made with the ``openssl`` command line.

:func:`create_pki` writes into a directory:

* a test CA, and a server certificate signed by it for ``DNS:localhost`` and
  ``IP:127.0.0.1``;
* a client certificate + key signed by the test CA (for mutual TLS);
* an unrelated "wrong" CA, and a client certificate signed by it, for
  negative tests.

Keys are EC P-256 (fast to generate), unencrypted PEM. The ``openssl`` binary
is taken from ``MYCLIENT_OPENSSL`` if set, else from ``PATH``.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ._proc import HarnessError, find_executable

DAYS = "30"

_OPENSSL_CNF = """\
[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]
CN = placeholder

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class PKI:
    """Paths of the generated PEM files."""

    directory: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    wrong_ca_cert: Path
    wrong_ca_key: Path
    wrong_client_cert: Path
    """Client certificate signed by the wrong CA (rejected by mTLS servers)."""
    wrong_client_key: Path


def find_openssl() -> str:
    """Path of the ``openssl`` binary (``MYCLIENT_OPENSSL`` overrides)."""
    return find_executable("openssl", env_var="MYCLIENT_OPENSSL")


def _run(argv: list[str], cwd: Path) -> None:
    try:
        result = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HarnessError(f"openssl failed to run: {exc}") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
        raise HarnessError(f"openssl exited with {result.returncode}: {' '.join(argv)}\n{output}")


class _Maker:
    def __init__(self, openssl: str, directory: Path) -> None:
        self.openssl = openssl
        self.dir = directory
        self.cnf = directory / "openssl.cnf"
        self.cnf.write_text(_OPENSSL_CNF, encoding="ascii")

    def ca(self, name: str, subject: str) -> tuple[Path, Path]:
        cert, key = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        _run(
            [self.openssl, "req", "-config", str(self.cnf), "-x509", "-new", *_NEW_KEY,
             "-keyout", str(key), "-out", str(cert), "-days", DAYS, "-sha256",
             "-subj", subject, "-extensions", "v3_ca"],
            self.dir,
        )  # fmt: skip
        return cert, key

    def leaf(self, name: str, subject: str, extensions: str, ca: tuple[Path, Path]) -> tuple[Path, Path]:
        cert, key = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        csr = self.dir / f"{name}.csr"
        _run(
            [self.openssl, "req", "-config", str(self.cnf), "-new", *_NEW_KEY,
             "-keyout", str(key), "-out", str(csr), "-subj", subject],
            self.dir,
        )  # fmt: skip
        _run(
            [self.openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca[0]),
             "-CAkey", str(ca[1]), "-set_serial", f"0x{secrets.token_hex(16)}",
             "-days", DAYS, "-sha256", "-extfile", str(self.cnf),
             "-extensions", extensions, "-out", str(cert)],
            self.dir,
        )  # fmt: skip
        csr.unlink()
        return cert, key


def create_pki(directory: Path) -> PKI:
    """Generate the CAs and certificates into ``directory`` (created if needed).

    Raises :class:`~._proc.HarnessError` if openssl is missing or fails.
    """
    directory.mkdir(parents=True, exist_ok=True)
    maker = _Maker(find_openssl(), directory)
    ca = maker.ca("ca", "/O=myclient tests/CN=myclient test CA")
    server = maker.leaf("server", "/O=myclient tests/CN=localhost", "v3_server", ca)
    client = maker.leaf("client", "/O=myclient tests/CN=myclient test client", "v3_client", ca)
    wrong_ca = maker.ca("wrong-ca", "/O=somebody else/CN=unrelated wrong CA")
    wrong_client = maker.leaf("wrong-client", "/O=somebody else/CN=wrong client", "v3_client", wrong_ca)
    return PKI(
        directory=directory,
        ca_cert=ca[0],
        ca_key=ca[1],
        server_cert=server[0],
        server_key=server[1],
        client_cert=client[0],
        client_key=client[1],
        wrong_ca_cert=wrong_ca[0],
        wrong_ca_key=wrong_ca[1],
        wrong_client_cert=wrong_client[0],
        wrong_client_key=wrong_client[1],
    )
