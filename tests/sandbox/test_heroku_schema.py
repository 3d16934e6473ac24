"""Every Platform API answer of the Heroku emulator (sandbox/heroku.py), for every endpoint launchplan's
heroku plugin (tools/engine/providers/launchplan/heroku, on heroku-go v5) and the official Heroku CLI
use, validated against that link's `targetSchema` in Heroku's published JSON hyper-schema.

The schema is the `schema.json` inside the heroku-go v5.5.0 module, read from the Go module cache at
test time (never copied into this repository): `make engine` downloads it, as does
`go mod download github.com/heroku/heroku-go/v5@v5.5.0`. Heroku's `strictProperties: true` (an
interagent hyper-schema keyword that draft-04 does not know) is applied as draft-04 can say it: every
listed property required, and no other (`additionalProperties: false`). `$ref`s resolve within the file.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

from sandbox.heroku import HerokuApi

MODULE = "github.com/heroku/heroku-go/v5@v5.5.0"
TOKEN = "heroku-schema-test-token-0001"
HEADERS = {"Accept": "application/vnd.heroku+json; version=3", "Authorization": f"Bearer {TOKEN}"}
# Where the emulator knowingly answers more than heroku-go v5.5.0's schema lists, and why.
DEVIATIONS = {
    # The live Platform API added `dyno_size` ({id, name}) to formation after this schema snapshot;
    # heroku-go v6 reads and sends it, and tests/sandbox/test_heroku.py holds the emulator to it.
    "formation": {"dyno_size"},
}


def schema_file() -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.fail("Go is not installed: Heroku's schema.json is read from the Go module cache (see README, set-up)")
    cache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    path = Path(cache) / "github.com" / "heroku" / "heroku-go" / "v5@v5.5.0" / "schema.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make engine` (or `go mod download {MODULE}`) to put heroku-go in the module cache")
    return path


def strict(node: Any) -> Any:
    """The schema with interagent's strictProperties spelled in draft-04: all listed, none other."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items()}
    if out.get("strictProperties") is True and isinstance(out.get("properties"), dict):
        out["required"] = sorted(out["properties"])
        out["additionalProperties"] = False
    return out


class PlatformSchema:
    def __init__(self, path: Path):
        self.root = strict(json.loads(path.read_text()))
        base = self.root["id"].rstrip("#")
        self.registry = Registry().with_resource(base, DRAFT4.create_resource(self.root))
        self.base = base
        self.links: list[tuple[str, re.Pattern[str], int, str, int]] = []  # method, href, literal length, def, index
        for name, definition in self.root["definitions"].items():
            for index, link in enumerate(definition.get("links", [])):
                href = re.sub(r"\{\([^)]*\)\}", "\x00", link["href"])
                literal = len(href.replace("\x00", ""))
                pattern = re.compile("^" + re.escape(href).replace("\x00", "[^/]+") + "$")
                self.links.append((link["method"], pattern, literal, name, index))

    def link(self, method: str, path: str) -> tuple[str, int]:
        found = [(literal, name, i) for m, pattern, literal, name, i in self.links if m == method and pattern.match(path)]
        assert found, f"{method} {path} is not an endpoint of Heroku's Platform API schema"
        _, name, index = max(found)  # the most specific href (most literal characters)
        return name, index

    def validate(self, method: str, path: str, body: Any) -> tuple[str, str]:
        name, index = self.link(method, path)
        link = self.root["definitions"][name]["links"][index]
        pointer = f"#/definitions/{name}/links/{index}/targetSchema" if "targetSchema" in link else f"#/definitions/{name}"
        body = copy.deepcopy(body)
        for record in body if isinstance(body, list) else [body]:
            for extra in DEVIATIONS.get(name, set()):
                assert isinstance(record, dict) and extra in record, f"{method} {path}: {extra} was expected"
                del record[extra]
        self.check({"$ref": self.base + pointer}, body, f"{method} {path} ({name} {link['title']})")
        return name, link["title"]

    def check(self, schema: dict[str, Any], body: Any, what: str) -> None:
        errors = sorted(Draft4Validator(schema, registry=self.registry).iter_errors(body), key=lambda e: list(e.path))
        assert not errors, f"{what} does not match Heroku's schema:\n" + "\n".join(
            f"  at {'/'.join(map(str, e.path)) or '(top)'}: {e.message[:300]}" for e in errors[:10]
        )

    def definition(self, name: str) -> dict[str, Any]:
        return {"$ref": f"{self.base}#/definitions/{name}"}


@pytest.fixture(scope="module")
def schema() -> PlatformSchema:
    return PlatformSchema(schema_file())


@pytest.fixture
def api(tmp_path: Path) -> Iterator[httpx.Client]:
    emulator = HerokuApi(tmp_path / "heroku.json", token=TOKEN, provision_seconds=0, release_seconds=0.05, default_domain=True)
    with httpx.Client(base_url=emulator.start(), headers=HEADERS, timeout=30) as client:
        yield client
    emulator.stop()


def test_schema_is_read_from_the_module_cache_and_strict(schema: PlatformSchema) -> None:
    assert schema.root["definitions"]["app"]["additionalProperties"] is False
    assert "acm" in schema.root["definitions"]["app"]["required"]
    assert not (Path(__file__).parents[2] / "schema.json").exists()  # never a committed copy


def test_every_answer_the_plugin_and_the_cli_read_matches_the_schema(api: httpx.Client, schema: PlatformSchema) -> None:
    covered: set[tuple[str, str]] = set()

    def call(method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        answer = api.request(method, path, **kwargs)
        assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
        body = answer.json()
        covered.add(schema.validate(method, path, body))
        return body

    # Account and apps (provider: AppCreate/Info/Update/Delete, ACM; CLI: apps, apps:info).
    account = call("GET", "/account")
    call("GET", f"/users/{account['id']}")
    app = call("POST", "/apps", 201, json={"name": "sc-mvp-production", "region": "us", "stack": "heroku-24"})
    name = app["name"]
    call("GET", f"/apps/{name}")
    call("GET", "/apps")
    call("GET", "/users/~/apps")
    call("PATCH", f"/apps/{app['id']}", json={"maintenance": False, "build_stack": "heroku-24"})
    call("POST", f"/apps/{name}/acm")
    call("PATCH", f"/apps/{name}/acm")
    call("DELETE", f"/apps/{name}/acm")
    team_app = call("POST", "/teams/apps", 201, json={"name": "sc-mvp-team", "team": "catering", "region": "eu"})
    call("GET", f"/teams/apps/{team_app['id']}")
    call("PATCH", f"/teams/apps/{team_app['name']}", json={"locked": True})

    # Config vars and releases (provider: ConfigVarUpdate/InfoForApp, ReleaseList with a Range, ReleaseInfo).
    call("PATCH", f"/apps/{name}/config-vars", json={"RAILS_ENV": "production", "WEB_CONCURRENCY": "2"})
    call("GET", f"/apps/{name}/config-vars")
    time.sleep(0.1)
    releases = call("GET", f"/apps/{name}/releases")
    newest = call("GET", f"/apps/{name}/releases", 206, headers={"Range": "version ..; max=1, order=desc"})
    assert [r["version"] for r in newest] == [max(r["version"] for r in releases)]
    call("GET", f"/apps/{name}/releases/{newest[0]['id']}")
    call("GET", f"/apps/{name}/releases/{newest[0]['version']}")
    call("PUT", f"/apps/{name}/buildpack-installations", json={"updates": [{"buildpack": "heroku/ruby"}]})
    call("GET", f"/apps/{name}/buildpack-installations")

    # Add-ons, their services, plans and attachments (provider: AddOnCreate/Info/InfoByApp/Update/Delete;
    # CLI: addons, addons:info, pg:* through the resolvers).
    addon = call("POST", f"/apps/{name}/addons", 201, json={"plan": "heroku-postgresql:standard-0"})
    assert addon["billed_price"] == {"cents": 5000, "contract": False, "unit": "month"}
    call("GET", f"/addons/{addon['id']}")
    call("GET", f"/apps/{name}/addons/{addon['name']}")
    call("GET", f"/apps/{name}/addons")
    call("GET", "/addons")
    call("PATCH", f"/apps/{name}/addons/{addon['id']}", json={"plan": "heroku-postgresql:standard-2"})
    call("POST", "/actions/addons/resolve", json={"addon": "DATABASE", "app": name})
    call("POST", "/actions/addon-attachments/resolve", json={"addon_attachment": "DATABASE", "app": name})
    attachments = call("GET", f"/apps/{name}/addon-attachments")
    assert sorted(a["name"] for a in attachments)[0] == "DATABASE" and len(attachments) == 2
    call("GET", "/addon-attachments")
    call("GET", f"/addons/{addon['id']}/addon-attachments")
    call("GET", f"/addon-attachments/{attachments[0]['id']}")
    call("GET", f"/apps/{name}/addon-attachments/DATABASE")
    call("GET", "/addon-services/heroku-postgresql")
    plans = call("GET", "/addon-services/heroku-postgresql/plans")
    assert {p["name"]: p["price"]["cents"] for p in plans}["heroku-postgresql:essential-0"] == 500
    call("GET", "/addon-services/heroku-postgresql/plans/standard-0")

    # What the CLI asks with Accept-Expansion / Accept-Inclusion: the expanded records are Heroku's too.
    expanded = api.get(f"/apps/{name}/addons", headers={"Accept-Expansion": "addon_service,plan"}).json()[0]
    schema.check(schema.definition("plan"), expanded["plan"], "an expanded plan")
    schema.check(schema.definition("add-on-service"), expanded["addon_service"], "an expanded add-on service")
    assert expanded["plan"]["price"]["cents"] == 20000  # standard-2 since the PATCH above
    included = api.get(f"/apps/{name}/addon-attachments", headers={"Accept-Inclusion": "addon:plan,config_vars"}).json()
    assert {a["name"]: a["config_vars"] for a in included}["DATABASE"] == ["DATABASE_URL"]
    assert all(a["addon"]["plan"]["name"] == "heroku-postgresql:standard-2" for a in included)

    # Formation and dynos (provider: FormationInfo/Update; CLI: ps).
    call("PATCH", f"/apps/{name}/formation/web", json={"size": "standard-1x", "quantity": 2})
    call("GET", f"/apps/{name}/formation/web")
    call("GET", f"/apps/{name}/formation")
    call("PATCH", f"/apps/{name}/formation", json={"updates": [{"type": "worker", "quantity": 1, "size": "basic"}]})
    dynos = call("GET", f"/apps/{name}/dynos")
    assert sorted(d["name"] for d in dynos) == ["web.1", "web.2", "worker.1"]
    call("GET", f"/apps/{name}/dynos/web.2")

    # Domains (provider: DomainCreate/Info/Update/Delete; CLI: domains) and collaborators (CLI: apps:info).
    domain = call("POST", f"/apps/{name}/domains", 201, json={"hostname": "www.sc-mvp.example.com", "sni_endpoint": None})
    call("GET", f"/apps/{name}/domains/{domain['id']}")
    call("PATCH", f"/apps/{name}/domains/{domain['hostname']}", json={"sni_endpoint": None})
    listed = call("GET", f"/apps/{name}/domains", headers={"Range": "id ..; max=1000;"})
    assert sorted(d["kind"] for d in listed) == ["custom", "heroku"]
    assert next(d for d in listed if d["kind"] == "heroku")["hostname"] == app["web_url"].split("/")[2]
    call("DELETE", f"/apps/{name}/domains/{domain['id']}")
    call("GET", f"/apps/{name}/collaborators")

    # Deletes answer the deleted record.
    call("DELETE", f"/apps/{name}/addons/{addon['id']}")
    call("DELETE", f"/apps/{team_app['name']}")
    call("DELETE", f"/apps/{name}")

    # What cannot work here is a clear Heroku-shaped error, not a missing route.
    for path in ("/apps/sc-mvp-team/log-sessions", "/apps/sc-mvp-team/dynos"):
        assert api.post(path, json={}).json()["id"] == "not_found"  # the app is gone: 404 first
    assert ("app", "Create") in covered and ("add-on-attachment", "Resolution") in covered and ("dyno", "List") in covered
    assert len(covered) >= 45, sorted(covered)


def test_cli_only_refusals_are_heroku_shaped(api: httpx.Client) -> None:
    name = api.post("/apps", json={"name": "sc-mvp-refusals"}).json()["name"]
    for path in (f"/apps/{name}/log-sessions", f"/apps/{name}/dynos"):
        answer = api.post(path, json={"command": "bash"})
        assert answer.status_code == 422 and set(answer.json()) == {"id", "message"}
        assert answer.json()["id"] == "sandbox_unsupported" and "sandbox" in answer.json()["message"]
    missing = api.post("/actions/addons/resolve", json={"addon": "nope", "app": name})
    assert missing.status_code == 404 and missing.json()["resource"] == "add_on"
