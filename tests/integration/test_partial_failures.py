"""Partial failures never wedge the sandbox stack (issue 10), as a user meets them: a create whose
answer is lost, random 503s, a bad knob, an impostor with the declared name, a sensitive value
changed out of band. Most tests here use the sandbox's Vercel + Calendly part (quicker: no Heroku
plugin, no PostgreSQL), with a domain on the project; the lost Heroku creates run on the whole
sandbox stack, so that every resource type behind an API is covered."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sandbox.vercel import VercelApi
from tests.support.sandbox import launchplan, sandbox_copy
from tests.support.stacks import SANDBOX_FILE

pytestmark = pytest.mark.integration

DOMAIN = "dash.sandbox.example.com"
DECLARED_ENV_KEYS = 8  # 6 declared + 2 webhook signing secrets
TOKEN = {"Authorization": "Bearer any-sandbox-token"}


def vercel_stack(domain: bool = True) -> str:
    """The sandbox stack file without its Heroku part (same encrypted fake credentials)."""
    doc = yaml.safe_load(SANDBOX_FILE.read_text())
    config = doc["config"]
    for key in [k for k in config if k.startswith("heroku:") or k in ("launchplan:heroku", "launchplan:smtpPassword")]:
        del config[key]
    config["launchplan:endpoints"] = {k: v for k, v in config["launchplan:endpoints"].items() if k != "herokuApi"}
    if domain:
        config["launchplan:vercel"]["projects"]["rep-dashboard"]["domains"] = [DOMAIN]
    return yaml.safe_dump(doc, sort_keys=False)


def emulator_state(project: Path, name: str) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((project / ".sandbox" / "emulators" / f"{name}.json").read_text())
    return state


def assert_exactly_declared(project: Path) -> None:
    vercel = emulator_state(project, "vercel")
    assert [p["name"] for p in vercel["projects"].values()] == ["rep-dashboard"]
    slots = [(e["key"], tuple(e["target"])) for e in vercel["envs"].values()]
    assert len(slots) == len(set(slots)) == DECLARED_ENV_KEYS, slots
    assert list(vercel["domains"]) == [DOMAIN]
    calendly = emulator_state(project, "calendly")
    assert len(calendly["subscriptions"]) == 1


def converge(project: Path, *args: str, runs: int = 3) -> list[str]:
    """`sandbox up` until it succeeds, at most `runs` times, no other step in between."""
    outputs = []
    for _ in range(runs):
        run = launchplan(project, "sandbox", "up", *args)
        outputs.append(run.stdout + run.stderr)
        if run.returncode == 0:
            return outputs
    raise AssertionError(f"sandbox up did not converge in {runs} runs:\n" + "\n-----\n".join(outputs))


@pytest.fixture
def sandbox() -> Any:
    """A sandbox copy outside pytest's tmp root: the emulators' PostgreSQL runs as nobody, and a
    concurrent pytest session strips other users' access to that root."""
    where = Path(tempfile.mkdtemp(prefix="launchplan-sbx-"))
    try:
        project, base = sandbox_copy(where, vercel_stack())
        yield project, f"--port={base}"
        down = launchplan(project, "sandbox", "down", f"--port={base}")
        assert down.returncode == 0, down.stdout + down.stderr
    finally:
        shutil.rmtree(where, ignore_errors=True)


# --- every bad knob exits 2 before anything starts ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["sandbox", "up", "--error-rate=2"], "--error-rate"),
        (["sandbox", "up", "--error-rate=-0.1"], "--error-rate"),
        (["sandbox", "up", "--latency-ms=-1"], "--latency-ms"),
        (["sandbox", "up", "--rate-limit-every=-3"], "--rate-limit-every"),
        (["sandbox", "up", "--retry-after=-1"], "--retry-after"),
        (["sandbox", "up", "--fault-seed=-5"], "--fault-seed"),
        (["sandbox", "up", "--fail-after-create=("], "--fail-after-create"),
        (["sandbox", "up", "--port=99999"], "--port"),
        (["sandbox", "up", "--port=0"], "--port"),
        (["sandbox", "down", "--port=99999"], "--port"),
        (["sandbox", "status", "--port=70000"], "--port"),
    ],
)
def test_a_bad_knob_exits_2_before_anything_starts(tmp_path: Path, args: list[str], named: str) -> None:
    project, _ = sandbox_copy(tmp_path, vercel_stack())
    run = launchplan(project, *args, timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert named in run.stderr and "Traceback" not in run.stderr
    assert not (project / ".sandbox").exists(), "nothing may start (no emulators, no state) on a bad knob"


# --- a lost response after each create, in turn ---------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        "--fail-after-create=^POST /v8/projects$",  # the Vercel project: the provider's read right after fails
        r"--lose-create-response=^POST /v9/projects/[^/]+/env$",  # an env var: its own answer is lost
        r"--lose-create-response=^POST /v10/projects/[^/]+/domains$",  # the domain: its own answer is lost
        "--lose-create-response=^POST /webhook_subscriptions$",  # the Calendly subscription (launchplan's provider)
    ],
    ids=["vercel-project", "vercel-env-var", "vercel-domain", "calendly-subscription"],
)
def test_a_lost_create_response_never_wedges_the_stack(sandbox: Any, fault: str) -> None:
    project, port = sandbox
    outputs = converge(project, port, fault)
    log = [json.loads(line) for line in (project / ".sandbox" / "emulators" / "requests.jsonl").read_text().splitlines()]
    assert any(e["status"] == 503 for e in log), "the fault was injected"
    assert_exactly_declared(project)
    again = launchplan(project, "sandbox", "up", port)
    assert again.returncode == 0 and "Nothing to change" in again.stdout, again.stdout + again.stderr
    if "/v" in fault:  # a Vercel object: imported, and shown as adopted
        assert "Adopted" in "".join(outputs)


# --- the same for each Heroku resource created by POST, on the whole sandbox stack ----------------------
# Formation and config vars are PATCHes (a lost answer is simply sent again); the rest can be orphaned.

HEROKU_APP = "sandbox-bookings"
HEROKU_DOMAIN = "bookings.sandbox.example.com"


@pytest.fixture
def heroku_sandbox() -> Any:
    """The whole sandbox stack (Heroku app, Postgres add-on, backups, domain; Vercel; Calendly)."""
    where = Path(tempfile.mkdtemp(prefix="launchplan-sbx-"))
    try:
        project, base = sandbox_copy(where)
        yield project, f"--port={base}"
        down = launchplan(project, "sandbox", "down", f"--port={base}")
        assert down.returncode == 0, down.stdout + down.stderr
    finally:
        shutil.rmtree(where, ignore_errors=True)


def assert_heroku_exactly_declared(project: Path) -> None:
    heroku = emulator_state(project, "heroku")
    assert [a["name"] for a in heroku["apps"].values()] == [HEROKU_APP]
    [app] = heroku["apps"].values()
    addons = [a["plan"]["name"] for a in heroku["addons"].values()]
    assert addons == ["heroku-postgresql:essential-0"], addons
    assert [(d["hostname"], d["app"]["id"]) for d in heroku["domains"].values()] == [(HEROKU_DOMAIN, app["id"])]
    [addon] = heroku["addons"].values()
    schedules = emulator_state(project, "heroku-data")["schedules"]
    assert [(s["hour"], s["timezone"]) for s in schedules.get(addon["id"], [])] == [(2, "America/Los_Angeles")]
    assert sum(len(v) for v in schedules.values()) == 1, schedules
    vercel = emulator_state(project, "vercel")
    assert [p["name"] for p in vercel["projects"].values()] == ["rep-dashboard"]
    slots = [(e["key"], tuple(e["target"])) for e in vercel["envs"].values()]
    assert len(slots) == len(set(slots)) == DECLARED_ENV_KEYS, slots
    assert len(emulator_state(project, "calendly")["subscriptions"]) == 1


@pytest.mark.parametrize(
    "fault",
    [
        "--fail-after-create=^POST /apps$",  # the app: the read right after the create fails (the plugin retries it)
        "--lose-create-response=^POST /apps$",  # the app: its own answer is lost
        "--lose-create-response=^POST /apps/[^/]+/domains$",  # the custom domain
        "--lose-create-response=^POST /apps/[^/]+/addons$",  # the Postgres add-on (its name is generated)
        "--lose-create-response=^POST /client/v11/databases/[^/]+/transfer-schedules$",  # backups (launchplan's provider)
    ],
    ids=["heroku-app-read", "heroku-app", "heroku-domain", "heroku-postgres-addon", "heroku-backup-schedule"],
)
def test_a_lost_heroku_create_response_never_wedges_the_stack(heroku_sandbox: Any, fault: str) -> None:
    project, port = heroku_sandbox
    outputs = converge(project, port, fault)
    log = [json.loads(line) for line in (project / ".sandbox" / "emulators" / "requests.jsonl").read_text().splitlines()]
    pattern = fault.split("=", 1)[1]
    hit = [e for e in log if e["status"] == 503]
    assert hit, f"the fault was injected: {pattern}"
    assert_heroku_exactly_declared(project)
    again = launchplan(project, "sandbox", "up", port)
    assert again.returncode == 0 and "Nothing to change" in again.stdout, again.stdout + again.stderr
    if "--fail-after-create" in fault:  # launchplan's heroku plugin retries the failed read itself
        assert len(outputs) == 1 and "Adopted" not in outputs[0], "\n-----\n".join(outputs)
    elif "transfer-schedules" not in fault:  # imported by repair, and shown as adopted
        assert "Adopted" in "".join(outputs), "\n-----\n".join(outputs)


# --- random 503s: 20 seeds in a row ------------------------------------------------------------------
# About a minute a seed on 2 cores (the whole stack more): `make test` runs 3 seeds of each, `make soak`
# the 20 in a row of each.
# Fixed seeds in `make test` (a failure repeats); `make soak` starts them at a random seed, which the
# test ids print, so a failing seed can be rerun with LAUNCHPLAN_SOAK_FIRST_SEED.
FIRST_SEED = int(os.environ.get("LAUNCHPLAN_SOAK_FIRST_SEED", "1001"))
SEEDS = list(range(FIRST_SEED, FIRST_SEED + int(os.environ.get("LAUNCHPLAN_SOAK_SEEDS", "3"))))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_503s_converge_within_three_runs(sandbox: Any, seed: int) -> None:
    project, port = sandbox
    outputs = converge(project, port, "--error-rate=0.3", f"--fault-seed={seed}")
    assert f"seed {seed}" in outputs[0]
    assert_exactly_declared(project)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_503s_on_the_whole_sandbox_stack_converge_within_three_runs(heroku_sandbox: Any, seed: int) -> None:
    """The same on the stack `sandbox up` applies by default: Heroku app, add-on, backups, domain,
    formation, config vars, Postgres extensions and schema, Vercel and Calendly."""
    project, port = heroku_sandbox
    outputs = converge(project, port, "--error-rate=0.3", f"--fault-seed={seed}")
    assert f"seed {seed}" in outputs[0]
    assert_heroku_exactly_declared(project)


# --- down with a bad port, impostors, repair, drift of a sensitive value ---------------------------------


def test_repair_adopts_orphans_refuses_impostors_and_drift_sees_sensitive_changes(sandbox: Any) -> None:
    project, port = sandbox
    assert launchplan(project, "sandbox", "up", port).returncode == 0
    files = {p: p.read_text() for p in (project / ".sandbox" / "emulators").glob("*.json")}
    for bad in ("--port=99999", "--port=1"):
        down = launchplan(project, "sandbox", "down", bad)
        assert down.returncode in (1, 2) and "protected" not in down.stderr, down.stderr
        assert {p: p.read_text() for p in files} == files, f"down {bad} changed nothing"

    # Orphans of each type: the objects stay live, the state forgets them (as after lost responses).
    export = json.loads(launchplan_pulumi(project, "stack", "export"))
    before = len(export["deployment"]["resources"])
    urns = {r["urn"].rsplit("::", 1)[-1]: r["urn"] for r in export["deployment"]["resources"] if r.get("custom")}
    for name in ("rep-dashboard-ARRIVY_RATE_LIMIT", f"rep-dashboard-{DOMAIN}", "calendly-bookings"):
        launchplan_pulumi(project, "state", "delete", urns[name], "--yes")
    dry = launchplan(project, "repair", "sandbox", "--json")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    found = {f["name"]: f["verdict"] for f in json.loads(dry.stdout)["findings"]}
    assert found == {
        "rep-dashboard-ARRIVY_RATE_LIMIT": "adopt",
        f"rep-dashboard-{DOMAIN}": "adopt",
        "calendly-bookings": "provider",
    }
    assert len(json.loads(launchplan_pulumi(project, "stack", "export"))["deployment"]["resources"]) == before - 3
    fixed = launchplan(project, "repair", "sandbox", "--yes")
    assert fixed.returncode == 0 and "adopted" in fixed.stdout, fixed.stdout + fixed.stderr
    settled = launchplan(project, "sandbox", "up", port)
    assert settled.returncode == 0 and "Nothing to change" in settled.stdout, settled.stdout + settled.stderr
    assert_exactly_declared(project)

    # A sensitive value changed out of band: Vercel never returns it, its update time tells.
    vercel_url = f"http://127.0.0.1:{int(port.split('=')[1]) + 1}"
    project_id = next(iter(emulator_state(project, "vercel")["projects"]))
    env = next(e for e in emulator_state(project, "vercel")["envs"].values() if e["key"] == "ARRIVY_AUTH_KEY")
    declared_value = env["value"]
    time.sleep(2.5)  # past the clock-skew allowance
    patched = httpx.patch(
        f"{vercel_url}/v9/projects/{project_id}/env/{env['id']}",
        json={"value": "changed-by-hand"},
        headers=TOKEN,
        trust_env=False,
    )
    assert patched.status_code == 200
    drift = launchplan(project, "drift", "sandbox", "--json")
    assert drift.returncode == 3, drift.stdout + drift.stderr
    report = json.loads(drift.stdout)
    sensitive = [d for d in report["drift"] if d["audit"] == "sensitive"]
    assert [d["resource"] for d in sensitive] == ["rep-dashboard-ARRIVY_AUTH_KEY"]
    assert "changed-by-hand" not in drift.stdout and declared_value not in drift.stdout
    assert any("calendly-bookings" in n and "cannot be compared" in n for n in report["uncomparable"])
    reconciled = launchplan(project, "sandbox", "up", port)
    assert reconciled.returncode == 0 and "Changed outside Pulumi" in reconciled.stdout, reconciled.stdout + reconciled.stderr
    assert emulator_state(project, "vercel")["envs"][env["id"]]["value"] == declared_value
    assert launchplan(project, "drift", "sandbox").returncode == 0

    # An impostor: another project of the declared name (another framework), made by someone else.
    assert launchplan(project, "sandbox", "down", port).returncode == 0
    api = VercelApi(project / ".sandbox" / "emulators" / "vercel.json")
    url = api.start()
    try:
        made = httpx.post(
            f"{url}/v8/projects", json={"name": "rep-dashboard", "framework": "vite"}, headers=TOKEN, trust_env=False
        )
        assert made.status_code == 200
    finally:
        api.stop()
    before = emulator_state(project, "vercel")
    refused = launchplan(project, "sandbox", "up", port)
    assert refused.returncode == 1 and "not the declared one" in refused.stderr and "framework" in refused.stderr, refused.stderr
    repair = launchplan(project, "repair", "sandbox")
    assert repair.returncode == 1 and "not the declared one" in repair.stderr, repair.stdout + repair.stderr
    after = emulator_state(project, "vercel")
    assert after["projects"] == before["projects"] and not after["envs"], "the impostor is left as it was"


def launchplan_pulumi(project: Path, *args: str) -> str:
    from scripts.pulumi_cli import BIN, run_engine, sandbox_env

    env = sandbox_env(project, "http://127.0.0.1:9")
    proc = run_engine([str(BIN / "pulumi"), *args, "--stack", "sandbox"], cwd=project, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout
