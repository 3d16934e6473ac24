"""The Vercel API emulator (sandbox/vercel.py): its endpoints over real sockets with httpx,
then end to end with the real `pulumi` CLI and the real vercel plugin from tools/engine."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.spec.catalog import VERCEL_FRAMEWORKS
from sandbox.core import Faults
from sandbox.vercel import FRAMEWORKS_HOST, REGIONS_HOST, VercelApi
from scripts.pulumi_cli import EngineMissingError, require_engine
from tests.support.engine import Workspace, project_yaml
from tests.support.stacks import ROOT

TOKEN = "0123456789abcdef01234567"  # the plugin wants 24 lowercase hex characters
TEAM = "team_sandbox000000000000000001"  # the emulator's built-in team (slug "sandbox")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[VercelApi, httpx.Client]]:
    emulator = VercelApi(tmp_path / "vercel.json", token=TOKEN)
    url = emulator.start()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        yield emulator, client
    emulator.stop()


def new_project(client: httpx.Client, name: str = "web", **fields: Any) -> dict[str, Any]:
    answer = client.post("/v8/projects", params={"teamId": TEAM}, json={"name": name, "framework": "nextjs", **fields})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def error(answer: httpx.Response) -> tuple[int, str]:
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"} and body["error"]["message"]
    return answer.status_code, body["error"]["code"]


# --- unit level: the endpoints ---------------------------------------------------------------


def test_validator_lists_are_public_and_told_apart_by_forwarded_host(api: tuple[VercelApi, httpx.Client]) -> None:
    _, client = api
    with httpx.Client(base_url=str(client.base_url)) as bare:  # the validators send no token
        frameworks = bare.get("/", headers={"X-Forwarded-Host": FRAMEWORKS_HOST}).json()
        regions = bare.get("/", headers={"X-Forwarded-Host": REGIONS_HOST}).json()
        assert error(bare.get("/", headers={"X-Forwarded-Host": "api.vercel.com"})) == (401, "unauthorized")
    slugs = {f["slug"] for f in frameworks}
    assert {"nextjs", "vite", "remix", "astro", "sveltekit", "nuxtjs", "create-react-app"} <= slugs
    assert not VERCEL_FRAMEWORKS - slugs  # every framework launchplan's spec accepts validates in the sandbox
    assert {"iad1", "sfo1", "cle1", "fra1", "lhr1", "hnd1", "syd1"} <= set(regions)
    assert all("V2_DEPLOYMENT_CREATE" in r["caps"] for r in regions.values())
    assert error(client.get("/", headers={"X-Forwarded-Host": "api.vercel.com"})) == (404, "not_found")


def test_bearer_token_is_checked(api: tuple[VercelApi, httpx.Client]) -> None:
    _, client = api
    assert error(client.get("/v2/teams/sandbox", headers={"Authorization": "Bearer " + "f" * 24})) == (401, "unauthorized")
    assert error(client.get("/v2/teams/sandbox", headers={"Authorization": ""})) == (401, "unauthorized")
    team = client.get("/v2/teams/sandbox").json()
    assert team["id"] == TEAM and team["sensitiveEnvironmentVariablePolicy"] == "off"
    assert client.get(f"/v2/teams/{TEAM}").json()["slug"] == "sandbox"
    assert error(client.get("/v2/teams/nope")) == (404, "not_found")


def test_project_create_get_update_delete(api: tuple[VercelApi, httpx.Client]) -> None:
    emulator, client = api
    project = new_project(client, rootDirectory="apps/web", buildCommand="")
    assert project["id"].startswith("prj_") and project["accountId"] == TEAM
    assert (project["framework"], project["rootDirectory"], project["buildCommand"]) == ("nextjs", "apps/web", None)
    assert project["ssoProtection"] == {"deploymentType": "prod_deployment_urls_and_all_previews"}
    team = {"teamId": TEAM}
    assert client.get(f"/v10/projects/{project['id']}", params=team).json() == project
    assert client.get("/v9/projects/web", params={"teamId": "sandbox"}).json()["id"] == project["id"]  # by name, slug
    assert error(client.get(f"/v10/projects/{project['id']}")) == (404, "not_found")  # team projects need teamId
    assert error(client.get(f"/v10/projects/{project['id']}", params={"teamId": "team_other"})) == (403, "forbidden")
    assert error(client.post("/v8/projects", params=team, json={"name": "web"})) == (409, "conflict")
    assert error(client.post("/v8/projects", params=team, json={"name": "x", "framework": "rails"})) == (400, "bad_request")
    assert error(client.post("/v8/projects", params=team, json={"name": "Bad Name"})) == (400, "bad_request")
    assert error(client.post("/v8/projects", params=team, json={"name": "x", "color": "red"})) == (400, "bad_request")

    patch = {
        "framework": "vite",
        "rootDirectory": None,
        "ssoProtection": {"deploymentType": "none"},
        "passwordProtection": {"deploymentType": "all", "password": "hunter2"},
    }
    updated = client.patch(f"/v9/projects/{project['id']}", params=team, json=patch).json()
    assert (updated["framework"], updated["rootDirectory"], updated["ssoProtection"]) == ("vite", None, None)
    assert updated["passwordProtection"] == {"deploymentType": "all"}  # the password is never answered
    assert "hunter2" not in json.dumps(emulator.state)
    bypass = client.patch(f"/v10/projects/{project['id']}/protection-bypass", params=team, json={}).json()
    [(secret, scope)] = bypass["protectionBypass"].items()
    assert scope["scope"] == "automation-bypass"
    revoke = {"revoke": {"regenerate": False, "secret": secret}}
    assert client.patch(f"/v10/projects/{project['id']}/protection-bypass", params=team, json=revoke).json() == {
        "protectionBypass": {}
    }

    var = {"key": "A", "value": "1", "target": ["preview"], "type": "encrypted"}
    assert client.post(f"/v9/projects/{project['id']}/env", params=team, json=var).status_code == 201
    domain = {"name": "web.example.com"}
    assert client.post(f"/v10/projects/{project['id']}/domains", params=team, json=domain).status_code == 200
    deleted = client.delete(f"/v8/projects/{project['id']}", params=team)
    assert deleted.status_code == 204 and deleted.content == b""
    assert error(client.get(f"/v10/projects/{project['id']}", params=team)) == (404, "not_found")
    assert emulator.state["projects"] == emulator.state["envs"] == emulator.state["domains"] == {}  # pruned with it
    assert error(client.delete(f"/v8/projects/{project['id']}", params=team)) == (404, "not_found")


def test_env_vars_types_sensitivity_conflicts_and_upsert(api: tuple[VercelApi, httpx.Client]) -> None:
    emulator, client = api
    project, team = new_project(client), {"teamId": TEAM}
    envs = f"/v9/projects/{project['id']}/env"

    def env(key: str, value: str, target: list[str], kind: str = "encrypted", **extra: Any) -> httpx.Response:
        return client.post(
            envs,
            params={**team, **extra.pop("query", {})},
            json={"key": key, "value": value, "target": target, "type": kind, **extra},
        )

    plain = env("API_URL", "https://api.example.com", ["preview", "production"])
    assert plain.status_code == 201
    plain_body = plain.json()
    assert plain_body["target"] == ["production", "preview"] and plain_body["type"] == "encrypted"
    assert plain_body["value"] != "https://api.example.com"  # answered encrypted, as Vercel does
    secret = env("STRIPE_SECRET_KEY", "sk_live_abc", ["production"], "sensitive").json()
    assert "value" not in secret and secret["decrypted"] is False

    one = f"/v1/projects/{project['id']}/env"
    assert client.get(f"{one}/{plain_body['id']}", params=team).json()["value"] == "https://api.example.com"
    read_back = client.get(f"{one}/{secret['id']}", params=team).json()
    assert read_back["type"] == "sensitive" and "value" not in read_back  # write-only
    listed = client.get(f"/v8/projects/{project['id']}/env", params={**team, "decrypt": "true"}).json()["envs"]
    assert {e["key"]: e.get("value") for e in listed} == {"API_URL": "https://api.example.com", "STRIPE_SECRET_KEY": None}
    assert "sk_live_abc" not in client.get(f"/v10/projects/{project['id']}/env", params=team).text

    assert error(env("DEV_SECRET", "x", ["development", "preview"], "sensitive")) == (400, "bad_request")
    assert error(env("X", "x", ["staging"])) == (400, "bad_request")
    assert error(env("X", "x", ["production"], gitBranch="feature")) == (400, "bad_request")
    assert env("X", "x", ["preview"], gitBranch="feature").status_code == 201
    assert error(env("API_URL", "other", ["production"])) == (400, "ENV_CONFLICT")
    upserted = env("API_URL", "https://api2.example.com", ["production"], query={"upsert": "true"})
    assert upserted.status_code == 201 and upserted.json()["id"] == plain_body["id"]  # the same variable, overwritten
    assert emulator.state["envs"][plain_body["id"]]["value"] == "https://api2.example.com"

    patched = client.patch(
        f"{envs}/{plain_body['id']}", params=team, json={"value": "v3", "target": ["production", "preview"], "type": "encrypted"}
    )
    assert patched.status_code == 200 and patched.json()["target"] == ["production", "preview"]
    assert client.get(f"{one}/{plain_body['id']}", params=team).json()["value"] == "v3"
    assert error(client.patch(f"{envs}/{secret['id']}", params=team, json={"target": ["development"]})) == (400, "bad_request")

    batch = [
        {"key": "B", "value": "b", "target": ["preview"], "type": "encrypted"},
        {"key": "C", "value": "c", "target": ["production"], "type": "encrypted"},
    ]
    created = client.post(f"/v10/projects/{project['id']}/env", params=team, json=batch).json()
    assert [e["key"] for e in created["created"]] == ["B", "C"] and created["failed"] == []
    clash = [
        {"key": "D", "value": "d", "target": ["preview"], "type": "encrypted"},
        {"key": "D", "value": "e", "target": ["preview"], "type": "encrypted"},
    ]
    assert error(client.post(f"/v10/projects/{project['id']}/env", params=team, json=clash)) == (400, "ENV_CONFLICT")
    assert not any(e["key"] == "D" for e in emulator.state["envs"].values())  # all or nothing

    assert client.delete(f"/v8/projects/{project['id']}/env/{secret['id']}", params=team).status_code == 200
    assert error(client.get(f"{one}/{secret['id']}", params=team)) == (404, "not_found")
    assert error(client.delete(f"/v8/projects/{project['id']}/env/{secret['id']}", params=team)) == (404, "not_found")


def test_project_domains(api: tuple[VercelApi, httpx.Client]) -> None:
    _, client = api
    web, docs, team = new_project(client), new_project(client, "docs"), {"teamId": TEAM}
    domains = f"/v10/projects/{web['id']}/domains"
    created = client.post(domains, params=team, json={"name": "www.example.com"})
    assert created.status_code == 200
    assert created.json() | {"createdAt": 0, "updatedAt": 0} == {
        "name": "www.example.com",
        "apexName": "example.com",
        "projectId": web["id"],
        "redirect": None,
        "redirectStatusCode": None,
        "gitBranch": None,
        "customEnvironmentId": None,
        "verified": True,
        "createdAt": 0,
        "updatedAt": 0,
    }
    taken = client.post(f"/v10/projects/{docs['id']}/domains", params=team, json={"name": "www.example.com"})
    assert error(taken) == (409, "domain_already_in_use")
    assert error(client.post(domains, params=team, json={"name": "not a domain"})) == (400, "bad_request")
    client.post(domains, params=team, json={"name": "example.com"})
    one = f"/v8/projects/{web['id']}/domains/example.com"
    assert client.get(one.replace("/v8/", "/v9/"), params=team).json()["projectId"] == web["id"]
    redirect = client.patch(one, params=team, json={"redirect": "www.example.com", "redirectStatusCode": 308, "gitBranch": None})
    assert (redirect.json()["redirect"], redirect.json()["redirectStatusCode"]) == ("www.example.com", 308)
    assert error(client.patch(one, params=team, json={"redirect": "elsewhere.com", "redirectStatusCode": 301})) == (
        400,
        "invalid_redirect",
    )
    assert error(client.get(f"/v8/projects/{docs['id']}/domains/example.com", params=team)) == (404, "not_found")
    assert client.delete(one, params=team).status_code == 200
    assert error(client.get(one, params=team)) == (404, "not_found")


def test_state_survives_a_restart_and_faults_use_vercels_error_shape(tmp_path: Path) -> None:
    first = VercelApi(tmp_path / "state.json", token=TOKEN)
    with httpx.Client(base_url=first.start(), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        project = new_project(client)
    first.stop()
    second = VercelApi(tmp_path / "state.json", faults=Faults(rate_limit_every=1, retry_after=2))
    with httpx.Client(base_url=second.start(), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        assert second.state["projects"][project["id"]]["name"] == "web"
        limited = client.get(f"/v10/projects/{project['id']}", params={"teamId": TEAM})
        assert error(limited) == (429, "rate_limit") and limited.headers["Retry-After"] == "2"
    second.stop()


def test_cli_serves_until_stopped(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.vercel", "--port", "0", "--state", str(state), "--token", TOKEN],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[4]
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            new_project(client)
        assert json.loads(state.read_text())["projects"]
    finally:
        proc.terminate()
        proc.wait(10)


# --- end to end: the real pulumi CLI and vercel plugin against the emulator --------------------

PROGRAM = """
import pulumi
import pulumiverse_vercel as vercel

config = pulumi.Config()
team = config.require("team")
project = vercel.Project(
    "web", name="lp-e2e-web", framework="nextjs", root_directory="apps/web", serverless_function_region="iad1", team_id=team
)
vercel.ProjectEnvironmentVariable(
    "api-url", project_id=project.id, team_id=team, key="API_URL", value=config.require("apiUrl"),
    targets=["production", "preview"], sensitive=False,
)
vercel.ProjectEnvironmentVariable(
    "stripe-key", project_id=project.id, team_id=team, key="STRIPE_SECRET_KEY", value=config.require_secret("stripeKey"),
    targets=["production"], sensitive=True,
)
vercel.ProjectDomain("www", project_id=project.id, team_id=team, domain="www.lp-e2e.example.com")
pulumi.export("projectId", project.id)
"""
STRIPE_KEY = "sk_test_e2e_never_printed_0001"


@pytest.mark.integration
def test_pulumi_up_preview_update_destroy_with_the_real_plugin(tmp_path: Path) -> None:
    try:
        require_engine()
    except EngineMissingError as exc:
        pytest.fail(str(exc))
    emulator = VercelApi(tmp_path / "vercel.json", tmp_path / "vercel-requests.jsonl", token=TOKEN)
    ws = Workspace(tmp_path, {"Pulumi.yaml": project_yaml("vercel-e2e"), "__main__.py": PROGRAM}, VERCEL_API_URL=emulator.start())
    env, project_dir = ws.env, ws.dir
    timings: dict[str, float] = {}

    def pulumi(*args: str, label: str | None = None) -> str:
        started = time.perf_counter()
        done = subprocess.run(
            ["pulumi", *args, "--stack", "e2e"], cwd=project_dir, env=env, capture_output=True, text=True, timeout=600
        )
        timings[label or args[0]] = round(time.perf_counter() - started, 2)
        if done.returncode != 0:
            log = "\n".join(f"{e.method} {e.path} -> {e.status}" for e in emulator.log[-15:])
            pytest.fail(f"pulumi {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}\nlast requests:\n{log}")
        assert STRIPE_KEY not in done.stdout + done.stderr
        return done.stdout

    try:
        pulumi("stack", "init", label="init")
        pulumi("config", "set", "--secret", "vercel:apiToken", TOKEN, label="config")
        pulumi("config", "set", "--secret", "stripeKey", STRIPE_KEY, label="config")
        pulumi("config", "set", "team", TEAM, label="config")
        pulumi("config", "set", "apiUrl", "https://api.example.com", label="config")

        pulumi("up", "--yes", "--non-interactive", "--skip-preview", label="up")
        [project] = emulator.state["projects"].values()
        assert (project["name"], project["framework"], project["rootDirectory"], project["accountId"]) == (
            "lp-e2e-web",
            "nextjs",
            "apps/web",
            TEAM,
        )
        envs = {e["key"]: e for e in emulator.state["envs"].values()}
        assert set(envs) == {"API_URL", "STRIPE_SECRET_KEY"}
        assert (envs["API_URL"]["type"], envs["API_URL"]["target"], envs["API_URL"]["value"]) == (
            "encrypted",
            ["production", "preview"],
            "https://api.example.com",
        )
        assert (envs["STRIPE_SECRET_KEY"]["type"], envs["STRIPE_SECRET_KEY"]["target"]) == ("sensitive", ["production"])
        assert envs["STRIPE_SECRET_KEY"]["value"] == STRIPE_KEY and all(e["projectId"] == project["id"] for e in envs.values())
        assert emulator.state["domains"]["www.lp-e2e.example.com"]["projectId"] == project["id"]
        served = {(e.method, e.path.replace(project["id"], "{id}")) for e in emulator.log}
        assert {
            ("GET", "/"),
            ("POST", "/v8/projects"),
            ("PATCH", "/v9/projects/{id}"),
            ("POST", "/v9/projects/{id}/env"),
        } <= served
        assert all(e.status < 400 for e in emulator.log), [e for e in emulator.log if e.status >= 400]

        mark = len(emulator.log)
        pulumi(
            "refresh", "--yes", "--expect-no-changes", "--non-interactive", "--skip-preview", label="refresh"
        )  # each Read: no drift
        pulumi("preview", "--expect-no-changes", "--non-interactive", label="preview")
        assert [e for e in emulator.log[mark:] if e.method != "GET"] == []  # idempotent: nothing written
        read = {e.path.replace(project["id"], "{id}") for e in emulator.log[mark:]}
        assert {
            "/v10/projects/{id}",
            f"/v1/projects/{{id}}/env/{envs['API_URL']['id']}",
            "/v8/projects/{id}/domains/www.lp-e2e.example.com",
        } <= read

        pulumi("config", "set", "apiUrl", "https://api2.example.com", label="config")
        mark = len(emulator.log)
        pulumi("up", "--yes", "--non-interactive", "--skip-preview", label="update")
        writes = [(e.method, e.path) for e in emulator.log[mark:] if e.method != "GET"]
        assert writes == [("PATCH", f"/v9/projects/{project['id']}/env/{envs['API_URL']['id']}")]
        assert emulator.state["envs"][envs["API_URL"]["id"]]["value"] == "https://api2.example.com"

        # A domain added by hand (here: straight to the API) is adopted with `pulumi import`, then destroyed with the rest.
        with httpx.Client(base_url=env["VERCEL_API_URL"], headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            added = client.post(
                f"/v10/projects/{project['id']}/domains", params={"teamId": TEAM}, json={"name": "lp-e2e.example.com"}
            )
            assert added.status_code == 200, added.text
        domain_type = "vercel:index/projectDomain:ProjectDomain"
        import_id = f"{TEAM}/{project['id']}/lp-e2e.example.com"
        pulumi("import", domain_type, "apex", import_id, "--yes", "--generate-code=false", "--protect=false", label="import")
        state = json.loads(pulumi("stack", "export", label="export"))
        [imported] = [r for r in state["deployment"]["resources"] if r["type"] == domain_type and r["urn"].endswith("::apex")]
        assert (imported["id"], imported["outputs"]["projectId"]) == ("lp-e2e.example.com", project["id"])

        pulumi("destroy", "--yes", "--non-interactive", label="destroy")
        assert emulator.state["projects"] == emulator.state["envs"] == emulator.state["domains"] == {}
        print("pulumi timings (s):", timings)
    finally:
        emulator.stop()
