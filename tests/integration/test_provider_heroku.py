"""launchplan's own `pulumi-resource-heroku` (tools/engine/providers/launchplan) on the real engine:
its schema against the pinned pulumiverse-heroku SDK, and every resource's lifecycle against the
Heroku Platform API emulator (sandbox/heroku.py), with a program that declares pulumiverse_heroku
resources directly (tests/integration/programs/heroku)."""

from __future__ import annotations

import importlib.util
import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.core import Faults
from sandbox.heroku import HerokuApi
from scripts.pulumi_cli import BIN, HOME, ROOT
from tests.support.engine import Workspace, project_yaml

pytestmark = pytest.mark.integration

PROGRAM = ROOT / "tests" / "integration" / "programs" / "heroku" / "__main__.py"
TOKEN = "heroku-provider-test-token-0001"
HEADERS = {"Accept": "application/vnd.heroku+json; version=3", "Authorization": f"Bearer {TOKEN}"}
TOKENS = [
    "heroku:app/app:App",
    "heroku:app/configAssociation:ConfigAssociation",
    "heroku:addon/addon:Addon",
    "heroku:formation/formation:Formation",
    "heroku:domain/domain:Domain",
]
SDK_VERSION = version("pulumiverse-heroku")
PLUGIN_DIR = HOME / "plugins" / f"resource-heroku-v{SDK_VERSION}+launchplan"


def _check_sdk_schema() -> Any:
    spec = importlib.util.spec_from_file_location("check_sdk_schema", ROOT / "tools" / "engine" / "check_sdk_schema.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------- schema ----
def test_plugin_is_ours_at_the_sdk_version_and_its_schema_matches_the_sdk(tmp_path: Path) -> None:
    binary = PLUGIN_DIR / "pulumi-resource-heroku"
    assert binary.exists(), f"{binary} missing: run tools/engine/build.sh"
    assert subprocess.run([binary, "-version"], capture_output=True, text=True).stdout.strip() == f"{SDK_VERSION}+launchplan"
    ws = Workspace(tmp_path, {"Pulumi.yaml": project_yaml("heroku-schema")})
    rows = {(p["name"], p["version"]) for p in json.loads(ws.pulumi("plugin", "ls", "--json").stdout)}
    assert ("heroku", f"{SDK_VERSION}+launchplan") in rows
    schema = json.loads(ws.pulumi("package", "get-schema", str(binary)).stdout)
    assert schema["name"] == "heroku" and schema["version"] == f"{SDK_VERSION}+launchplan"
    sdk_dir = Path(importlib.util.find_spec("pulumiverse_heroku").origin).parent  # type: ignore[union-attr, arg-type]
    problems, checked = _check_sdk_schema().deep_check(schema, sdk_dir, TOKENS, provider=True)
    assert problems == []
    assert checked == [*TOKENS, "provider"]
    # The facts the lifecycle below relies on, as the schema states them.
    app, addon = schema["resources"]["heroku:app/app:App"], schema["resources"]["heroku:addon/addon:Addon"]
    assert {k for k, v in app["inputProperties"].items() if v.get("willReplaceOnChanges")} == {
        "region",
        "space",
        "internalRouting",
    }
    assert {k for k, v in addon["inputProperties"].items() if v.get("willReplaceOnChanges")} == {"appId", "config"}
    assert app["properties"]["allConfigVars"].get("secret") and addon["properties"]["configVarValues"].get("secret")


# -------------------------------------------------------------------------------------- lifecycle ----
@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[tuple[HerokuApi, str]]:
    api = HerokuApi(
        tmp_path / "heroku.json", tmp_path / "requests.jsonl", token=TOKEN, provision_seconds=0.3, release_seconds=0.1
    )
    url = api.start()
    yield api, url
    api.stop()


def workspace(tmp_path: Path, url: str, spec: dict[str, Any], secret: str, **env: str) -> Workspace:
    ws = Workspace(tmp_path, {"Pulumi.yaml": project_yaml("heroku-provider"), "__main__.py": PROGRAM}, HEROKU_API_URL=url, **env)
    ws.pulumi("stack", "init", "test")
    ws.pulumi("config", "set", "--secret", "heroku:apiKey", TOKEN)
    ws.pulumi("config", "set", "--secret", "t:secretValue", secret)
    # Upstream waits 10 s after creating an app and 5 s after a domain; the emulator needs no wait.
    ws.pulumi("config", "set", "--path", "heroku:delays.postAppCreateDelay", "0")
    ws.pulumi("config", "set", "--path", "heroku:delays.postDomainCreateDelay", "0")
    set_spec(ws, spec)
    return ws


def set_spec(ws: Workspace, spec: dict[str, Any]) -> None:
    ws.pulumi("config", "set", "t:spec", json.dumps(spec))


def plan(ws: Workspace) -> dict[str, dict[str, Any]]:
    """`pulumi preview --json` steps by resource name: op, replace reasons, detailed diff kinds."""
    steps = ws.pulumi_json("preview")["steps"]
    out: dict[str, dict[str, Any]] = {}
    for s in steps:
        name = s["urn"].split("::")[-1]
        kinds = {k: v["kind"] for k, v in (s.get("detailedDiff") or {}).items()}
        reasons = sorted(s.get("replaceReasons") or [])
        if name in out:  # a replacement is several steps (create-replacement, replace, delete-replaced), in any order
            out[name]["ops"].append(s["op"])
            out[name]["replace"] = sorted(set(out[name]["replace"]) | set(reasons))
            if s["op"] == "replace":
                out[name]["op"] = "replace"
            continue
        out[name] = {"op": s["op"], "ops": [s["op"]], "replace": reasons, "diff": kinds}
    return out


def changed(steps: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: s["op"] for name, s in steps.items() if s["op"] != "same"}


def outputs(ws: Workspace) -> dict[str, Any]:
    return json.loads(ws.pulumi("stack", "output", "--json").stdout)


def test_lifecycle_of_every_resource_against_the_emulator(tmp_path: Path, emulator: tuple[HerokuApi, str]) -> None:
    api, url = emulator
    secret = "s3cret-" + secrets.token_hex(12)
    spec: dict[str, Any] = {
        "app": "lp-provider-test",
        "stack": "heroku-24",
        "appVars": {"A": "1"},
        "vars": {"NODE_ENV": "production"},
        "formation": {"web": {"size": "basic", "quantity": 1}},
        "domains": {"www": "www.provider-test.example"},
        "plan": "heroku-postgresql:essential-0",
    }
    ws = workspace(tmp_path, url, spec, secret)
    http = httpx.Client(base_url=url, headers=HEADERS)

    # Preview of a create makes no API call at all.
    before = len(api.log)
    assert changed(plan(ws)) == {
        n: "create" for n in ("heroku-provider-test", "app", "config", "formation-web", "domain-www", "db")
    }
    assert len(api.log) == before, "preview called the API"

    # Create.
    ws.pulumi("up", "--yes", "--non-interactive")
    out = outputs(ws)
    app = http.get("/apps/lp-provider-test").json()
    assert out["appId"] == app["id"] and app["region"]["name"] == "us" and app["build_stack"]["name"] == "heroku-24"
    remote = http.get(f"/apps/{app['id']}/config-vars").json()
    assert remote["A"] == "1" and remote["NODE_ENV"] == "production"
    assert remote["APP_SECRET"] == secret and remote["SMTP_PASSWORD"] == secret
    assert http.get(f"/apps/{app['id']}/formation/web").json()["size"] == "Basic"
    addon = http.get(f"/addons/{out['addonId']}").json()
    assert addon["state"] == "provisioned" and addon["plan"]["name"] == "heroku-postgresql:essential-0"
    assert out["addonName"].startswith("db-"), "autonamed like the bridged provider: <name>-<random hex>"
    assert out["databaseUrl"] == "[secret]" and out["allConfigVars"] == "[secret]"
    releases = http.get(f"/apps/{app['id']}/releases").json()
    assert all(r["status"] == "succeeded" for r in releases), "the provider waited for each config release"

    # No change: --expect-no-changes passes, and without a single request.
    before = len(api.log)
    ws.pulumi("preview", "--expect-no-changes", "--non-interactive")
    assert len(api.log) == before

    # In-place updates: config vars, formation (size given in another case), add-on plan upgrade.
    spec.update(appVars={"A": "2"}, vars={"NODE_ENV": "staging"}, formation={"web": {"size": "standard-1x", "quantity": 2}})
    spec["plan"] = "heroku-postgresql:essential-1"
    set_spec(ws, spec)
    steps = plan(ws)
    assert changed(steps) == {"app": "update", "config": "update", "formation-web": "update", "db": "update"}
    assert steps["app"]["diff"] == {"configVars.A": "update"}
    assert steps["config"]["diff"] == {"vars.NODE_ENV": "update"}
    assert steps["db"]["diff"] == {"plan": "update"} and steps["db"]["replace"] == []
    n_releases = len(http.get(f"/apps/{app['id']}/releases").json())
    ws.pulumi("up", "--yes", "--non-interactive")
    assert outputs(ws)["addonId"] == out["addonId"], "a plan change upgrades the same add-on"
    assert http.get(f"/addons/{out['addonId']}").json()["plan"]["name"] == "heroku-postgresql:essential-1"
    web = http.get(f"/apps/{app['id']}/formation/web").json()
    assert (web["size"], web["quantity"]) == ("Standard-1X", 2)
    assert len(http.get(f"/apps/{app['id']}/releases").json()) == n_releases + 2, "one release per config change"
    ws.pulumi("preview", "--expect-no-changes", "--non-interactive")  # "standard-1x" == "Standard-1X"

    # Replacements where upstream replaces: a domain's hostname, an add-on's config.
    old_domain = http.get(f"/apps/{app['id']}/domains").json()[0]["id"]
    spec.update(domains={"www": "app.provider-test.example"}, addonConfig={"fork": "none"})
    set_spec(ws, spec)
    steps = plan(ws)
    assert changed(steps) == {"domain-www": "replace", "db": "replace"}
    assert steps["domain-www"]["replace"] == ["hostname"] and steps["db"]["replace"] == ["config"]
    ws.pulumi("up", "--yes", "--non-interactive")
    domains = http.get(f"/apps/{app['id']}/domains").json()
    assert [d["hostname"] for d in domains] == ["app.provider-test.example"] and domains[0]["id"] != old_domain
    new_addon = outputs(ws)["addonId"]
    assert new_addon != out["addonId"]
    assert http.get(f"/addons/{out['addonId']}").status_code == 404
    assert [a["id"] for a in http.get(f"/apps/{app['id']}/addons").json()] == [new_addon]

    # A region change replaces the app and, through appId, everything on it (preview only).
    before = len(api.log)
    set_spec(ws, spec | {"region": "eu"})
    steps = plan(ws)
    assert steps["app"]["op"] == "replace" and steps["app"]["replace"] == ["region"]
    for child in ("formation-web", "domain-www", "db"):
        assert steps[child]["op"] == "replace", child
        # A dependent of a delete-before-replace app is replaced by the engine for that dependency
        # (the provider's Diff on appId agrees); the engine then records no reason of the provider's.
        assert steps[child]["replace"] in (["appId"], []), (child, steps[child])
    assert len(api.log) == before
    set_spec(ws, spec)

    # Refresh sees changes made outside Pulumi; the next up puts them back.
    http.patch(f"/apps/{app['id']}/config-vars", json={"A": "changed-by-hand", "APP_SECRET": "rotated-by-hand"})
    http.patch(f"/apps/{app['id']}/formation/web", json={"quantity": 1})
    ws.pulumi("refresh", "--yes", "--non-interactive")
    steps = plan(ws)
    assert changed(steps) == {"app": "update", "formation-web": "update"}
    assert steps["app"]["diff"] == {"configVars.A": "update", "sensitiveConfigVars.APP_SECRET": "update"}
    assert steps["formation-web"]["diff"] == {"quantity": "update"}
    assert ws.pulumi("preview", "--expect-no-changes", "--non-interactive", check=False).returncode != 0
    ws.pulumi("up", "--yes", "--non-interactive")
    remote = http.get(f"/apps/{app['id']}/config-vars").json()
    assert remote["A"] == "2" and remote["APP_SECRET"] == secret
    assert http.get(f"/apps/{app['id']}/formation/web").json()["quantity"] == 2
    # ... and one removed by hand is created again.
    http.delete(f"/apps/{app['id']}/domains/app.provider-test.example")
    ws.pulumi("refresh", "--yes", "--non-interactive")
    assert changed(plan(ws)) == {"domain-www": "create"}
    ws.pulumi("up", "--yes", "--non-interactive")
    ws.pulumi("preview", "--expect-no-changes", "--non-interactive")

    # A protected add-on refuses delete; unprotected, everything goes (formation delete is a no-op).
    set_spec(ws, spec | {"protect": True})
    ws.pulumi("up", "--yes", "--non-interactive")
    refused = ws.pulumi("destroy", "--yes", "--non-interactive", check=False)
    assert refused.returncode != 0 and "protected" in refused.stdout + refused.stderr
    assert http.get(f"/addons/{new_addon}").json()["state"] == "provisioned"
    set_spec(ws, spec)
    ws.pulumi("up", "--yes", "--non-interactive")
    before = len(api.log)
    ws.pulumi("destroy", "--yes", "--non-interactive")
    destroyed = [(e.method, e.path) for e in api.log[before:] if e.method != "GET"]
    assert ("DELETE", f"/apps/{app['id']}") in destroyed
    assert not [p for m, p in destroyed if "/formation" in p], "formation delete sends nothing"
    assert http.get("/apps").json() == [] and http.get("/addons").json() == []

    # The secret was sent to the emulator and nowhere else: not in state, output, or logs.
    assert secret not in ws.state_text()
    assert not [o for o in ws.outputs if secret in o]
    assert "rotated-by-hand" not in ws.state_text()


def test_import_of_resources_made_outside_pulumi(tmp_path: Path, emulator: tuple[HerokuApi, str]) -> None:
    api, url = emulator
    http = httpx.Client(base_url=url, headers=HEADERS)
    app = http.post("/apps", json={"name": "lp-imported", "region": "eu", "stack": "heroku-22"}).json()
    http.patch(f"/apps/{app['id']}/formation/web", json={"size": "standard-2x", "quantity": 3})
    http.post(f"/apps/{app['id']}/domains", json={"hostname": "imported.provider-test.example"})
    addon = http.post(f"/apps/{app['id']}/addons", json={"plan": "heroku-postgresql:standard-0", "name": "imported-db"}).json()
    while http.get(f"/addons/{addon['id']}").json()["state"] != "provisioned":
        time.sleep(0.1)
    database_url = http.get(f"/apps/{app['id']}/config-vars").json()["DATABASE_URL"]
    ws = workspace(tmp_path, url, {"app": "unused"}, "s3cret-" + secrets.token_hex(8))
    before = len(api.log)

    def imported(token: str, name: str, id_: str) -> dict[str, Any]:
        ws.pulumi("import", token, name, id_, "--yes", "--non-interactive", "--generate-code=false", "--protect=false")
        state = json.loads(ws.pulumi("stack", "export").stdout)["deployment"]["resources"]
        return next(r for r in state if r["urn"].endswith(f"::{name}"))

    r = imported("heroku:app/app:App", "app", "lp-imported")  # by name: the state holds the UUID
    assert r["id"] == app["id"]
    assert r["inputs"]["name"] == "lp-imported" and r["inputs"]["region"] == "eu"
    assert r["outputs"]["stack"] == "heroku-22" and r["outputs"]["uuid"] == app["id"]
    r = imported("heroku:formation/formation:Formation", "web", "lp-imported:web")
    assert r["inputs"] == {"appId": app["id"], "quantity": 3, "size": "Standard-2X", "type": "web"}
    r = imported("heroku:domain/domain:Domain", "www", "lp-imported:imported.provider-test.example")
    assert r["inputs"]["hostname"] == "imported.provider-test.example" and r["outputs"]["cname"].endswith(".herokudns.com")
    r = imported("heroku:addon/addon:Addon", "db", addon["id"])
    assert r["id"] == addon["id"] and r["inputs"]["plan"] == "heroku-postgresql:standard-0"
    assert r["inputs"]["name"] == "imported-db"
    # configVarValues is a secret in state (Pulumi's secret signature), the URL nowhere in plain text.
    assert r["outputs"]["configVarValues"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
    assert database_url not in ws.state_text()
    # Upstream: a config association has nothing remote to import, and says so.
    refused = ws.pulumi(
        "import", "heroku:app/configAssociation:ConfigAssociation", "config", f"config:{app['id']}",
        "--yes", "--non-interactive", "--generate-code=false", check=False,
    )  # fmt: skip
    assert refused.returncode != 0 and "not possible to import a ConfigAssociation" in refused.stdout + refused.stderr
    assert [e for e in api.log[before:] if e.method != "GET"] == [], "import only reads"


def test_retries_rate_limits_and_names_the_resource_in_errors(tmp_path: Path) -> None:
    api = HerokuApi(
        tmp_path / "heroku.json", tmp_path / "requests.jsonl", token=TOKEN, release_seconds=0,
        faults=Faults(rate_limit_every=3, retry_after=0.2),
    )  # fmt: skip
    url = api.start()
    try:
        ws = workspace(tmp_path, url, {"app": "lp-retried", "vars": {"X": "1"}}, "s3cret-" + secrets.token_hex(8))
        ws.pulumi("up", "--yes", "--non-interactive")
        assert [e for e in api.log if e.status == 429], "the emulator answered 429s"

        def get(path: str) -> Any:  # this test's own reads meet the same 429s
            while (answer := httpx.get(f"{url}{path}", headers=HEADERS)).status_code == 429:
                time.sleep(0.05)
            return answer.json()

        assert get(f"/apps/{get('/apps/lp-retried')['id']}/config-vars")["X"] == "1"
        # A refused API key: the error names the resource and the fix, and shows no key.
        ws.pulumi("config", "set", "--secret", "heroku:apiKey", "not-the-key-0123")
        set_spec(ws, {"app": "lp-retried", "vars": {"X": "2"}})  # (refresh would use the key in state)
        failed = ws.pulumi("up", "--yes", "--non-interactive", check=False)
        text = failed.stdout + failed.stderr
        assert failed.returncode != 0
        assert 'heroku:app/configAssociation:ConfigAssociation "config"' in text, text
        assert "pulumi config set --secret heroku:apiKey" in text, text
        assert "not-the-key-0123" not in text and TOKEN not in text
    finally:
        api.stop()


def test_plugin_answers_version_without_an_engine() -> None:
    proc = subprocess.run([BIN / "pulumi-resource-heroku", "-version"], capture_output=True, text=True, timeout=10)
    assert proc.returncode == 0 and proc.stdout.strip() == f"{SDK_VERSION}+launchplan"
