"""`launchplan repair`'s reconciliation without the engine: each finder against the real emulators
(over HTTP), adopting what matches the declaration and refusing what does not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.providers.http import ApiClient
from sandbox.calendly import CalendlyApi
from sandbox.heroku import HerokuApi
from sandbox.heroku_data import HerokuDataApi
from sandbox.vercel import VercelApi
from scripts import repair

TOKEN = "test-token-0123456789abcdef"
HEROKU = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.heroku+json; version=3"}


class FakeStack:
    def vercel_params(self) -> dict[str, str]:
        return {}


class Clients(repair.Clients):
    def __init__(self, urls: dict[str, str]):
        super().__init__(FakeStack())  # type: ignore[arg-type]
        headers = {"heroku": HEROKU, "heroku-data": HEROKU}
        for name, url in urls.items():
            self._open[name] = ApiClient(name, url, headers.get(name, {"Authorization": f"Bearer {TOKEN}"}), max_attempts=2)


@pytest.fixture
def apis(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    heroku = HerokuApi()
    running = {"vercel": VercelApi(), "calendly": CalendlyApi(), "heroku": heroku, "heroku-data": HerokuDataApi(heroku=heroku)}
    urls = {name: api.start() for name, api in running.items()}
    clients = Clients(urls)
    yield {"urls": urls, "clients": clients, **running}
    clients.close()
    for api in running.values():
        api.stop()


def post(url: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    answer = httpx.post(url + path, json=body, headers=headers or {"Authorization": f"Bearer {TOKEN}"}, trust_env=False)
    assert answer.status_code < 300, answer.text
    return answer.json()


def test_a_vercel_project_of_the_declared_name_and_framework_is_adopted(apis: dict[str, Any]) -> None:
    made = post(apis["urls"]["vercel"], "/v8/projects", {"name": "dash", "framework": "nextjs"})
    verdict, live, detail = repair.vercel_project(apis["clients"], {"name": "dash", "framework": "nextjs"})
    assert (verdict, live) == ("adopt", made["id"]) and "dash" in detail
    assert repair.vercel_project(apis["clients"], {"name": "other"})[0] == "create"


def test_an_impostor_vercel_project_is_refused_with_the_reason(apis: dict[str, Any]) -> None:
    post(apis["urls"]["vercel"], "/v8/projects", {"name": "dash", "framework": "vite"})
    verdict, _, detail = repair.vercel_project(apis["clients"], {"name": "dash", "framework": "nextjs"})
    assert verdict == "refused" and "not the declared one" in detail and "'vite'" in detail


def test_env_vars_are_adopted_only_on_the_same_targets(apis: dict[str, Any]) -> None:
    project = post(apis["urls"]["vercel"], "/v8/projects", {"name": "dash"})["id"]
    env = post(apis["urls"]["vercel"], f"/v9/projects/{project}/env", {"key": "A", "value": "1", "target": ["production"]})
    clients = apis["clients"]
    found = repair.vercel_env(clients, {"projectId": project, "key": "A", "targets": ["production"], "sensitive": False})
    assert found[:2] == ("adopt", f"{project}/{env['id']}")
    other_targets = repair.vercel_env(clients, {"projectId": project, "key": "A", "targets": ["production", "preview"]})
    assert other_targets[0] == "refused" and "another variable" in other_targets[2]
    not_sensitive = repair.vercel_env(clients, {"projectId": project, "key": "A", "targets": ["production"], "sensitive": True})
    assert not_sensitive[0] == "refused"
    assert repair.vercel_env(clients, {"projectId": repair.UNKNOWN, "key": "A", "targets": ["production"]})[0] == "later"


def test_a_domain_on_the_project_is_adopted(apis: dict[str, Any]) -> None:
    project = post(apis["urls"]["vercel"], "/v8/projects", {"name": "dash"})["id"]
    post(apis["urls"]["vercel"], f"/v10/projects/{project}/domains", {"name": "dash.example.com"})
    found = repair.vercel_domain(apis["clients"], {"projectId": project, "domain": "dash.example.com"})
    assert found[:2] == ("adopt", f"{project}/dash.example.com")
    assert repair.vercel_domain(apis["clients"], {"projectId": project, "domain": "x.example.com"})[0] == "create"


def test_a_calendly_subscription_for_the_url_is_left_to_its_provider(apis: dict[str, Any]) -> None:
    org = "https://api.calendly.com/organizations/X"
    body = {"url": "https://a.example.com/hook", "events": ["invitee.created"], "organization": org, "scope": "organization"}
    post(apis["urls"]["calendly"], "/webhook_subscriptions", body)
    found = repair.calendly_subscription(apis["clients"], {"url": body["url"], "organization": org, "scope": "organization"})
    assert found[0] == "provider" and "signing key" in found[2]
    other = {"url": "https://b.example.com/hook", "organization": org, "scope": "organization"}
    assert repair.calendly_subscription(apis["clients"], other)[0] == "create"


def test_heroku_apps_of_this_account_are_adopted_and_others_refused(apis: dict[str, Any]) -> None:
    url = apis["urls"]["heroku"]
    mine = post(url, "/apps", {"name": "bookings", "region": "us"}, HEROKU)
    assert repair.heroku_app(apis["clients"], {"name": "bookings", "region": "us"})[:2] == ("adopt", mine["id"])
    wrong_region = repair.heroku_app(apis["clients"], {"name": "bookings", "region": "eu"})
    assert wrong_region[0] == "refused" and "region" in wrong_region[2]
    in_team = repair.heroku_app(apis["clients"], {"name": "bookings", "region": "us", "organization": {"name": "acme"}})
    assert in_team[0] == "refused" and "not team acme" in in_team[2]
    # Another account's app of the same name (its owner is not this account).
    other = post(url, "/apps", {"name": "catering", "region": "us"}, HEROKU)
    apis["heroku"].state["apps"][other["id"]]["owner"] = {"id": "another-account", "email": "someone@else.example"}
    refused = repair.heroku_app(apis["clients"], {"name": "catering", "region": "us"})
    assert refused[0] == "refused" and "someone@else.example" in refused[2]
    assert repair.heroku_app(apis["clients"], {"name": "nobody-has-it", "region": "us"})[0] == "create"


def test_a_heroku_domain_on_the_app_is_adopted(apis: dict[str, Any]) -> None:
    url = apis["urls"]["heroku"]
    app = post(url, "/apps", {"name": "bookings"}, HEROKU)
    post(url, f"/apps/{app['id']}/domains", {"hostname": "www.example.com"}, HEROKU)
    found = repair.heroku_domain(apis["clients"], {"appId": app["id"], "hostname": "www.example.com"})
    assert found[:2] == ("adopt", f"{app['id']}:www.example.com")
    assert repair.heroku_domain(apis["clients"], {"appId": app["id"], "hostname": "api.example.com"})[0] == "create"


def test_the_only_addon_of_the_declared_service_and_plan_is_adopted(apis: dict[str, Any]) -> None:
    url = apis["urls"]["heroku"]
    app = post(url, "/apps", {"name": "bookings"}, HEROKU)
    declared = {"appId": app["id"], "plan": "heroku-postgresql:essential-0"}
    assert repair.heroku_addon(apis["clients"], declared)[0] == "create"
    addon = post(url, f"/apps/{app['id']}/addons", {"plan": "heroku-postgresql:essential-0"}, HEROKU)
    assert repair.heroku_addon(apis["clients"], declared)[:2] == ("adopt", addon["id"])
    # Another plan is another add-on than the one declared: refused, not adopted.
    other_plan = repair.heroku_addon(apis["clients"], {**declared, "plan": "heroku-postgresql:standard-0"})
    assert other_plan[0] == "refused" and "declared heroku-postgresql:standard-0" in other_plan[2]
    # Two of the service: they cannot be told apart, so neither is adopted.
    post(url, f"/apps/{app['id']}/addons", {"plan": "heroku-postgresql:essential-0"}, HEROKU)
    two = repair.heroku_addon(apis["clients"], declared)
    assert two[0] == "refused" and "2 heroku-postgresql add-ons" in two[2]


def test_a_backup_schedule_is_left_to_its_provider(apis: dict[str, Any]) -> None:
    url = apis["urls"]["heroku"]
    app = post(url, "/apps", {"name": "bookings"}, HEROKU)
    addon = post(url, f"/apps/{app['id']}/addons", {"plan": "heroku-postgresql:essential-0"}, HEROKU)
    path = f"/client/v11/databases/{addon['id']}/transfer-schedules"
    post(apis["urls"]["heroku-data"], path, {"hour": "2", "timezone": "UTC", "schedule_name": "DATABASE_URL"}, HEROKU)
    inputs = {"addon_id": addon["id"], "schedule_name": "DATABASE_URL", "hour": 2, "timezone": "UTC"}
    found = repair.backup_schedule(apis["clients"], inputs)
    assert found[0] == "provider" and "adopts it as is" in found[2]
    moved = repair.backup_schedule(apis["clients"], {**inputs, "hour": 3})
    assert moved[0] == "provider" and "replaces it" in moved[2]


def test_the_import_file_keeps_name_parent_and_provider() -> None:
    parent = "urn:pulumi:s::p::launchplan:vercel:Project::dash"
    provider = "urn:pulumi:s::p::pulumi:providers:vercel::default"
    stack_urn = "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s"
    findings = [
        repair.Finding("dash", repair.VERCEL_PROJECT, "u1", "adopt", "", "prj_1", parent, provider),
        repair.Finding("top", repair.VERCEL_PROJECT, "u2", "adopt", "", "prj_2", stack_urn, provider),
        repair.Finding("new", repair.VERCEL_PROJECT, "u3", "create", "", None, parent, provider),
    ]
    spec = repair.import_file(findings, {parent, provider, stack_urn})
    table = spec["nameTable"]
    first, second = spec["resources"]
    assert first["name"] == "dash" and first["id"] == "prj_1" and table[first["parent"]] == parent
    assert table[first["provider"]] == provider
    assert "parent" not in second  # the stack itself is every resource's default parent
    assert len(spec["resources"]) == 2


def test_missing_from_state_takes_only_creates_of_platform_resources() -> None:
    preview = {
        "steps": [
            {"op": "create", "urn": "a", "newState": {"type": repair.VERCEL_PROJECT, "custom": True}},
            {"op": "same", "urn": "b", "newState": {"type": repair.VERCEL_PROJECT, "custom": True}},
            {"op": "create", "urn": "c", "newState": {"type": "launchplan:vercel:Project", "custom": False}},
            {"op": "create", "urn": "d", "newState": {"type": "pulumi:pulumi:Stack"}},
        ]
    }
    assert [s["urn"] for s in repair.missing_from_state(preview)] == ["a"]
