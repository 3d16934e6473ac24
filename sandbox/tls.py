"""TLS on a sandbox emulator's own port, beside its plain HTTP: for URLs a client insists are https.

Heroku's backup URLs are https (signed S3 URLs), and the official Heroku CLI downloads them with
Node's `https.get`, which refuses any other scheme. So the emulator that hands them out also speaks
TLS on the same port: each new connection is peeked at, and one that opens with a TLS handshake
record (first byte 0x16) is wrapped server-side; anything else stays plain HTTP, so API clients
using http:// are unaffected.

The certificate is self-signed for 127.0.0.1 and localhost, made once per sandbox folder with the
`openssl` command-line tool (no Python package can make one from the standard library alone) and
kept beside the emulator's state; clients trust it explicitly (Node: NODE_EXTRA_CA_CERTS=<cert.pem>,
Python: ssl.create_default_context(cafile=<cert.pem>)). Without `openssl` on PATH there is no TLS:
`certificate()` answers None and the emulator keeps answering http:// URLs.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

TLS_HANDSHAKE = 0x16  # the content type of a TLS record carrying a ClientHello
PEEK_SECONDS = 10.0  # a client that connects and sends nothing is dropped after this long


def certificate(folder: Path | None) -> tuple[Path, Path] | None:
    """(cert.pem, key.pem) of the sandbox's loopback certificate in `folder` (a temporary folder when
    None), made on first use; None when `openssl` is not installed."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    folder = folder or Path(tempfile.mkdtemp(prefix="sandbox-tls-"))
    cert, key = folder / "cert.pem", folder / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "3650", "-subj", "/CN=launchplan sandbox (loopback only)",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        return None
    key.chmod(0o600)
    return cert, key


def serve_tls_too(server: ThreadingHTTPServer, cert: Path, key: Path) -> None:
    """From now on, connections to `server` that start a TLS handshake are served over TLS."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    plain = type(server)

    class Sniffing(plain):  # type: ignore[misc, valid-type]
        def finish_request(self, request: Any, client_address: Any) -> None:  # in the connection's own thread
            try:
                request.settimeout(PEEK_SECONDS)
                first = request.recv(1, socket.MSG_PEEK)
                if not first or first[0] != TLS_HANDSHAKE:
                    request.settimeout(None)
                    super().finish_request(request, client_address)
                    return
                secure = context.wrap_socket(request, server_side=True)  # takes the connection over
                secure.settimeout(None)
            except (OSError, ssl.SSLError):
                return  # a client that hung up or failed the handshake: nothing to answer
            try:
                super().finish_request(secure, client_address)
            finally:
                secure.close()

    server.__class__ = Sniffing
