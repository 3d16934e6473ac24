"""The sandbox's stand-in apps as launchplan drives them (scripts/stand_ins.py): which stand-ins a
stack deploys and which env keys each requires, deploying them to a real AppsHost (with the Heroku
and Vercel emulators in-process), and reaching a deployed app by its real host name through the
stand-ins' loopback port. Real sockets, nothing mocked."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.spec.load import load_spec
from infra.spec.stack_spec import Spec
from scripts import stand_ins
from scripts.stand_ins import Deploy, StandInError
from tests.support.stacks import make_config
from tests.support.stand_ins import Clients, running_apps_host

ORG = "https://api.calendly.com/organizations/ORG1"


def spec(stack: str = "staging", **sections: Any) -> Spec:
    return load_spec(make_config(stack, **sections), require_secrets=False)


def by_name(found: list[Deploy]) -> dict[str, Deploy]:
    return {d.name: d for d in found}


# --- deploys(): which stand-ins, requiring what -------------------------------------------------------


def test_a_heroku_app_requires_its_declared_env_keys_from_every_source() -> None:
    s = spec(
        heroku={
            "apps": {
                "shop-api": {
                    "env": {"RAILS_ENV": "staging", "LANG": "en_US.UTF-8"},
                    "secretEnv": {"SMTP_PASSWORD": "smtpPassword"},
                    "generatedEnv": {"SECRET_KEY_BASE": {"length": 64}},
                    "healthCheck": {"path": "/up", "expectStatus": 302},
                }
            }
        }
    )
    assert stand_ins.deploys(s) == [
        Deploy("heroku", "shop-api", "/up", 302, ("LANG", "RAILS_ENV", "SECRET_KEY_BASE", "SMTP_PASSWORD"))
    ]


def test_a_heroku_app_with_postgres_also_requires_database_url_and_without_it_does_not() -> None:
    s = spec(
        heroku={
            "apps": {
                "with-db": {
                    "env": {"RAILS_ENV": "staging"},
                    "postgres": {"plan": "essential-0"},
                    "healthCheck": {"path": "/healthz"},
                },
                "no-db": {"env": {"RAILS_ENV": "staging"}, "healthCheck": {"path": "/healthz"}},
            }
        }
    )
    found = by_name(stand_ins.deploys(s))
    assert found["with-db"].required_env == ("DATABASE_URL", "RAILS_ENV")
    assert found["no-db"].required_env == ("RAILS_ENV",)
    assert found["with-db"].expect_status == 200  # the spec's default


def test_webhook_signing_secrets_are_required_where_they_are_delivered() -> None:
    s = spec(
        heroku={
            "apps": {
                "hooks-app": {"env": {"RAILS_ENV": "staging"}, "healthCheck": {"path": "/healthz"}},
                "other-app": {"env": {"RAILS_ENV": "staging"}, "healthCheck": {"path": "/healthz"}},
            }
        },
        vercel={
            "projects": {"web": {"env": [{"key": "A", "value": "1", "targets": ["production"]}], "healthCheck": {"path": "/"}}}
        },
        webhooks={
            "bookings": {
                "provider": "calendly",
                "url": "https://hooks-app.example.com/calendly",
                "events": ["invitee.created"],
                "organization": ORG,
                "receiver": {"herokuApp": "hooks-app", "env": "CALENDLY_SIGNING_KEY"},
            },
            "field": {
                "provider": "arrivy",
                "url": "https://web.example.com/arrivy",
                "events": ["TASK_CREATED"],
                "receiver": {"vercelProject": "web", "env": "ARRIVY_WEBHOOK_SECRET", "targets": ["production", "preview"]},
            },
            "preview-only": {
                "provider": "arrivy",
                "url": "https://web.example.com/arrivy-preview",
                "events": ["TASK_STATUS"],
                "receiver": {"vercelProject": "web", "env": "PREVIEW_HOOK_SECRET", "targets": ["preview"]},
            },
        },
    )
    found = by_name(stand_ins.deploys(s))
    assert found["hooks-app"].required_env == ("CALENDLY_SIGNING_KEY", "RAILS_ENV")
    assert found["other-app"].required_env == ("RAILS_ENV",)  # another app's webhook does not leak in
    assert found["web"].required_env == ("A", "ARRIVY_WEBHOOK_SECRET")  # production deliveries only


def test_a_vercel_project_requires_only_the_keys_that_target_production() -> None:
    s = spec(
        vercel={
            "projects": {
                "dash": {
                    "framework": "nextjs",
                    "env": [
                        {"key": "API_TOKEN", "fromConfig": "apiToken", "targets": ["production"]},
                        {"key": "APP_ENV", "value": "prod", "targets": ["production", "preview", "development"]},
                        {"key": "PREVIEW_ONLY", "value": "p", "targets": ["preview"]},
                        {"key": "DEV_ONLY", "value": "d", "targets": ["development"]},
                    ],
                    "healthCheck": {"path": "/api/health", "expectStatus": 200},
                }
            }
        }
    )
    assert stand_ins.deploys(s) == [Deploy("vercel", "dash", "/api/health", 200, ("API_TOKEN", "APP_ENV"))]


def test_apps_and_projects_without_a_health_check_get_no_stand_in() -> None:
    s = spec(
        heroku={"apps": {"checked-app": {"healthCheck": {"path": "/healthz"}}, "quiet-app": {"env": {"RAILS_ENV": "x"}}}},
        vercel={"projects": {"quiet-web": {"env": [{"key": "A", "value": "1", "targets": ["production"]}]}}},
    )
    assert [(d.platform, d.name) for d in stand_ins.deploys(s)] == [("heroku", "checked-app")]
    assert stand_ins.deploys(spec(heroku={"apps": {"quiet-app": {}}})) == []


def test_heroku_stand_ins_come_before_vercel_ones_and_the_body_is_what_the_sandbox_reads() -> None:
    s = spec(
        vercel={"projects": {"web": {"healthCheck": {"path": "/"}}}},
        heroku={"apps": {"api-app": {"env": {"B": "1", "A": "2"}, "healthCheck": {"path": "/healthz", "expectStatus": 301}}}},
    )
    found = stand_ins.deploys(s)
    assert [(d.platform, d.name) for d in found] == [("heroku", "api-app"), ("vercel", "web")]
    assert found[0].body() == {"healthPath": "/healthz", "expectStatus": 301, "requiredEnv": ["A", "B"]}
    assert found[1].body() == {"healthPath": "/", "expectStatus": 200, "requiredEnv": []}


# --- get(): a real host name reaches the stand-ins' port with its Host header ---------------------------


@dataclass
class Seen:
    host: str
    path: str


class Recorder:
    """A local server that answers 200 and records each request's Host header and path."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.seen.append(Seen(self.headers.get("Host", ""), self.path))
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: a request sent there would fail."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = int(server.server_address[1])
    server.server_close()
    return port


@pytest.mark.parametrize(
    ("url", "host", "path"),
    [
        ("https://shop-api-0123456789ab.herokuapp.com/healthz", "shop-api-0123456789ab.herokuapp.com", "/healthz"),
        ("https://dash.vercel.app/api/health?deep=1&x=a%20b", "dash.vercel.app", "/api/health?deep=1&x=a%20b"),
        ("https://www.shop.example:8443/up", "www.shop.example:8443", "/up"),
        ("https://bare.example.com", "bare.example.com", "/"),
    ],
)
def test_a_real_host_name_is_sent_to_the_apps_port_with_its_host_header(
    recorder: Recorder, url: str, host: str, path: str
) -> None:
    answer = stand_ins.get(url, recorder.url + "/", 5)
    assert answer.status_code == 200
    assert recorder.seen == [Seen(host, path)]


def test_a_loopback_url_goes_direct_even_when_the_apps_port_is_known(recorder: Recorder, closed_port: int) -> None:
    apps_url = f"http://127.0.0.1:{closed_port}"  # a request routed there would fail to connect
    assert stand_ins.get(f"{recorder.url}/direct?q=1", apps_url, 5).status_code == 200
    assert stand_ins.get(f"http://localhost:{recorder.port}/by-name", apps_url, 5).status_code == 200
    assert recorder.seen == [Seen(f"127.0.0.1:{recorder.port}", "/direct?q=1"), Seen(f"localhost:{recorder.port}", "/by-name")]


def test_without_an_apps_url_every_url_goes_direct(recorder: Recorder) -> None:
    assert stand_ins.get(f"http://localhost:{recorder.port}/healthz", None, 5).status_code == 200
    assert recorder.seen == [Seen(f"localhost:{recorder.port}", "/healthz")]


def test_an_unreachable_apps_port_is_an_http_error_not_a_silent_pass(closed_port: int) -> None:
    with pytest.raises(httpx.ConnectError):
        stand_ins.get("https://shop.example.com/healthz", f"http://127.0.0.1:{closed_port}", 5)


# --- failed_checks(): the stand-in's own words -------------------------------------------------------------


def response(status: int, content: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=content, headers={"Content-Type": content_type})


def test_failed_checks_names_each_failing_check_with_its_detail_and_skips_passing_ones() -> None:
    body = {
        "app": "shop-api",
        "checks": [
            {"check": "env RAILS_ENV present", "ok": True},
            {
                "check": "env SECRET_KEY_BASE present",
                "ok": False,
                "detail": "SECRET_KEY_BASE is not set in the app's config vars",
            },
            {"check": "DATABASE_URL connects", "ok": False},
        ],
    }
    assert stand_ins.failed_checks(response(503, json.dumps(body).encode())) == (
        "env SECRET_KEY_BASE present (SECRET_KEY_BASE is not set in the app's config vars); DATABASE_URL connects"
    )


@pytest.mark.parametrize(
    "content",
    [
        b"No such app\n\nThere is no app configured at that hostname.",
        b"",
        b'{"checks": []}',
        b'{"app": "x"}',
        b'{"checks": [{"check": "env A present", "ok": true}]}',
    ],
)
def test_failed_checks_is_empty_for_text_or_no_failing_checks(content: bytes) -> None:
    assert stand_ins.failed_checks(response(404, content, "text/plain")) == ""


# --- deploy(): to a real AppsHost ---------------------------------------------------------------------------


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Clients]:
    with running_apps_host(tmp_path) as clients:
        yield clients


DEPLOYED: dict[str, Any] = {
    "heroku": {
        "apps": {
            "shop-api": {
                "env": {"RAILS_ENV": "staging"},
                "generatedEnv": {"SECRET_KEY_BASE": {"length": 64}},
                "healthCheck": {"path": "/up"},
            },
            "shop-quiet": {"env": {"RAILS_ENV": "staging"}},
        }
    },
    "vercel": {
        "projects": {
            "shop-web": {"env": [{"key": "APP_ENV", "value": "x", "targets": ["production"]}], "healthCheck": {"path": "/api/ok"}}
        }
    },
}


def test_deploy_puts_each_stand_in_and_its_health_answers_for_real_reasons(host: Clients) -> None:
    app = host.heroku.post("/apps", json={"name": "shop-api"}).json()
    assert host.heroku.patch("/apps/shop-api/config-vars", json={"RAILS_ENV": "staging"}).status_code == 200
    assert host.heroku.post("/apps", json={"name": "shop-quiet"}).status_code == 201
    assert host.vercel.post("/v11/projects", json={"name": "shop-web"}).status_code == 200

    done = stand_ins.deploy(host.apps_url, spec(**DEPLOYED))

    assert [(d.platform, d.name) for d in done] == [("heroku", "shop-api"), ("vercel", "shop-web")]
    listed = {(d["platform"], d["name"]): d for d in host.apps.get("/__sandbox/deploys").json()}
    assert set(listed) == {("heroku", "shop-api"), ("vercel", "shop-web")}  # no health check: not deployed
    assert listed["heroku", "shop-api"]["healthPath"] == "/up"
    assert listed["heroku", "shop-api"]["requiredEnv"] == ["RAILS_ENV", "SECRET_KEY_BASE"]
    assert listed["vercel", "shop-web"]["requiredEnv"] == ["APP_ENV"]

    web_url = app["web_url"].rstrip("/") + "/up"  # https://shop-api-<hex>.herokuapp.com/up: not loopback
    answer = stand_ins.get(web_url, host.apps_url, 5)
    assert answer.status_code == 503
    assert stand_ins.failed_checks(answer) == "env SECRET_KEY_BASE present (SECRET_KEY_BASE is not set in the app's config vars)"

    assert host.heroku.patch("/apps/shop-api/config-vars", json={"SECRET_KEY_BASE": "generated"}).status_code == 200
    answer = stand_ins.get(web_url, host.apps_url, 5)
    assert answer.status_code == 200 and stand_ins.failed_checks(answer) == ""


def test_deploy_again_replaces_the_stand_in_with_the_new_declaration(host: Clients) -> None:
    assert host.heroku.post("/apps", json={"name": "shop-api"}).status_code == 201
    assert host.vercel.post("/v11/projects", json={"name": "shop-web"}).status_code == 200
    stand_ins.deploy(host.apps_url, spec(**DEPLOYED))
    changed = json.loads(json.dumps(DEPLOYED))
    changed["heroku"]["apps"]["shop-api"]["healthCheck"] = {"path": "/healthz", "expectStatus": 302}
    stand_ins.deploy(host.apps_url, spec(**changed))
    deployed = host.apps.get("/__sandbox/deploys/heroku/shop-api").json()
    assert (deployed["healthPath"], deployed["expectStatus"]) == ("/healthz", 302)


def test_a_refused_deploy_raises_naming_the_app_and_the_sandboxs_reason(host: Clients) -> None:
    assert host.heroku.post("/apps", json={"name": "shop-api"}).status_code == 201
    # shop-web was never created on the Vercel emulator: the sandbox refuses its stand-in.
    with pytest.raises(StandInError) as info:
        stand_ins.deploy(host.apps_url, spec(**DEPLOYED))
    message = str(info.value)
    assert "vercel shop-web" in message and "404" in message
    assert "Couldn't find that project" in message
    assert "shop-api" not in message


def test_a_refused_heroku_deploy_names_the_heroku_app(host: Clients) -> None:
    s = spec(heroku={"apps": {"ghost-app": {"healthCheck": {"path": "/healthz"}}}})
    with pytest.raises(StandInError, match=r"refused to deploy the stand-in of heroku ghost-app: 404 "):
        stand_ins.deploy(host.apps_url, s)
    assert host.apps.get("/__sandbox/deploys").json() == []


@pytest.mark.parametrize(
    ("health_check", "get_path", "expected"),
    [
        ({"path": "/healthz", "expectStatus": 204}, "/healthz", 204),  # a common "healthy, no content" answer
        ({"path": "/healthz?full=1"}, "/healthz?full=1", 200),
    ],
)
def test_any_health_check_the_spec_accepts_can_be_rehearsed(
    host: Clients, health_check: dict[str, Any], get_path: str, expected: int
) -> None:
    app = host.heroku.post("/apps", json={"name": "shop-api"}).json()
    assert host.heroku.patch("/apps/shop-api/config-vars", json={"RAILS_ENV": "staging"}).status_code == 200
    s = spec(heroku={"apps": {"shop-api": {"env": {"RAILS_ENV": "staging"}, "healthCheck": health_check}}})
    stand_ins.deploy(host.apps_url, s)
    answer = stand_ins.get(app["web_url"].rstrip("/") + get_path, host.apps_url, 5)
    assert answer.status_code == expected


def test_credentials_in_a_url_never_reach_the_host_header(recorder: Recorder) -> None:
    stand_ins.get("https://ops:s3cret@shop.example.com/healthz", recorder.url, 5)
    assert recorder.seen[0].host == "shop.example.com"
