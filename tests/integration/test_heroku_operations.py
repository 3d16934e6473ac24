"""`launchplan clone staging production --data` against the Heroku emulators and a real
PostgreSQL: runbook 004's Phase 2 (restore staging's data into production, compare counts)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sandbox.heroku import HerokuApi
from sandbox.heroku_data import HerokuDataApi
from sandbox.postgres import EmbeddedPostgres
from scripts.pulumi_cli import ROOT
from tests.support.engine import Workspace
from tests.support.postgres import cluster_folder, free_port

pytestmark = pytest.mark.integration
TOKEN = "heroku-clone-test-token-0001"
HEADERS = {"Accept": "application/vnd.heroku+json; version=3", "Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def heroku(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with cluster_folder() as folder:
        pg = EmbeddedPostgres(folder, free_port())
        pg.start()
        platform = HerokuApi(tmp_path / "heroku.json", token=TOKEN, postgres=pg, provision_seconds=0)
        data = HerokuDataApi(tmp_path / "heroku-data.json", heroku=platform)
        urls = {"herokuApi": platform.start(), "herokuDataApi": data.start()}
        # What `pulumi up` of both stacks would have made (no Heroku plugin can be built here).
        with httpx.Client(base_url=urls["herokuApi"], headers=HEADERS) as api:
            for app, plan in (("sc-mvp-staging", "essential-0"), ("sc-mvp-production", "standard-0")):
                assert api.post("/apps", json={"name": app}).status_code == 201
                assert api.post(f"/apps/{app}/addons", json={"plan": f"heroku-postgresql:{plan}"}).status_code == 201
            db = {
                app: api.get(f"/apps/{app}/config-vars").json()["DATABASE_URL"] for app in ("sc-mvp-staging", "sc-mvp-production")
            }
        pg.run_sql(
            "create table workers (id int); insert into workers select generate_series(1, 42);"
            "create table shifts (id int); insert into shifts select generate_series(1, 7);",
            url=db["sc-mvp-staging"],
        )
        pg.run_sql("create table workers (id int); insert into workers values (1);", url=db["sc-mvp-production"])
        yield {"pg": pg, "urls": urls, "db": db}
        platform.stop()
        data.stop()
        pg.stop()


def stacks(tmp_path: Path, urls: dict[str, str]) -> tuple[Workspace, dict[str, str]]:
    files: dict[str, str | Path] = {"Pulumi.yaml": ROOT / "Pulumi.yaml", "clone-rules.yaml": ROOT / "clone-rules.yaml"}
    for stack in ("staging", "production"):
        doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        doc["config"]["launchplan:sandbox"] = True  # plain-http loopback endpoints
        doc["config"]["launchplan:endpoints"] = urls
        files[f"Pulumi.{stack}.yaml"] = yaml.safe_dump(doc)
    ws = Workspace(tmp_path, files)
    for stack in ("staging", "production"):
        ws.pulumi("stack", "init", stack)
        ws.pulumi("config", "set", "--secret", "heroku:apiKey", TOKEN, "--stack", stack)
    env = {**os.environ, **ws.env}
    env.pop("PULUMI_HOME")  # launchplan picks the engine and its plugins itself
    return ws, env


def launchplan(ws: Workspace, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "launchplan"), *args], cwd=ws.dir, env=env, capture_output=True, text=True, timeout=300
    )


def test_data_clone_restores_staging_into_production_and_compares_counts(tmp_path: Path, heroku: dict[str, Any]) -> None:
    ws, env = stacks(tmp_path, heroku["urls"])
    pg: EmbeddedPostgres = heroku["pg"]

    refused = launchplan(ws, env, "clone", "staging", "production", "--data", "--confirm", "sc-mvp-staging")
    assert refused.returncode == 1 and "not confirmed" in refused.stderr
    assert pg.run_sql("select count(*) from workers", url=heroku["db"]["sc-mvp-production"]) == [["1"]]  # untouched

    done = launchplan(ws, env, "clone", "staging", "production", "--data", "--confirm", "sc-mvp-production")
    assert done.returncode == 0, done.stdout + done.stderr
    assert pg.run_sql("select count(*) from workers", url=heroku["db"]["sc-mvp-production"]) == [["42"]]
    assert pg.run_sql("select count(*) from shifts", url=heroku["db"]["sc-mvp-production"]) == [["7"]]
    assert "public.workers" in done.stdout and "42" in done.stdout
    assert "safety backup of sc-mvp-production taken before the restore: b001 of sc-mvp-production" in done.stdout

    with httpx.Client(base_url=heroku["urls"]["herokuDataApi"], headers=HEADERS) as data:
        transfers = data.get("/client/v11/apps/sc-mvp-production/transfers").json()
    kinds = [(t["from_type"], t["to_type"], t["succeeded"]) for t in sorted(transfers, key=lambda t: t["num"])]
    assert kinds[0] == ("pg_dump", "gof3r", True)  # the safety backup came first
    assert kinds[-1][2] is True and kinds[-1][1] == "pg_restore"
    for secret in (TOKEN, *heroku["db"].values()):
        assert secret not in done.stdout + done.stderr


def test_verify_and_drift_read_heroku_directly(tmp_path: Path, heroku: dict[str, Any]) -> None:
    ws, env = stacks(tmp_path, heroku["urls"])
    urls = heroku["urls"]
    with httpx.Client(base_url=urls["herokuApi"], headers=HEADERS) as api:
        addon = api.get("/apps/sc-mvp-production/addons").json()[0]
        # As `pulumi up` would leave it, plus one var set by hand and SECRET_KEY_BASE missing.
        vars_ = {
            "NODE_ENV": "production",
            "RAILS_ENV": "production",
            "RAILS_LOG_TO_STDOUT": "enabled",
            "RAILS_SERVE_STATIC_FILES": "enabled",
            "DEBUG_SQL": "1",
        }
        assert api.patch("/apps/sc-mvp-production/config-vars", json=vars_).status_code == 200
    with httpx.Client(base_url=urls["herokuDataApi"], headers=HEADERS) as data:
        body = {"hour": "2", "timezone": "America/Los_Angeles", "schedule_name": "DATABASE_URL"}
        assert data.post(f"/client/v11/databases/{addon['id']}/transfer-schedules", json=body).status_code == 201

    report = json.loads(launchplan(ws, env, "verify", "production", "--json").stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["backup schedule sc-mvp-production"]["status"] == "pass"
    assert checks["latest backup sc-mvp-production"]["status"] == "pending"  # scheduled minutes ago
    assert checks["env sc-mvp-production"] == {
        "name": "env sc-mvp-production",
        "status": "fail",
        "evidence": "missing on the platform: SECRET_KEY_BASE",
    }

    audit = launchplan(ws, env, "drift", "production", "--json")
    assert audit.returncode == 3, audit.stdout + audit.stderr
    found = {(d["audit"], d["detail"]) for d in json.loads(audit.stdout)["drift"]}
    assert ("out-of-band", "config var DEBUG_SQL is set but not declared") in found
    assert not any("DATABASE_URL" in detail or "HEROKU_POSTGRESQL" in detail for _, detail in found)


def test_missing_passphrase_and_unreachable_apis_are_clear_errors(tmp_path: Path, heroku: dict[str, Any]) -> None:
    ws, env = stacks(tmp_path, heroku["urls"])
    no_passphrase = {k: v for k, v in env.items() if not k.startswith("PULUMI_CONFIG_PASSPHRASE")}
    locked = launchplan(ws, no_passphrase, "verify", "production")
    assert locked.returncode == 2 and "PULUMI_CONFIG_PASSPHRASE" in locked.stderr

    dead = {name: "http://127.0.0.1:9" for name in heroku["urls"]}  # nothing listens there
    for stack in ("staging", "production"):
        path = ws.dir / f"Pulumi.{stack}.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["config"]["launchplan:endpoints"] = dead
        path.write_text(yaml.safe_dump(doc))
    before = {p.name: p.read_text() for p in ws.dir.glob("Pulumi.*.yaml")}
    for args in (
        ["verify", "production"],
        ["drift", "production"],
        ["clone", "staging", "production", "--data", "--confirm", "sc-mvp-production"],
    ):
        result = launchplan(ws, env, *args)
        assert result.returncode in (1, 2) and "cannot reach http://127.0.0.1:9" in result.stderr, (args, result.stderr)
    assert {p.name: p.read_text() for p in ws.dir.glob("Pulumi.*.yaml")} == before  # nothing changed
