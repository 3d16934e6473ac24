"""The Heroku Platform API emulator (sandbox/heroku.py) and the Data API's backups and restores
(sandbox/heroku_data.py), over real sockets with httpx, on a real embedded PostgreSQL."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.heroku import HerokuApi
from sandbox.heroku_data import HerokuDataApi
from sandbox.postgres import EmbeddedPostgres, PostgresError

TOKEN = "heroku-test-token-0123456789"
ACCEPT = "application/vnd.heroku+json; version=3"
HEADERS = {"Accept": ACCEPT, "Authorization": f"Bearer {TOKEN}"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
APP_FIELDS = {  # heroku-go v5 `type App struct`
    "acm", "archived_at", "build_stack", "buildpack_provided_description", "created_at", "git_url", "id",
    "internal_routing", "maintenance", "name", "organization", "owner", "region", "released_at", "repo_size",
    "slug_size", "space", "stack", "team", "updated_at", "web_url",
}  # fmt: skip
ADDON_FIELDS = {  # heroku-go v5 `type AddOn struct`
    "actions", "addon_service", "app", "billed_price", "billing_entity", "config_vars", "created_at", "id", "name",
    "plan", "provider_id", "state", "updated_at", "web_url",
}  # fmt: skip
FORMATION_FIELDS = {"app", "command", "created_at", "id", "quantity", "size", "type", "updated_at", "dyno_size"}
DOMAIN_FIELDS = {"acm_status", "acm_status_reason", "app", "cname", "created_at", "hostname", "id", "kind", "sni_endpoint"}
DOMAIN_FIELDS |= {"status", "updated_at"}
WEBHOOK_FIELDS = {"app", "created_at", "id", "include", "level", "updated_at", "url"}
TRANSFER_FIELDS = {  # the Heroku CLI's BackupTransfer type
    "uuid", "num", "from_name", "from_type", "from_url", "to_name", "to_type", "to_url", "options", "source_bytes",
    "processed_bytes", "succeeded", "warnings", "created_at", "started_at", "canceled_at", "updated_at", "finished_at",
    "deleted_at", "purged_at", "num_keep", "schedule",
}  # fmt: skip


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[HerokuApi, httpx.Client]]:
    emulator = HerokuApi(tmp_path / "heroku.json", token=TOKEN, provision_seconds=0.2)
    url = emulator.start()
    with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
        yield emulator, client
    emulator.stop()


def error(answer: httpx.Response) -> tuple[int, str]:
    body = answer.json()
    assert set(body) == {"id", "message"} and body["message"], body
    return answer.status_code, body["id"]


def new_app(client: httpx.Client, name: str = "sc-mvp-staging", **fields: Any) -> dict[str, Any]:
    answer = client.post("/apps", json={"name": name, "region": "us", "stack": "heroku-24", **fields})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def provisioned(client: httpx.Client, addon_id: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        addon = client.get(f"/addons/{addon_id}").json()
        if addon["state"] == "provisioned" or time.monotonic() > deadline:
            return dict(addon)
        time.sleep(0.05)


# --- the Platform API ------------------------------------------------------------------------


def test_accept_version_and_token_are_checked(api: tuple[HerokuApi, httpx.Client]) -> None:
    _, client = api
    assert error(client.get("/account", headers={"Accept": "application/json"})) == (400, "missing_version")
    assert error(client.get("/account", headers={"Authorization": "Bearer wrong"})) == (401, "unauthorized")
    assert error(client.get("/account", headers={"Authorization": ""})) == (401, "unauthorized")
    account = client.get("/account").json()
    assert UUID.match(account["id"]) and account["email"] and account["verified"] is True
    basic = base64.b64encode(f"ops@example.com:{TOKEN}".encode()).decode()  # how heroku-go (Terraform) sends it
    assert client.get("/account", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    assert error(client.get("/apps/nope")) == (404, "not_found")


def test_rate_limit_remaining_counts_down_per_token_then_429() -> None:
    emulator = HerokuApi(rate_limit_per_hour=3)
    with httpx.Client(base_url=emulator.start(), headers=HEADERS) as client:
        remaining = [client.get("/account").headers["RateLimit-Remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        limited = client.get("/account")
        assert error(limited) == (429, "rate_limit") and limited.headers["RateLimit-Remaining"] == "0"
        assert client.get("/apps", headers={"Authorization": "Bearer other-token"}).headers["RateLimit-Remaining"] == "2"
        assert error(client.get("/account", headers={"Accept": "text/html"}))[0] == 429  # refused requests count too
    emulator.stop()
    assert HerokuApi().rate_limit_per_hour == 4500  # Heroku's documented budget


def test_apps_create_read_rename_delete(api: tuple[HerokuApi, httpx.Client]) -> None:
    _, client = api
    app = new_app(client)
    assert set(app) == APP_FIELDS
    assert UUID.match(app["id"]) and app["region"]["name"] == "us" and app["stack"]["name"] == "heroku-24"
    assert UUID.match(app["region"]["id"]) and app["build_stack"] == app["stack"]
    assert re.match(r"^https://sc-mvp-staging-[0-9a-f]{12}\.herokuapp\.com/$", app["web_url"])
    assert app["git_url"] == "https://git.heroku.com/sc-mvp-staging.git"
    assert client.get(f"/apps/{app['id']}").json() == client.get("/apps/sc-mvp-staging").json() == app

    assert error(client.post("/apps", json={"name": "sc-mvp-staging"})) == (422, "invalid_params")  # taken
    assert error(client.post("/apps", json={"name": "Bad_Name"})) == (422, "invalid_params")
    assert error(client.post("/apps", json={"name": "ok-name", "region": "mars"})) == (404, "not_found")
    generated = client.post("/apps", json={}).json()
    assert re.match(r"^[a-z]+-[a-z]+-\d{5}$", generated["name"]) and generated["region"]["name"] == "us"

    renamed = client.patch(f"/apps/{app['id']}", json={"name": "sc-mvp-prod", "maintenance": True}).json()
    assert (renamed["name"], renamed["id"], renamed["maintenance"]) == ("sc-mvp-prod", app["id"], True)
    assert renamed["web_url"].startswith("https://sc-mvp-prod-") and client.get("/apps/sc-mvp-staging").status_code == 404
    assert sorted(a["name"] for a in client.get("/apps").json()) == sorted(["sc-mvp-prod", generated["name"]])

    assert client.delete("/apps/sc-mvp-prod").json()["id"] == app["id"]
    assert error(client.get(f"/apps/{app['id']}")) == (404, "not_found")


def test_config_vars_patch_merges_and_null_deletes(api: tuple[HerokuApi, httpx.Client]) -> None:
    _, client = api
    new_app(client)
    path = "/apps/sc-mvp-staging/config-vars"
    assert client.get(path).json() == {}
    assert client.patch(path, json={"RAILS_ENV": "production", "WEB_CONCURRENCY": "2"}).json() == {
        "RAILS_ENV": "production",
        "WEB_CONCURRENCY": "2",
    }
    whole = client.patch(path, json={"WEB_CONCURRENCY": None, "NODE_ENV": "production", "NEVER_SET": None}).json()
    assert whole == {"RAILS_ENV": "production", "NODE_ENV": "production"}  # the whole map, not the change
    assert client.get(path).json() == whole
    assert error(client.patch(path, json={"PORT": 5000})) == (422, "invalid_params")  # values are strings
    assert error(client.patch(path, json=["A"])) == (422, "invalid_params")


def test_addon_provisions_later_and_upgrades_in_place(api: tuple[HerokuApi, httpx.Client]) -> None:
    _, client = api
    app = new_app(client)
    answer = client.post(f"/apps/{app['name']}/addons", json={"plan": "heroku-postgresql:standard-0", "confirm": app["name"]})
    assert answer.status_code == 201
    addon = answer.json()
    assert set(addon) == ADDON_FIELDS and addon["state"] == "provisioning"
    assert re.match(r"^postgresql-[a-z]+-\d{5}$", addon["name"])
    assert addon["plan"]["name"] == "heroku-postgresql:standard-0" and addon["addon_service"]["name"] == "heroku-postgresql"
    assert addon["app"] == {"id": app["id"], "name": app["name"]}
    assert addon["config_vars"][0] == "DATABASE_URL" and re.match(r"^HEROKU_POSTGRESQL_[A-Z]+_URL$", addon["config_vars"][1])
    assert "DATABASE_URL" not in client.get(f"/apps/{app['id']}/config-vars").json()  # not before it is provisioned

    ready = provisioned(client, addon["id"])
    assert ready["state"] == "provisioned"
    config = client.get(f"/apps/{app['id']}/config-vars").json()
    assert config["DATABASE_URL"].startswith("postgres://") and config[addon["config_vars"][1]] == config["DATABASE_URL"]
    assert client.get(f"/addons/{addon['name']}").json() == client.get(f"/apps/{app['name']}/addons/{addon['id']}").json()
    assert [a["id"] for a in client.get(f"/apps/{app['id']}/addons").json()] == [addon["id"]]
    assert error(client.patch(f"/apps/{app['id']}/config-vars", json={"DATABASE_URL": "postgres://x"})) == (422, "invalid_params")

    upgraded = client.patch(f"/apps/{app['id']}/addons/{addon['id']}", json={"plan": "heroku-postgresql:standard-2"}).json()
    assert (upgraded["id"], upgraded["plan"]["name"]) == (addon["id"], "heroku-postgresql:standard-2")
    assert upgraded["state"] == "provisioned"
    assert client.get(f"/apps/{app['id']}/config-vars").json()["DATABASE_URL"] == config["DATABASE_URL"]  # same data

    addons = f"/apps/{app['id']}/addons"
    second = client.post(addons, json={"plan": "heroku-postgresql:essential-0"}).json()
    assert len(second["config_vars"]) == 1 and second["config_vars"][0] != addon["config_vars"][1]  # not DATABASE_URL again
    assert error(client.post(addons, json={"plan": "heroku-postgresql:hobby-dev"})) == (422, "invalid_params")  # retired
    assert error(client.post(addons, json={"plan": "heroku-postgresql:nope-9"})) == (404, "not_found")
    assert error(client.post(addons, json={"plan": "x:y", "name": addon["name"]})) == (422, "invalid_params")  # name taken
    other = client.post(addons, json={"plan": {"name": "papertrail:choklad"}}).json()
    assert other["state"] == "provisioned" and other["config_vars"] == []  # nothing to wait for

    gone = client.delete(f"/addons/{addon['id']}").json()
    assert gone["state"] == "deprovisioned"
    assert not set(addon["config_vars"]) & set(client.get(f"/apps/{app['id']}/config-vars").json())
    assert error(client.get(f"/addons/{addon['id']}")) == (404, "not_found")


def test_postgres_addon_gives_a_database_url_that_connects(tmp_path: Path, pg: EmbeddedPostgres) -> None:
    emulator = HerokuApi(tmp_path / "heroku.json", postgres=pg, provision_seconds=0.05)
    with httpx.Client(base_url=emulator.start(), headers=HEADERS, timeout=30) as client:
        app = new_app(client, "catering-prod")
        addon = client.post(f"/apps/{app['id']}/addons", json={"plan": "heroku-postgresql:standard-0"}).json()
        provisioned(client, addon["id"])
        url = client.get(f"/apps/{app['id']}/config-vars").json()["DATABASE_URL"]
        assert re.match(rf"^postgres://u[0-9a-f]+:[0-9a-f]{{64}}@127\.0\.0\.1:{pg.port}/d[0-9a-f]+$", url)
        assert pg.run_sql("select 1", url=url) == [["1"]]  # psql from the wheel, with the URL's own credential
        assert addon["provider_id"] == url.rsplit("/", 1)[1]

        client.delete(f"/apps/{app['id']}")  # deleting the app deprovisions its add-ons: the database goes
        with pytest.raises(PostgresError):
            pg.run_sql("select 1", url=url)
    emulator.stop()


def test_formation_scale_resize_and_batch(api: tuple[HerokuApi, httpx.Client]) -> None:
    _, client = api
    app = new_app(client)
    base = f"/apps/{app['id']}/formation"
    assert client.get(base).json() == []
    web = client.patch(f"{base}/web", json={"quantity": 2, "size": "standard-2x"}).json()
    assert set(web) == FORMATION_FIELDS and (web["type"], web["quantity"], web["size"]) == ("web", 2, "Standard-2X")
    assert web["dyno_size"]["name"] == "Standard-2X" and web["app"]["name"] == app["name"]
    assert client.get(f"{base}/web").json() == client.get(f"{base}/{web['id']}").json() == web  # by type or id
    resized = client.patch(f"{base}/web", json={"dyno_size": {"name": "performance-l-ram"}}).json()  # heroku-go v6 body
    assert (resized["id"], resized["size"], resized["quantity"]) == (web["id"], "Performance-L-RAM", 2)

    updates = [{"type": "worker", "quantity": 1, "size": "basic"}, {"type": "web", "quantity": 1}]
    batch = client.patch(base, json={"updates": updates}).json()
    assert [(f["type"], f["quantity"], f["size"]) for f in batch] == [("worker", 1, "Basic"), ("web", 1, "Performance-L-RAM")]
    assert error(client.patch(f"{base}/worker", json={"quantity": 2})) == (422, "invalid_params")  # basic: one dyno
    assert error(client.patch(f"{base}/web", json={"size": "huge"})) == (422, "invalid_params")
    bad_batch = {"updates": [{"type": "web", "quantity": 3}, {"type": "worker", "quantity": -1}]}
    assert error(client.patch(base, json=bad_batch)) == (422, "invalid_params")
    assert client.get(f"{base}/web").json()["quantity"] == 1  # a refused batch changes nothing
    assert error(client.get(f"{base}/clock")) == (404, "not_found")


def test_domains_and_their_dns_target(api: tuple[HerokuApi, httpx.Client]) -> None:
    _, client = api
    app = new_app(client)
    base = f"/apps/{app['name']}/domains"
    domain = client.post(base, json={"hostname": "WWW.Example.com", "sni_endpoint": None}).json()
    assert set(domain) == DOMAIN_FIELDS and domain["hostname"] == "www.example.com" and domain["kind"] == "custom"
    assert domain["cname"] == "www-example-com.herokudns.com" and domain["status"] == "pending"
    time.sleep(0.25)
    assert client.get(f"{base}/www.example.com").json()["status"] == "succeeded"
    assert client.get(f"{base}/{domain['id']}").json()["id"] == domain["id"]
    assert [d["hostname"] for d in client.get(base).json()] == ["www.example.com"]
    other = new_app(client, "other-app")
    assert error(client.post(f"/apps/{other['id']}/domains", json={"hostname": "www.example.com"})) == (422, "invalid_params")
    assert error(client.post(base, json={"hostname": "not a host"})) == (422, "invalid_params")
    assert error(client.get(f"/apps/{other['id']}/domains/{domain['id']}")) == (404, "not_found")  # another app's
    assert client.delete(f"{base}/www.example.com").json()["id"] == domain["id"]
    assert client.get(base).json() == []


def test_app_webhooks_never_answer_their_secret(api: tuple[HerokuApi, httpx.Client]) -> None:
    emulator, client = api
    app = new_app(client)
    base = f"/apps/{app['id']}/webhooks"
    body = {"url": "https://hooks.example.com/heroku", "include": ["api:release", "api:formation"], "level": "notify"}
    hook = client.post(base, json={**body, "secret": "s3cret-signing-value"}).json()
    assert set(hook) == WEBHOOK_FIELDS and hook["include"] == body["include"] and hook["level"] == "notify"
    assert emulator.state["webhook_secrets"][hook["id"]]["secret"] == "s3cret-signing-value"
    updated = client.patch(f"{base}/{hook['id']}", json={"level": "sync", "secret": "rotated"}).json()
    assert updated["level"] == "sync" and updated["url"] == body["url"]
    assert emulator.state["webhook_secrets"][hook["id"]]["secret"] == "rotated"
    listed = client.get(base).json()
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "s3cret" not in client.get(f"{base}/{hook['id']}").text + str(listed) and "rotated" not in str(listed)
    assert error(client.post(base, json={**body, "include": ["api:everything"]})) == (422, "invalid_params")
    assert error(client.post(base, json={**body, "level": "maybe"})) == (422, "invalid_params")
    assert client.delete(f"{base}/{hook['id']}").json()["id"] == hook["id"]
    assert error(client.get(f"{base}/{hook['id']}")) == (404, "not_found")


def test_state_survives_a_restart(tmp_path: Path) -> None:
    first = HerokuApi(tmp_path / "heroku.json", provision_seconds=0.05)
    with httpx.Client(base_url=first.start(), headers=HEADERS) as client:
        app = new_app(client)
        client.patch(f"/apps/{app['id']}/config-vars", json={"RAILS_ENV": "production"})
        addon = client.post(f"/apps/{app['id']}/addons", json={"plan": "heroku-postgresql:essential-0"}).json()
        client.patch(f"/apps/{app['id']}/formation/web", json={"quantity": 1, "size": "basic"})
    first.stop()
    time.sleep(0.1)

    again = HerokuApi(tmp_path / "heroku.json")
    with httpx.Client(base_url=again.start(), headers=HEADERS) as client:
        # The add-on's attach release may land after the restart (it became due while stopped), and
        # moves released_at/updated_at as on Heroku: everything else is as it was.
        moving = {"released_at", "updated_at"}
        after = client.get(f"/apps/{app['name']}").json()
        assert {k: v for k, v in after.items() if k not in moving} == {k: v for k, v in app.items() if k not in moving}
        assert after["released_at"] >= app["released_at"]
        assert client.get(f"/addons/{addon['id']}").json()["state"] == "provisioned"  # became due while stopped
        config = client.get(f"/apps/{app['id']}/config-vars").json()
        assert config["RAILS_ENV"] == "production" and "DATABASE_URL" in config
        assert client.get(f"/apps/{app['id']}/formation/web").json()["size"] == "Basic"
    again.stop()


# --- Data API: backups and restores between two apps ---------------------------------------------


def test_backup_of_staging_restores_into_production_with_equal_counts(tmp_path: Path, pg: EmbeddedPostgres) -> None:
    """The catering runbook's "restore staging data to production, compare record counts"."""
    heroku = HerokuApi(tmp_path / "heroku.json", postgres=pg, provision_seconds=0.05)
    data = HerokuDataApi(tmp_path / "heroku-data.json", heroku=heroku)
    platform_url, data_url = heroku.start(), data.start()
    with (
        httpx.Client(base_url=platform_url, headers=HEADERS, timeout=30) as platform,
        httpx.Client(base_url=data_url, headers=HEADERS, timeout=60) as client,
    ):
        urls, addons = {}, {}
        for name in ("sc-mvp-staging", "sc-mvp-production"):
            app = new_app(platform, name)
            addons[name] = platform.post(f"/apps/{app['id']}/addons", json={"plan": "heroku-postgresql:standard-0"}).json()
            provisioned(platform, addons[name]["id"])
            urls[name] = platform.get(f"/apps/{name}/config-vars").json()["DATABASE_URL"]
        pg.run_sql(
            "CREATE TABLE orders (id serial PRIMARY KEY, item text); INSERT INTO orders (item) SELECT 'tray ' || g FROM generate_series(1, 120) g;"
            "CREATE TABLE customers (id int); INSERT INTO customers SELECT generate_series(1, 33)",
            url=urls["sc-mvp-staging"],
        )
        staging_db = urls["sc-mvp-staging"].rsplit("/", 1)[1]

        info = client.get(f"/client/v11/databases/{addons['sc-mvp-staging']['id']}").json()
        assert {"name": "Continuous Protection", "values": ["Off"]} in info["info"]  # what pg:backups:capture reads
        backup = client.post(f"/client/v11/databases/{addons['sc-mvp-staging']['id']}/backups").json()
        assert set(backup) == TRANSFER_FIELDS and backup["succeeded"] is True and backup["finished_at"]
        assert (backup["num"], backup["from_type"], backup["to_type"], backup["from_name"]) == (1, "pg_dump", "gof3r", "DATABASE")
        assert backup["processed_bytes"] > 0 and backup["source_bytes"] > 0 and "@" not in backup["from_url"]  # no credential
        listed = client.get("/client/v11/apps/sc-mvp-staging/transfers").json()
        assert [t["uuid"] for t in listed] == [backup["uuid"]]
        assert client.get(f"/client/v11/apps/sc-mvp-staging/transfers/{backup['uuid']}").json() == backup  # as the CLI polls
        verbose = client.get("/client/v11/apps/sc-mvp-staging/transfers/1", params={"verbose": "true"}).json()
        assert verbose["logs"] and verbose["logs"][-1]["message"].startswith("pg_dump")

        public = client.post("/client/v11/apps/sc-mvp-staging/transfers/1/actions/public-url").json()
        assert public["url"].startswith(f"{data_url}/backups/{backup['uuid']}.dump?") and public["expires_at"]
        dump = httpx.get(public["url"])  # no credentials: a signed URL, like Heroku's
        assert dump.status_code == 200 and dump.content[:5] == b"PGDMP" and len(dump.content) == backup["processed_bytes"]
        assert httpx.get(public["url"].replace("signature=", "signature=0")).status_code == 403
        assert httpx.get(backup["to_url"]).status_code == 403  # the backup's own URL is not public

        restores = f"/client/v11/databases/{addons['sc-mvp-production']['id']}/restores"
        restore = client.post(restores, json={"backup_url": public["url"]})
        assert restore.status_code == 201, restore.text
        restored = restore.json()
        assert restored["succeeded"] is True and restored["warnings"] == 0
        assert (restored["from_type"], restored["to_type"], restored["to_name"]) == ("gof3r", "pg_restore", "DATABASE")
        production_db = urls["sc-mvp-production"].rsplit("/", 1)[1]
        assert pg.row_counts(production_db) == pg.row_counts(staging_db) == {"orders": 120, "customers": 33}
        assert pg.run_sql("SELECT count(*) FROM orders", url=urls["sc-mvp-production"]) == [["120"]]  # the app's role owns them
        assert [t["to_type"] for t in client.get("/client/v11/apps/sc-mvp-production/transfers").json()] == ["pg_restore"]

        # pg:backups:restore b001 uses the backup's to_url; restoring again replaces, never duplicates.
        by_name = f"/client/v11/databases/{addons['sc-mvp-production']['name']}/restores"
        again = client.post(by_name, json={"backup_url": backup["to_url"]})
        assert again.json()["succeeded"] is True and again.json()["num"] == 2
        assert pg.row_counts(production_db) == {"orders": 120, "customers": 33}
        assert error(client.post(restores, json={"backup_url": public["url"] + "0"})) == (422, "invalid_params")  # bad signature
        assert error(client.post("/client/v11/databases/no-such-addon/backups")) == (404, "not_found")
    data.stop()
    heroku.stop()
    assert (tmp_path / "heroku-data-backups" / f"{backup['uuid']}.dump").exists()  # kept in the emulator's folder
