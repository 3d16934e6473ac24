"""`launchplan sandbox` without the engine: where the emulators listen, the stack file's
endpoints, repairing a backend an interrupted run left behind, adopting interrupted creates,
and the health checks of the summary."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from rich.console import Console

from scripts.pulumi_cli import ROOT
from scripts.sandbox_cmd import (
    STACK,
    Sandbox,
    SandboxError,
    base_port,
    emulator_layout,
    endpoints,
    health_checks,
    live_id,
)

BASE = 31000  # never bound by these tests: only URLs are computed from it


def sandbox(project: Path, port: int = BASE) -> Sandbox:
    return Sandbox(project, Console(file=io.StringIO()), port)


def write_stack(project: Path, endpoints_cfg: dict[str, str] | None) -> Path:
    config: dict[str, Any] = {"launchplan:sandbox": "true"}
    if endpoints_cfg is not None:
        config["launchplan:endpoints"] = endpoints_cfg
    path = project / f"Pulumi.{STACK}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def endpoint_config(base: int, only: str | None = None) -> dict[str, str]:
    """The stack file's launchplan:endpoints for emulators on `base`, keyed as the stack file keys them."""
    layout = emulator_layout(base)["emulators"]
    return {e["endpointKey"]: e["url"] for name, e in layout.items() if only is None or name == only}


# --- where the emulators listen -----------------------------------------------------------------


def test_the_layout_puts_every_emulator_on_loopback_above_the_base_port() -> None:
    layout = emulator_layout(BASE)
    assert layout["basePort"] == BASE
    assert {"vercel", "calendly", "heroku-data"} <= set(layout["emulators"])
    ports = []
    for emulator in layout["emulators"].values():
        url = urlsplit(emulator["url"])
        assert url.scheme == "http" and url.hostname == "127.0.0.1"
        assert emulator["endpointKey"] in {"vercelApi", "calendlyApi", "herokuDataApi", "herokuApi", "sandboxApps"}
        ports.append(url.port or 0)
    assert all(BASE < p <= BASE + 10 for p in ports) and len(set(ports)) == len(ports)


def test_endpoints_move_with_the_base_port() -> None:
    here, there = endpoints(BASE), endpoints(BASE + 100)
    assert set(here) == set(emulator_layout(BASE)["emulators"])
    for name in here:
        assert (urlsplit(there[name]).port or 0) - (urlsplit(here[name]).port or 0) == 100


def test_the_default_layout_is_on_the_default_port() -> None:
    layout = emulator_layout()
    assert layout["basePort"] == layout["defaultPort"]


def test_base_port_reads_the_stack_files_endpoints(tmp_path: Path) -> None:
    write_stack(tmp_path, endpoint_config(BASE))
    assert base_port(tmp_path) == BASE


@pytest.mark.parametrize("emulator", ["vercel", "calendly", "heroku-data"])
def test_base_port_from_any_one_declared_endpoint(tmp_path: Path, emulator: str) -> None:
    write_stack(tmp_path, endpoint_config(BASE + 40, only=emulator))
    assert base_port(tmp_path) == BASE + 40


@pytest.mark.parametrize("endpoints_cfg", [None, {}, {"vercelApi": "https://api.vercel.com"}])
def test_base_port_is_the_default_without_a_declared_port(tmp_path: Path, endpoints_cfg: dict[str, str] | None) -> None:
    write_stack(tmp_path, endpoints_cfg)
    assert base_port(tmp_path) == emulator_layout()["defaultPort"]


def test_base_port_is_the_default_without_a_stack_file(tmp_path: Path) -> None:
    assert base_port(tmp_path) == emulator_layout()["defaultPort"]


def test_the_committed_sandbox_stack_file_matches_the_default_layout() -> None:
    from tests.support.stacks import ROOT

    project = ROOT
    assert base_port(project) == emulator_layout()["defaultPort"]
    sandbox(project, base_port(project)).check_stack_file()  # no mismatch: nothing raised


# --- the stack file against the emulators ---------------------------------------------------------


def test_check_stack_file_accepts_matching_endpoints(tmp_path: Path) -> None:
    write_stack(tmp_path, endpoint_config(BASE))
    sandbox(tmp_path, BASE).check_stack_file()
    write_stack(tmp_path, {k: v + "/" for k, v in endpoint_config(BASE).items()})  # a trailing slash is the same URL
    sandbox(tmp_path, BASE).check_stack_file()


def test_check_stack_file_names_the_port_that_would_match(tmp_path: Path) -> None:
    write_stack(tmp_path, endpoint_config(BASE + 200, only="calendly"))
    with pytest.raises(SandboxError) as info:
        sandbox(tmp_path, BASE).check_stack_file()
    message = str(info.value)
    assert f"pass --port {BASE + 200}" in message
    assert "calendlyApi" in message and endpoints(BASE)["calendly"] in message


def test_check_stack_file_without_the_file(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=f"Pulumi.{STACK}.yaml is missing"):
        sandbox(tmp_path).check_stack_file()


# --- repairing the file backend ---------------------------------------------------------------------


@pytest.fixture
def backend(tmp_path: Path) -> Path:
    state = tmp_path / ".sandbox" / "pulumi-state" / ".pulumi"
    (state / "stacks" / "launchplan").mkdir(parents=True)
    (state / "locks" / "launchplan" / STACK).mkdir(parents=True)
    return state


def test_repair_backend_drops_empty_attrs_and_partial_files(tmp_path: Path, backend: Path) -> None:
    stacks = backend / "stacks" / "launchplan"
    (stacks / "sandbox.json.attrs").write_text("")
    (backend / "meta.yaml.attrs").write_text("")
    (stacks / "kept.json.attrs").write_text('{"user.cache_control": ""}')
    (stacks / "sandbox.json.tmp").write_text('{"half')
    (backend / "history").mkdir()
    (backend / "history" / "entry.tmp").write_text("")
    repaired = sandbox(tmp_path).repair_backend()
    assert sorted(repaired) == sorted(
        [
            "dropped empty sandbox.json.attrs",
            "dropped empty meta.yaml.attrs",
            "dropped partial sandbox.json.tmp",
            "dropped partial entry.tmp",
        ]
    )
    assert not (stacks / "sandbox.json.attrs").exists() and not (backend / "meta.yaml.attrs").exists()
    assert not (stacks / "sandbox.json.tmp").exists() and not (backend / "history" / "entry.tmp").exists()
    assert (stacks / "kept.json.attrs").read_text() == '{"user.cache_control": ""}'


def test_repair_backend_restores_a_torn_checkpoint_from_its_backup(tmp_path: Path, backend: Path) -> None:
    stacks = backend / "stacks" / "launchplan"
    good = json.dumps({"version": 3, "checkpoint": {"latest": {"resources": [{"urn": "u"}]}}})
    (stacks / "sandbox.json").write_text('{"version": 3, "checkpoint": {"lat')
    (stacks / "sandbox.json.bak").write_text(good)
    (stacks / "intact.json").write_text('{"version": 3}')
    (stacks / "intact.json.bak").write_text('{"version": 2}')
    assert sandbox(tmp_path).repair_backend() == ["restored sandbox.json from its .bak"]
    assert json.loads((stacks / "sandbox.json").read_text()) == json.loads(good)
    assert (stacks / "intact.json").read_text() == '{"version": 3}'  # a readable checkpoint is never replaced


def test_repair_backend_leaves_a_torn_checkpoint_without_backup(tmp_path: Path, backend: Path) -> None:
    torn = backend / "stacks" / "launchplan" / "sandbox.json"
    torn.write_text('{"version"')
    assert sandbox(tmp_path).repair_backend() == []
    assert torn.read_text() == '{"version"'


def test_repair_backend_of_a_sound_or_missing_backend_changes_nothing(tmp_path: Path, backend: Path) -> None:
    (backend / "stacks" / "launchplan" / "sandbox.json").write_text('{"version": 3}')
    assert sandbox(tmp_path).repair_backend() == []
    assert sandbox(tmp_path / "elsewhere").repair_backend() == []


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()  # reaped: the pid names no process now
    assert not Path(f"/proc/{proc.pid}").exists()
    return proc.pid


def write_lock(backend: Path, name: str, owner: Any) -> Path:
    lock = backend / "locks" / "launchplan" / STACK / f"{name}.json"
    lock.write_text(owner if isinstance(owner, str) else json.dumps(owner))
    lock.with_name(lock.name + ".attrs").write_text('{"x": 1}')
    return lock


def test_clear_stale_locks_removes_only_a_dead_local_process_lock(tmp_path: Path, backend: Path) -> None:
    here = socket.gethostname()
    dead = dead_pid()
    stale = write_lock(backend, "stale", {"pid": dead, "hostname": here, "username": "me"})
    live = write_lock(backend, "live", {"pid": os.getpid(), "hostname": here})
    remote = write_lock(backend, "remote", {"pid": dead, "hostname": f"not-{here}"})
    no_pid = write_lock(backend, "nopid", {"hostname": here})
    garbled = write_lock(backend, "garbled", "{not json")
    assert sandbox(tmp_path).clear_stale_locks() == [dead]
    assert not stale.exists() and not stale.with_name("stale.json.attrs").exists()
    for kept in (live, remote, no_pid, garbled):
        assert kept.exists() and kept.with_name(kept.name + ".attrs").exists()


def test_clear_stale_locks_without_a_backend(tmp_path: Path) -> None:
    assert sandbox(tmp_path).clear_stale_locks() == []


# --- adopting interrupted creates --------------------------------------------------------------------------


class FakeVercel:
    """Answers GETs from a table of paths; records what was asked."""

    def __init__(self, answers: dict[str, Any]):
        self.answers = answers
        self.asked: list[tuple[str, str, bool]] = []

    def request(self, method: str, path: str, ok_missing: bool = False) -> Any:
        self.asked.append((method, path, ok_missing))
        return self.answers.get(path)


def pending(kind: str, **inputs: Any) -> dict[str, Any]:
    return {"type": kind, "urn": f"urn:pulumi:sandbox::launchplan::{kind}::x", "inputs": inputs}


def test_live_id_of_a_project() -> None:
    vercel = FakeVercel({"/v9/projects/rep-dashboard": {"id": "prj_123", "name": "rep-dashboard"}})
    assert live_id(vercel, pending("vercel:index/project:Project", name="rep-dashboard")) == "prj_123"
    assert vercel.asked == [("GET", "/v9/projects/rep-dashboard", True)]
    assert live_id(vercel, pending("vercel:index/project:Project", name="never-made")) is None


def test_live_id_of_an_env_var_matches_key_and_targets_in_any_order() -> None:
    envs = {
        "envs": [
            {"id": "env_a", "key": "API_BASE", "target": ["production"]},
            {"id": "env_b", "key": "API_BASE", "target": ["preview", "production"]},
            {"id": "env_c", "key": "OTHER", "target": ["production", "preview"]},
        ]
    }
    vercel = FakeVercel({"/v9/projects/prj_1/env": envs})
    kind = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
    found = live_id(vercel, pending(kind, projectId="prj_1", key="API_BASE", targets=["production", "preview"]))
    assert found == "prj_1/env_b"  # the provider's import format: <project id>/<env id>
    assert live_id(vercel, pending(kind, projectId="prj_1", key="API_BASE", targets=["development"])) is None
    assert live_id(FakeVercel({}), pending(kind, projectId="prj_1", key="API_BASE", targets=["production"])) is None


def test_live_id_of_a_domain() -> None:
    kind = "vercel:index/projectDomain:ProjectDomain"
    vercel = FakeVercel({"/v9/projects/prj_1/domains/dash.example.com": {"name": "dash.example.com"}})
    assert live_id(vercel, pending(kind, projectId="prj_1", domain="dash.example.com")) == "prj_1/dash.example.com"
    assert live_id(vercel, pending(kind, projectId="prj_1", domain="other.example.com")) is None


def test_live_id_of_a_dynamic_resource_asks_nothing() -> None:
    vercel = FakeVercel({})
    assert live_id(vercel, pending("pulumi-python:dynamic/calendly:Subscription", url="https://x")) is None
    assert vercel.asked == []


# --- health checks -------------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = {"/ok": 200, "/created": 201}.get(self.path, 404)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_health_checks_against_a_local_server(server: str) -> None:
    port = closed_port()
    outputs = {
        "healthChecks": [
            {"name": "up", "url": f"{server}/ok", "expectStatus": 200},
            {"name": "created", "url": f"{server}/created", "expectStatus": 201},
            {"name": "wrong", "url": f"{server}/missing", "expectStatus": 200},
            {"name": "down", "url": f"http://127.0.0.1:{port}/ok", "expectStatus": 200},
            {"name": "real", "url": "https://rep-dashboard.vercel.app/api/health", "expectStatus": 200},
        ]
    }
    rows = {name: (url, verdict) for name, url, verdict in health_checks(outputs, None)}
    assert list(rows) == ["up", "created", "wrong", "down", "real"]
    assert rows["up"] == (f"{server}/ok", "pass")
    assert rows["created"][1] == "pass"
    assert rows["wrong"][1] == "FAIL: 404, expected 200"
    assert rows["down"][1].startswith("FAIL: ")
    assert rows["real"][1] == "not served by the sandbox (a real Vercel/Heroku URL)"


def test_no_health_checks_no_rows() -> None:
    assert health_checks({}, None) == []
    assert health_checks({}, "http://127.0.0.1:9") == []


# --- sandbox env: eval-safe, every export undone --------------------------------------------------


def test_sandbox_env_without_an_engine_makes_the_eval_fail_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from scripts import sandbox_cmd
    from scripts.cli import app

    def missing() -> None:
        raise sandbox_cmd.EngineMissingError("not built")

    monkeypatch.setattr(sandbox_cmd, "require_engine", missing)
    monkeypatch.delenv("LAUNCHPLAN_PROJECT", raising=False)
    result = CliRunner().invoke(app, ["sandbox", "env"])
    assert result.exit_code == 2
    shell = subprocess.run(
        ["bash", "-c", 'eval "$1" && echo still-on-real-stacks', "_", result.stdout], capture_output=True, text=True
    )
    assert shell.returncode != 0 and "still-on-real-stacks" not in shell.stdout
    assert "launchplan sandbox env failed" in shell.stderr and "make engine" in shell.stderr


def test_sandbox_env_unset_undoes_every_export(tmp_path: Path) -> None:
    from scripts import sandbox_cmd

    sb = sandbox_cmd.Sandbox(tmp_path, Console(file=io.StringIO()), 47200)
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    assert set(sandbox_cmd.shell_env(sb)) <= set(sandbox_cmd.SHELL_VARS)
    script = (
        'export PATH=/usr/bin:/bin; eval "$1"; inside="$PATH"; eval "$2"; '
        'printf "%s\\n%s\\n" "$inside" "$PATH"; env | grep -E "^(LAUNCHPLAN_PROJECT|LAUNCHPLAN_SAVED|PULUMI_|HEROKU_|VERCEL_)" || true'
    )
    unset = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "launchplan"), "sandbox", "env", "--unset"], capture_output=True, text=True, cwd=ROOT
    )
    shell = subprocess.run(
        ["bash", "-c", script, "_", sandbox_cmd.exports(sb), unset.stdout],
        capture_output=True,
        text=True,
        env={"HOME": str(tmp_path)},  # nothing inherited: whatever is left was exported by the eval
    )
    inside, after, *left = shell.stdout.splitlines()
    assert inside.endswith(":/usr/bin:/bin") and ".engine/bin" in inside
    assert after == "/usr/bin:/bin" and left == [], shell.stdout


# --- a stack file outside the project root (an example) is named by its path -----------------------


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.staging.yaml").write_text("config: {}\n")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "Pulumi.field-tracking.yaml").write_text("config: {}\n")
    (tmp_path / "examples" / "Pulumi.staging.yaml").write_text("config: {}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LAUNCHPLAN_PROJECT", raising=False)
    return tmp_path


def test_an_example_is_rehearsed_by_its_path_under_its_own_name(team: Path) -> None:
    from scripts.sandbox_cmd import _sandbox

    sb = _sandbox(BASE, "examples/Pulumi.field-tracking.yaml")
    assert (sb.stack_name, sb.source) == ("field-tracking", team / "examples" / "Pulumi.field-tracking.yaml")
    own = _sandbox(BASE, "Pulumi.staging.yaml")  # the project's own file, named by its path
    assert (own.stack_name, own.source) == ("staging", None)


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ("examples/Pulumi.staging.yaml", "one of this project's own"),  # would overwrite staging's rehearsal
        ("examples/Pulumi.nothing.yaml", "does not exist"),
        ("examples/notes.yaml", "Pulumi.<stack>.yaml"),
        ("field-tracking", "examples/Pulumi.<stack>.yaml"),  # a bare name: the hint says how to name an example
    ],
)
def test_a_stack_file_that_cannot_be_rehearsed_is_refused_before_anything_starts(
    team: Path, given: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    from scripts.sandbox_cmd import _sandbox

    with pytest.raises(typer.Exit) as info:
        _sandbox(BASE, given)
    assert info.value.exit_code == 2
    assert named in capsys.readouterr().err.replace("\n", " ")
    assert not (team / ".sandbox").exists()
