"""The offline engine itself: versions, plugins, and a real `up` / no-change preview /
refresh / destroy cycle of launchplan's dynamic providers against the emulators."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from sandbox.calendly import CalendlyApi
from sandbox.heroku_data import HerokuDataApi
from scripts.pulumi_cli import HOME, ROOT
from tests.support.engine import Workspace, project_yaml

pytestmark = pytest.mark.integration

PROGRAM = ROOT / "tests" / "integration" / "programs" / "dynamic" / "__main__.py"
ADDON = "0f3c5b1e-8d2a-4c1f-9a77-2b6e4d8c9a10"
HEROKU_TOKEN = "heroku-token-for-engine-tests-0001"
CALENDLY_TOKEN = "calendly-token-for-engine-tests-0002"


def test_cli_and_plugins_match_the_sdk_pins(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, {"Pulumi.yaml": project_yaml("versions")})
    assert ws.pulumi("version").stdout.strip() == f"v{version('pulumi')}"
    plugins_before = sorted(p.name for p in (HOME / "plugins").iterdir())
    listed = ws.pulumi("plugin", "ls", "--json")
    rows = {(p["name"], p["version"]) for p in json.loads(listed.stdout)}
    assert ("random", version("pulumi-random")) in rows
    assert ("vercel", version("pulumiverse-vercel")) in rows
    about = ws.pulumi("about", "--json", check=False)
    assert sorted(p.name for p in (HOME / "plugins").iterdir()) == plugins_before, "nothing new was installed"
    text = listed.stdout + listed.stderr + about.stdout + about.stderr
    assert not re.search(r"download|get\.pulumi\.com|api\.github\.com", text, re.IGNORECASE)


@pytest.fixture
def emulators() -> Iterator[tuple[HerokuDataApi, CalendlyApi, dict[str, str]]]:
    data, calendly = HerokuDataApi(), CalendlyApi()
    urls = {"herokuDataApi": data.start(), "calendlyApi": calendly.start()}
    yield data, calendly, urls
    data.stop()
    calendly.stop()


def dynamic_stack(tmp_path: Path, urls: dict[str, str]) -> Workspace:
    ws = Workspace(tmp_path, {"Pulumi.yaml": project_yaml("enginetest"), "__main__.py": PROGRAM})
    ws.pulumi("stack", "init", "dev", "--secrets-provider", "passphrase")
    ws.pulumi("config", "set", "addonId", ADDON)
    ws.pulumi("config", "set", "hour", "2")
    ws.pulumi("config", "set", "timezone", "America/Los_Angeles")
    ws.pulumi("config", "set", "--path", "launchplan:endpoints.herokuDataApi", urls["herokuDataApi"])
    ws.pulumi("config", "set", "--path", "launchplan:endpoints.calendlyApi", urls["calendlyApi"])
    ws.pulumi("config", "set", "--secret", "heroku:apiKey", HEROKU_TOKEN)
    ws.pulumi("config", "set", "--secret", "launchplan:calendlyToken", CALENDLY_TOKEN)
    return ws


def test_up_is_idempotent_sees_drift_and_destroys(
    tmp_path: Path, emulators: tuple[HerokuDataApi, CalendlyApi, dict[str, str]]
) -> None:
    data, calendly, urls = emulators
    ws = dynamic_stack(tmp_path, urls)

    ws.pulumi("up", "--yes", "--non-interactive", "--skip-preview")
    [schedule] = data.state["schedules"][ADDON]
    assert (schedule["name"], schedule["hour"], schedule["timezone"]) == ("DATABASE_URL", 2, "America/Los_Angeles")
    [(sub_id, sub)] = calendly.state["subscriptions"].items()
    assert sub["callback_url"] == "https://hooks.example.com/calendly"
    signing_key = json.loads(ws.pulumi("stack", "output", "signingKey", "--show-secrets", "--json").stdout)
    assert calendly.state["signing_keys"][sub_id] == signing_key and len(signing_key) == 48

    # Idempotent: nothing to do, and no write reaches the APIs.
    writes = len(data.writes()) + len(calendly.writes())
    ws.pulumi("preview", "--expect-no-changes", "--non-interactive")
    ws.pulumi("up", "--yes", "--non-interactive", "--expect-no-changes")
    assert len(data.writes()) + len(calendly.writes()) == writes

    # Someone moves the backup by hand: refresh sees it.
    schedule["hour"] = 5
    events = tmp_path / "refresh-events.jsonl"
    ws.pulumi("refresh", "--preview-only", "--non-interactive", "--event-log", str(events))
    drift = {}
    for event in map(json.loads, events.read_text().splitlines()):
        meta = event.get("resOutputsEvent", {}).get("metadata", {})
        if meta.get("op") == "update":
            old, new = meta["old"]["outputs"], meta["new"]["outputs"]
            drift[meta["urn"].rsplit("::", 1)[-1]] = {
                k: (old.get(k), new.get(k)) for k in old.keys() | new.keys() if old.get(k) != new.get(k)
            }
    assert drift == {"db-backups": {"hour": (2, 5)}}

    # A change of hour is delete + create of the schedule, never a second schedule.
    ws.pulumi("config", "set", "hour", "3")
    ws.pulumi("up", "--yes", "--non-interactive", "--skip-preview")
    [moved] = data.state["schedules"][ADDON]
    assert moved["hour"] == 3 and moved["uuid"] != schedule["uuid"]

    ws.pulumi("destroy", "--yes", "--non-interactive", "--skip-preview")
    assert data.state["schedules"][ADDON] == [] and calendly.state["subscriptions"] == {}

    # Secrets: never in plain text in the state, the command output or the stack file.
    stack_file = (ws.dir / "Pulumi.dev.yaml").read_text()
    everything = ws.state_text() + "\n".join(ws.outputs) + stack_file
    for secret in (HEROKU_TOKEN, CALENDLY_TOKEN, signing_key):
        assert secret not in everything.replace(json.dumps(signing_key), ""), "a secret leaked"
    assert "secure: v1:" in stack_file
