"""The official Heroku CLI (tools/heroku-cli, `make heroku-cli`) against the sandbox's emulators
(`python -m sandbox.server`): the runbook's read and write commands that concern declared
infrastructure print what the emulators hold, `logs` and `run` fail at once with a clear error, and
nothing the CLI sends leaves 127.0.0.1.

Every CLI request that would use a proxy goes to a loopback-only proxy started here: it tunnels
CONNECTs to 127.0.0.1 (the CLI's backup download ignores NO_PROXY) and refuses and records anything
else, so an attempt to reach another host fails the test instead of failing silently."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from scripts.pulumi_cli import ROOT
from tests.support.sandbox import free_base_port

pytestmark = pytest.mark.integration

CLI = ROOT / "tools" / "heroku-cli" / "node_modules" / ".bin" / "heroku"
TOKEN = "sandbox-heroku-cli-token-0001"  # the emulators accept any token
APP = "sc-mvp-production"
HEADERS = {"Accept": "application/vnd.heroku+json; version=3", "Authorization": f"Bearer {TOKEN}"}
LOOPBACK = ("127.0.0.1", "localhost")


class LoopbackOnlyProxy:
    """An HTTP(S) proxy that only tunnels to 127.0.0.1; every other request is refused and recorded."""

    def __init__(self) -> None:
        self.tunnelled: list[str] = []
        self.refused: list[str] = []
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(65536).decode("latin-1").strip()
                while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                    pass  # the request's headers
                method, target = ([*line.split(" "), "", ""])[:2]
                host, _, port = target.rpartition(":")
                if method != "CONNECT" or host not in LOOPBACK or not port.isdigit():
                    proxy.refused.append(line)
                    self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                proxy.tunnelled.append(target)
                with socket.create_connection((host, int(port)), timeout=30) as upstream:
                    self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    self.wfile.flush()
                    _pipe(self.connection, upstream)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pipe(one: socket.socket, other: socket.socket) -> None:
    with selectors.DefaultSelector() as selector:
        selector.register(one, selectors.EVENT_READ, other)
        selector.register(other, selectors.EVENT_READ, one)
        while True:
            for key, _ in selector.select(timeout=30):
                data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                if not data:
                    return
                key.data.sendall(data)


@dataclass
class Sandbox:
    heroku: str  # the Platform API emulator's URL (HEROKU_HOST)
    data: str  # the Data API emulator's own URL (launchplan's endpoint)
    folder: Path
    home: Path
    proxy: LoopbackOnlyProxy
    calls: list[tuple[list[str], float]] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEROKU_") and "proxy" not in k.lower()}
        env.update(
            HOME=str(self.home),  # the CLI writes ~/.gitconfig, ~/.cache/heroku, ~/.local/share/heroku
            HEROKU_HOST=self.heroku,
            HEROKU_API_KEY=TOKEN,
            HEROKU_DATA_HOST="127.0.0.1",  # the CLI keeps HEROKU_HOST's scheme and port for the Data API
            HEROKU_PARTICLEBOARD_URL=self.heroku,  # else /account reads also ask particleboard.heroku.com
            NODE_EXTRA_CA_CERTS=str(self.folder / "tls" / "cert.pem"),  # the https backup URLs
            DISABLE_TELEMETRY="true",
            HEROKU_DISABLE_AUTOUPDATE="true",
            HEROKU_SKIP_NEW_VERSION_CHECK="true",
            HTTPS_PROXY=self.proxy.url,
            HTTP_PROXY=self.proxy.url,
            NO_PROXY="127.0.0.1,localhost",
            NO_COLOR="1",
            COLUMNS="200",
        )
        return {**env, **extra}

    def cli(self, *args: str, timeout: float = 60, ok: bool = True) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        done = subprocess.run([str(CLI), *args], env=self.env(), cwd=self.home, capture_output=True, text=True, timeout=timeout)
        self.calls.append((list(args), time.monotonic() - started))
        assert not self.proxy.refused, f"heroku {' '.join(args)} tried to leave 127.0.0.1: {self.proxy.refused}"
        if ok:
            assert done.returncode == 0, f"heroku {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        return done

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.heroku, headers=HEADERS, timeout=30)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: run `make heroku-cli` (npm ci into tools/heroku-cli/node_modules)")
    # Outside pytest's tmp root: as root the embedded PostgreSQL runs as nobody (see tests/support/postgres.py).
    root = Path(tempfile.mkdtemp(prefix="launchplan-heroku-cli-"))
    base = free_base_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "sandbox.server", "--dir", str(root / "emulators"), f"--port={base}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    proxy = LoopbackOnlyProxy()
    try:
        assert server.stdout is not None
        urls = json.loads(server.stdout.readline() or "{}")
        assert "heroku" in urls, f"the emulators did not start: {server.stdout.read() if server.poll() is not None else ''}"
        (root / "home").mkdir()
        box = Sandbox(urls["heroku"], urls["heroku-data"], root / "emulators", root / "home", proxy)
        seed(box)
        yield box
    finally:
        proxy.stop()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(root, ignore_errors=True)


def seed(box: Sandbox) -> None:
    """What `pulumi up` of runbook 004's production stack leaves on Heroku (as the plugin's calls make it)."""
    with box.api() as api:
        assert api.post("/apps", json={"name": APP, "region": "us", "stack": "heroku-24"}).status_code == 201
        addon = api.post(f"/apps/{APP}/addons", json={"plan": "heroku-postgresql:standard-0"}).json()
        env = {"NODE_ENV": "production", "RAILS_ENV": "production", "RAILS_LOG_TO_STDOUT": "enabled"}
        assert api.patch(f"/apps/{APP}/config-vars", json=env).status_code == 200
        assert api.patch(f"/apps/{APP}/formation/web", json={"size": "basic", "quantity": 1}).status_code == 200
        assert api.post(f"/apps/{APP}/domains", json={"hostname": "orders.sc-mvp.example.com"}).status_code == 201
        deadline = time.monotonic() + 30
        while api.get(f"/addons/{addon['id']}").json()["state"] != "provisioned":
            assert time.monotonic() < deadline, "the add-on was never provisioned"
            time.sleep(0.1)
    with httpx.Client(base_url=box.data, headers=HEADERS, timeout=30) as data:  # launchplan's own way in
        body = {"hour": "2", "timezone": "America/Los_Angeles", "schedule_name": "DATABASE_URL"}
        assert data.post(f"/client/v11/databases/{addon['id']}/transfer-schedules", json=body).status_code == 201


def state(box: Sandbox) -> dict[str, Any]:
    with box.api() as api:
        return {
            "app": api.get(f"/apps/{APP}").json(),
            "config": api.get(f"/apps/{APP}/config-vars").json(),
            "addon": api.get(f"/apps/{APP}/addons").json()[0],
            "releases": api.get(f"/apps/{APP}/releases").json(),
        }


def test_read_commands_print_what_the_emulators_hold(sandbox: Sandbox) -> None:
    now = state(sandbox)
    app, config, addon = now["app"], now["config"], now["addon"]
    web_host = urlsplit(app["web_url"]).hostname
    color = next(k for k in config if k.startswith("HEROKU_POSTGRESQL_")).removesuffix("_URL")

    info = sandbox.cli("apps:info", "-a", APP).stdout
    assert f"=== {APP}" in info and "heroku-postgresql:standard-0" in info and "web: 1" in info
    assert app["web_url"] in info and "Region:         us" in info and "Stack:          heroku-24" in info

    listed = sandbox.cli("config", "-a", APP).stdout
    for key, value in config.items():
        assert f"{key}:" in listed and value in listed, key
    assert sandbox.cli("config:get", "DATABASE_URL", "-a", APP).stdout.strip() == config["DATABASE_URL"]
    assert sandbox.cli("config:get", "RAILS_ENV", "-a", APP).stdout.strip() == "production"

    addons = sandbox.cli("addons", "-a", APP).stdout
    assert f"heroku-postgresql ({addon['name']})" in addons and "standard-0" in addons
    assert "~$0.069/hour" in addons and "$50/month" in addons and "created" in addons and "NaN" not in addons
    assert "as DATABASE" in addons and f"as {color}" in addons

    about = sandbox.cli("addons:info", "DATABASE", "-a", APP).stdout
    assert f"=== {addon['name']}" in about and "Plan:         heroku-postgresql:standard-0" in about
    assert f"{APP}::DATABASE" in about and f"{APP}::{color}" in about and "$50/month" in about

    pg = sandbox.cli("pg:info", "-a", APP).stdout
    assert f"=== DATABASE_URL, {color}_URL" in pg and "Plan:                  Standard-0" in pg
    assert "Status:                Available" in pg and f"Add-on:                {addon['name']}" in pg

    ps = sandbox.cli("ps", "-a", APP).stdout
    assert "=== web (Basic)" in ps and "web.1: up" in ps

    domains = sandbox.cli("domains", "-a", APP).stdout
    assert f"=== {APP} Heroku Domain\n\n{web_host}" in domains
    assert "orders.sc-mvp.example.com" in domains and "orders-sc-mvp-example-com.herokudns.com" in domains

    releases = sandbox.cli("releases", "-a", APP).stdout
    for release in now["releases"]:
        assert f"v{release['version']}" in releases and release["description"] in releases
    assert "Initial release" in releases and f"Attach DATABASE (@ref:{addon['name']})" in releases

    assert APP in sandbox.cli("apps").stdout.splitlines()


def test_config_set_makes_a_release_that_releases_lists(sandbox: Sandbox) -> None:
    before = max(r["version"] for r in state(sandbox)["releases"])
    done = sandbox.cli("config:set", "DEBUG_SQL=1", "-a", APP)
    assert f"Setting DEBUG_SQL and restarting {APP}... done, v{before + 1}" in done.stdout + done.stderr
    assert state(sandbox)["config"]["DEBUG_SQL"] == "1"
    releases = sandbox.cli("releases", "-a", APP).stdout
    assert f"v{before + 1}" in releases and "Set DEBUG_SQL config var" in releases
    assert f"Current: v{before + 1}" in releases


def test_backups_schedule_capture_list_url_and_download(sandbox: Sandbox) -> None:
    schedules = sandbox.cli("pg:backups:schedules", "-a", APP).stdout
    assert "DATABASE_URL: daily at 2:00 America/Los_Angeles" in schedules

    captured = sandbox.cli("pg:backups:capture", "-a", APP)
    assert "Backing up DATABASE to b001... done" in captured.stdout + captured.stderr

    listed = sandbox.cli("pg:backups", "-a", APP).stdout
    assert "b001" in listed and "Completed" in listed and "DATABASE" in listed

    url = sandbox.cli("pg:backups:url", "b001", "-a", APP).stdout.strip()
    assert url.startswith(f"https://127.0.0.1:{urlsplit(sandbox.heroku).port}/backups/"), url  # as Heroku's: https
    trusted = ssl.create_default_context(cafile=str(sandbox.folder / "tls" / "cert.pem"))
    dump = httpx.get(url, verify=trusted)
    assert dump.status_code == 200 and dump.content[:5] == b"PGDMP"

    target = sandbox.home / "latest.dump"
    sandbox.cli("pg:backups:download", "b001", "-a", APP, "--output", str(target))
    assert target.read_bytes() == dump.content
    assert sandbox.proxy.tunnelled == [f"127.0.0.1:{urlsplit(sandbox.heroku).port}"]  # the download, and only it


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("logs", "-a", APP), "Logs are not available in the sandbox"),
        (("logs", "--tail", "-a", APP), "Logs are not available in the sandbox"),
        (("run", "bash", "-a", APP), "One-off dynos cannot run in the sandbox"),
        (("run:detached", "rake db:migrate", "-a", APP), "One-off dynos cannot run in the sandbox"),
    ],
)
def test_what_needs_a_dyno_fails_at_once_with_a_clear_error(sandbox: Sandbox, args: tuple[str, ...], message: str) -> None:
    started = time.monotonic()
    done = sandbox.cli(*args, timeout=30, ok=False)  # a hang would be a TimeoutExpired
    assert done.returncode != 0 and message in " ".join(done.stderr.split()), done.stderr
    assert "sandbox_unsupported" in done.stderr
    assert time.monotonic() - started < 20
