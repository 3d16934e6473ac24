"""The stand-in apps host (sandbox/apps.py): apps routed by Host header, deploys, health checks that
really look at config vars and really connect to the embedded PostgreSQL; wired into
`sandbox.server.start_all` without a request log or faults. Real sockets, nothing mocked."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.core import Faults
from sandbox.postgres import EmbeddedPostgres
from sandbox.server import describe, start_all
from tests.support.postgres import cluster_folder
from tests.support.sandbox import free_base_port
from tests.support.stand_ins import HEROKU_HEADERS, VERCEL_HEADERS, running_apps_host

HEROKU = HEROKU_HEADERS
VERCEL = VERCEL_HEADERS
HEALTHY = {"healthPath": "/healthz", "expectStatus": 200, "requiredEnv": ["SECRET_KEY_BASE"]}


@dataclass
class Sandbox:
    heroku: httpx.Client
    vercel: httpx.Client
    apps: httpx.Client

    def new_app(self, name: str, **config: str) -> dict[str, Any]:
        app = self.heroku.post("/apps", json={"name": name}).json()
        if config:
            assert self.heroku.patch(f"/apps/{name}/config-vars", json=config).status_code == 200
        return dict(app)

    def add_postgres(self, app: str) -> str:
        """A Heroku Postgres add-on on a real database; answers its DATABASE_URL once attached."""
        assert self.heroku.post(f"/apps/{app}/addons", json={"plan": "heroku-postgresql:essential-0"}).status_code == 201
        deadline = time.monotonic() + 10
        while "DATABASE_URL" not in (config := self.heroku.get(f"/apps/{app}/config-vars").json()):
            assert time.monotonic() < deadline, "the add-on never attached"
            time.sleep(0.05)
        return str(config["DATABASE_URL"])

    def deploy(self, platform: str, name: str, **fields: Any) -> httpx.Response:
        return self.apps.put(f"/__sandbox/deploys/{platform}/{name}", json={**HEALTHY, **fields})

    def get(self, host: str, path: str = "/healthz", **kwargs: Any) -> httpx.Response:
        """What DNS would send to `host`: this port, with the app's host name in Host."""
        return self.apps.get(path, headers={"Host": host}, **kwargs)


def web_host(app: dict[str, Any]) -> str:
    return urlsplit(app["web_url"]).hostname or ""


@pytest.fixture
def sandbox(tmp_path: Path, pg: EmbeddedPostgres) -> Iterator[Sandbox]:
    with running_apps_host(tmp_path, pg) as clients:
        yield Sandbox(clients.heroku, clients.vercel, clients.apps)


def checks(answer: httpx.Response) -> dict[str, bool]:
    return {c["check"]: c["ok"] for c in answer.json()["checks"]}


# --- routing by Host header -------------------------------------------------------------------------


def test_every_host_of_an_app_routes_to_it_and_unknown_hosts_are_no_such_app(sandbox: Sandbox) -> None:
    app = sandbox.new_app("shop-prod", SECRET_KEY_BASE="s3cr3t-value-never-shown")
    assert sandbox.heroku.post("/apps/shop-prod/domains", json={"hostname": "www.shop.example"}).status_code == 201
    assert sandbox.heroku.post("/apps/shop-prod/domains", json={"hostname": "*.shop.example"}).status_code == 201
    project = sandbox.vercel.post("/v11/projects", json={"name": "shop-web"}).json()
    assert sandbox.vercel.post(f"/v10/projects/{project['id']}/domains", json={"name": "shop.example.org"}).status_code == 200
    sandbox.vercel.post(
        f"/v10/projects/{project['id']}/env", json={"key": "SECRET_KEY_BASE", "value": "v", "target": ["production"]}
    )
    assert sandbox.deploy("heroku", "shop-prod").status_code == 200
    assert sandbox.deploy("vercel", "shop-web").status_code == 200

    heroku_hosts = [web_host(app), "www.shop.example", "eu.shop.example", f"{web_host(app)}:443", "WWW.Shop.Example."]
    for host in heroku_hosts:
        answer = sandbox.get(host)
        assert answer.status_code == 200, (host, answer.text)
        assert answer.json()["app"] == "shop-prod" and answer.json()["platform"] == "heroku"
    for host in ("shop-web.vercel.app", "shop.example.org", "shop-web.vercel.app:8080"):
        answer = sandbox.get(host)
        assert answer.status_code == 200, (host, answer.text)
        assert (answer.json()["app"], answer.json()["platform"]) == ("shop-web", "vercel")

    for unknown in ("shop-prod.herokuapp.com", "nope.vercel.app", "a.b.shop.example", "127.0.0.1"):
        answer = sandbox.get(unknown)
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/plain")
        assert "No such app" in answer.text
    assert re.fullmatch(r"shop-prod-[0-9a-f]{12}\.herokuapp\.com", web_host(app))  # the format the Heroku CLI expects


def test_a_stand_in_answers_only_once_deployed_and_only_its_health_path(sandbox: Sandbox) -> None:
    app = sandbox.new_app("quiet-app", SECRET_KEY_BASE="x")
    answer = sandbox.get(web_host(app))
    assert answer.status_code == 404 and "nothing is deployed" in answer.text

    assert sandbox.deploy("heroku", "quiet-app", healthPath="/up").status_code == 200
    assert sandbox.get(web_host(app), "/up").status_code == 200
    assert sandbox.apps.head("/up", headers={"Host": web_host(app)}).status_code == 200
    assert sandbox.get(web_host(app), "/healthz").status_code == 404
    assert sandbox.get(web_host(app), "/").status_code == 404
    assert sandbox.apps.post("/up", headers={"Host": web_host(app)}).status_code == 405

    deleted = sandbox.apps.delete("/__sandbox/deploys/heroku/quiet-app")
    assert deleted.status_code == 200 and deleted.json()["name"] == "quiet-app"
    assert sandbox.get(web_host(app), "/up").status_code == 404
    assert sandbox.apps.get("/__sandbox/deploys/heroku/quiet-app").status_code == 404


# --- the deploy API -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"healthPath": "healthz"}, "healthPath"),
        ({"expectStatus": 200}, "healthPath"),  # healthPath is required
        ({"healthPath": "/__sandbox/deploys"}, "healthPath"),
        ({"healthPath": "/h?x=1"}, "healthPath"),
        ({"healthPath": "/h", "expectStatus": 600}, "expectStatus"),
        ({"healthPath": "/h", "expectStatus": "200"}, "expectStatus"),
        ({"healthPath": "/h", "expectStatus": 101}, "expectStatus"),
        ({"healthPath": "/h", "requiredEnv": "SECRET_KEY_BASE"}, "requiredEnv"),
        ({"healthPath": "/h", "requiredEnv": ["NOT-A-KEY"]}, "requiredEnv"),
        ({"healthPath": "/h", "healthcheck": "/h"}, "healthcheck"),
        (["/h"], "body"),
    ],
)
def test_deploy_validation_names_the_field(sandbox: Sandbox, body: Any, field: str) -> None:
    sandbox.new_app("valid-app")
    answer = sandbox.apps.put("/__sandbox/deploys/heroku/valid-app", json=body)
    assert answer.status_code == 400
    assert answer.json()["field"] == field and field in answer.json()["message"]
    assert sandbox.apps.get("/__sandbox/deploys").json() == []


def test_deploy_api_unknown_targets_listing_and_lifecycle(sandbox: Sandbox) -> None:
    for path in ("/__sandbox/deploys/heroku/missing-app", "/__sandbox/deploys/vercel/missing", "/__sandbox/deploys/netlify/x"):
        answer = sandbox.apps.put(path, json=HEALTHY)
        assert answer.status_code == 404 and answer.json()["id"] == "not_found", path

    app = sandbox.new_app("listed-app")
    answer = sandbox.apps.put("/__sandbox/deploys/heroku/listed-app", content=b"{not json")
    assert answer.status_code == 400 and answer.json()["field"] == "body"
    deployed = sandbox.deploy("heroku", "listed-app", expectStatus=299, requiredEnv=["A", "A", "B"])
    assert deployed.status_code == 200
    record = deployed.json()
    assert {k: record[k] for k in ("platform", "id", "name", "healthPath", "expectStatus", "requiredEnv")} == {
        "platform": "heroku", "id": app["id"], "name": "listed-app", "healthPath": "/healthz", "expectStatus": 299,
        "requiredEnv": ["A", "B"],
    }  # fmt: skip
    assert record["hosts"] == [web_host(app)] and record["deployedAt"].endswith("Z")
    # /__sandbox/ is served whatever the Host header says
    assert sandbox.apps.get("/__sandbox/deploys", headers={"Host": web_host(app)}).json() == [record]

    # a rename keeps the deploy (it belongs to the app), a delete takes it away
    assert sandbox.heroku.patch("/apps/listed-app", json={"name": "renamed-app"}).status_code == 200
    [renamed] = sandbox.apps.get("/__sandbox/deploys").json()
    assert renamed["name"] == "renamed-app" and renamed["hosts"][0].startswith("renamed-app-")
    assert sandbox.get(renamed["hosts"][0]).status_code == 503  # deployed; A and B missing
    assert sandbox.heroku.delete("/apps/renamed-app").status_code == 200
    assert sandbox.apps.get("/__sandbox/deploys").json() == []
    sandbox.new_app("renamed-app")  # the same name again is another app, with nothing deployed
    assert sandbox.apps.get("/__sandbox/deploys/heroku/renamed-app").status_code == 404


# --- health checks -----------------------------------------------------------------------------------


def test_all_checks_pass_with_a_real_database(sandbox: Sandbox) -> None:
    app = sandbox.new_app("healthy-app", SECRET_KEY_BASE="kb-value-9f8e7d")
    url = sandbox.add_postgres("healthy-app")
    sandbox.deploy("heroku", "healthy-app", expectStatus=202, requiredEnv=["SECRET_KEY_BASE", "DATABASE_URL"])
    answer = sandbox.get(web_host(app))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {
        "app": "healthy-app",
        "platform": "heroku",
        "checks": [
            {"check": "env SECRET_KEY_BASE present", "ok": True},
            {"check": "env DATABASE_URL present", "ok": True},
            {"check": "DATABASE_URL connects", "ok": True},
        ],
    }
    assert "kb-value-9f8e7d" not in answer.text and url not in answer.text


def test_a_missing_env_key_is_a_503_naming_it(sandbox: Sandbox) -> None:
    app = sandbox.new_app("half-app", SECRET_KEY_BASE="present")
    sandbox.deploy("heroku", "half-app", requiredEnv=["SECRET_KEY_BASE", "SMTP_PASS"])
    answer = sandbox.get(web_host(app))
    assert answer.status_code == 503
    assert checks(answer) == {"env SECRET_KEY_BASE present": True, "env SMTP_PASS present": False}
    assert "SMTP_PASS" in answer.json()["checks"][1]["detail"]
    assert "detail" not in answer.json()["checks"][0]  # a passing check has nothing to say

    sandbox.heroku.patch("/apps/half-app/config-vars", json={"SMTP_PASS": "now-set"})  # read live: healthy at once
    assert sandbox.get(web_host(app)).status_code == 200


def test_vercel_checks_production_env_vars_sensitive_ones_included(sandbox: Sandbox) -> None:
    project = sandbox.vercel.post("/v11/projects", json={"name": "site"}).json()
    env = f"/v10/projects/{project['id']}/env"
    sandbox.vercel.post(env, json={"key": "SECRET_KEY_BASE", "value": "hidden", "type": "sensitive", "target": ["production"]})
    sandbox.vercel.post(env, json={"key": "PREVIEW_ONLY", "value": "p", "target": ["preview"]})
    sandbox.deploy("vercel", "site", requiredEnv=["SECRET_KEY_BASE", "PREVIEW_ONLY"])
    answer = sandbox.get("site.vercel.app")
    assert answer.status_code == 503
    assert checks(answer) == {"env SECRET_KEY_BASE present": True, "env PREVIEW_ONLY present": False}
    assert "production" in answer.json()["checks"][1]["detail"] and "hidden" not in answer.text

    sandbox.deploy("vercel", project["id"], requiredEnv=["SECRET_KEY_BASE", "DATABASE_URL"])  # by id too
    answer = sandbox.get("site.vercel.app")
    assert answer.status_code == 503
    assert checks(answer) == {
        "env SECRET_KEY_BASE present": True,
        "env DATABASE_URL present": False,
        "DATABASE_URL connects": False,
    }

    sandbox.vercel.delete(f"/v9/projects/{project['id']}")  # the deploy goes with the project
    assert sandbox.apps.get("/__sandbox/deploys").json() == []
    assert sandbox.get("site.vercel.app").status_code == 404


def test_a_dropped_database_fails_the_connect_check_without_telling_the_url(sandbox: Sandbox, pg: EmbeddedPostgres) -> None:
    app = sandbox.new_app("dropped-app", SECRET_KEY_BASE="x")
    url = sandbox.add_postgres("dropped-app")
    sandbox.deploy("heroku", "dropped-app")  # DATABASE_URL is checked because the app has one
    assert checks(sandbox.get(web_host(app))) == {"env SECRET_KEY_BASE present": True, "DATABASE_URL connects": True}

    pg.drop_database(urlsplit(url).path.lstrip("/"))  # behind the emulator's back: the config var stays
    answer = sandbox.get(web_host(app))
    assert answer.status_code == 503
    assert checks(answer) == {"env SECRET_KEY_BASE present": True, "DATABASE_URL connects": False}
    detail = answer.json()["checks"][1]["detail"]
    assert "cannot connect" in detail and "failed" in detail, detail
    parts = urlsplit(url)
    for secret in (url, parts.password, parts.username):
        assert secret and secret not in answer.text


def test_a_wrong_password_or_a_foreign_host_fails_the_connect_check(sandbox: Sandbox, pg: EmbeddedPostgres) -> None:
    good = pg.create_database("wrong_pw_db")
    password = urlsplit(good).password or ""
    wrong = good.replace(password, "f" * 64)
    app = sandbox.new_app("wrongpw-app", DATABASE_URL=wrong)
    sandbox.deploy("heroku", "wrongpw-app", requiredEnv=[])
    answer = sandbox.get(web_host(app))
    assert answer.status_code == 503
    [check] = answer.json()["checks"]
    assert check["check"] == "DATABASE_URL connects" and not check["ok"]
    assert "password authentication failed" in check["detail"]
    for secret in (wrong, good, "f" * 64, password, urlsplit(good).username or "?"):
        assert secret not in answer.text

    sandbox.heroku.patch("/apps/wrongpw-app/config-vars", json={"DATABASE_URL": good})
    assert sandbox.get(web_host(app)).status_code == 200
    sandbox.heroku.patch("/apps/wrongpw-app/config-vars", json={"DATABASE_URL": good.replace("127.0.0.1", "db.example.com")})
    answer = sandbox.get(web_host(app))
    assert answer.status_code == 503 and "sandbox's PostgreSQL" in answer.json()["checks"][0]["detail"]
    assert "db.example.com" not in answer.text and password not in answer.text


# --- wired into the server: port, state, request log, faults -----------------------------------------


@contextmanager
def served(folder: Path, base: int, faults: Faults) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """`start_all` as `python -m sandbox.server` runs it, with clients of the Heroku API and the stand-ins;
    all stopped after. New clients per start: a kept-alive connection would still reach a stopped server."""
    running, postgres = start_all(folder, base, faults)
    heroku = httpx.Client(base_url=f"http://127.0.0.1:{base + 4}", headers=HEROKU, timeout=30)
    apps = httpx.Client(base_url=f"http://127.0.0.1:{base + 6}", timeout=30)
    try:
        yield heroku, apps
    finally:
        heroku.close()
        apps.close()
        for emulator in running:
            emulator.stop()
        postgres.stop()


def test_the_server_serves_stand_ins_on_base_plus_6_across_a_restart_unlogged_and_without_faults() -> None:
    base = free_base_port()
    layout: Any = describe(base)["emulators"]
    assert layout["apps"] == {"url": f"http://127.0.0.1:{base + 6}", "endpointKey": "sandboxApps"}
    with cluster_folder() as folder:
        with served(folder, base, Faults()) as (heroku, apps):
            app = heroku.post("/apps", json={"name": "served-app"}).json()
            heroku.post("/apps/served-app/addons", json={"plan": "heroku-postgresql:essential-0"})
            deploy = {**HEALTHY, "requiredEnv": ["DATABASE_URL"]}
            assert apps.put("/__sandbox/deploys/heroku/served-app", json=deploy).status_code == 200
        assert json.loads((folder / "apps.json").read_text())["deploys"]  # its own state file

        # Restarted with every API request failing: the stand-ins neither fault nor forget.
        with served(folder, base, Faults(error_rate=1.0)) as (heroku, apps):
            assert heroku.get("/apps/served-app").status_code == 503
            logged = (folder / "requests.jsonl").read_text()
            deadline = time.monotonic() + 10
            while (answer := apps.get("/healthz", headers={"Host": web_host(app)})).status_code != 200:
                assert time.monotonic() < deadline, answer.text  # the add-on attaches 0.5 s after its create
                time.sleep(0.1)
            assert checks(answer) == {"env DATABASE_URL present": True, "DATABASE_URL connects": True}
            for _ in range(20):
                assert apps.get("/healthz", headers={"Host": web_host(app)}).status_code == 200
            assert [d["name"] for d in apps.get("/__sandbox/deploys").json()] == ["served-app"]
            assert (folder / "requests.jsonl").read_text() == logged  # no stand-in request was logged
            assert json.loads((folder / "endpoints.json").read_text())["apps"] == f"http://127.0.0.1:{base + 6}"
