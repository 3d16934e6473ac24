"""The launchplan program itself under the real engine: the field-tracking example
(runbook 000) previewed, applied, re-applied with no change, changed by one var,
and destroyed, with the real vercel and random plugins against the Vercel emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sandbox.vercel import VercelApi
from scripts.pulumi_cli import ROOT
from tests.support.engine import Workspace, launchplan_workspace

pytestmark = pytest.mark.integration

TOKEN = "0123456789abcdef01234567"  # the plugin wants 24 lowercase hex characters
SECRETS = {
    "launchplan:arrivyAuthKey": "arrivy-key-never-printed-0003",
    "launchplan:arrivyAuthToken": "arrivy-token-never-printed-0004",
}


@pytest.fixture
def vercel(tmp_path: Path) -> Iterator[VercelApi]:
    api = VercelApi(tmp_path / "vercel.json", token=TOKEN)
    api.start()
    yield api
    api.stop()


def field_tracking(tmp_path: Path, api: VercelApi) -> Workspace:
    assert api.server is not None
    url = f"http://127.0.0.1:{api.server.server_address[1]}"
    stack_file = ROOT / "examples" / "Pulumi.field-tracking.yaml"
    return launchplan_workspace(tmp_path, stack_file, {"vercel:apiToken": TOKEN, **SECRETS}, VERCEL_API_URL=url)


def test_field_tracking_end_to_end(tmp_path: Path, vercel: VercelApi) -> None:
    ws = field_tracking(tmp_path, vercel)

    preview = ws.pulumi_json("preview", "--non-interactive")
    creates = sorted(s["urn"].rsplit("::", 1)[-1] for s in preview["steps"] if s["op"] == "create")
    assert creates == sorted(
        [
            "launchplan-field-tracking",
            "rep-dashboard",
            "rep-dashboard",
            "arrivy-field-tracking",
            "arrivy-field-tracking-signing-secret",
            *(
                f"rep-dashboard-{key}"
                for key in (
                    "ARRIVY_AUTH_KEY",
                    "ARRIVY_AUTH_TOKEN",
                    "ARRIVY_BASE_URL",
                    "ARRIVY_COMPANY_NAME",
                    "ARRIVY_RATE_LIMIT",
                    "ARRIVY_WEBHOOK_SECRET",
                )
            ),
        ]
    )
    assert [e for e in vercel.log if e.method != "GET"] == [], "a preview writes nothing"

    ws.pulumi("up", "--yes", "--non-interactive", "--skip-preview")
    [project] = vercel.state["projects"].values()
    assert (project["name"], project["framework"]) == ("rep-dashboard", "nextjs")
    envs = {e["key"]: e for e in vercel.state["envs"].values()}
    assert sorted(envs) == [
        "ARRIVY_AUTH_KEY",
        "ARRIVY_AUTH_TOKEN",
        "ARRIVY_BASE_URL",
        "ARRIVY_COMPANY_NAME",
        "ARRIVY_RATE_LIMIT",
        "ARRIVY_WEBHOOK_SECRET",
    ]
    assert all(e["target"] == ["production"] for e in envs.values())
    assert {k for k, e in envs.items() if e["type"] == "sensitive"} == {
        "ARRIVY_AUTH_KEY",
        "ARRIVY_AUTH_TOKEN",
        "ARRIVY_WEBHOOK_SECRET",
    }
    assert envs["ARRIVY_AUTH_KEY"]["value"] == SECRETS["launchplan:arrivyAuthKey"]
    assert envs["ARRIVY_COMPANY_NAME"]["value"] == "KIN Home"

    # The secret pasted into Arrivy (stack output) is the one the app verifies with.
    hook_secret = json.loads(ws.pulumi("stack", "output", "webhookSecrets", "--show-secrets", "--json").stdout)[
        "arrivy-field-tracking"
    ]
    assert envs["ARRIVY_WEBHOOK_SECRET"]["value"] == hook_secret
    [step] = json.loads(ws.pulumi("stack", "output", "manualSteps", "--json").stdout)
    assert step["url"] == "https://rep-dashboard.vercel.app/api/operations/field-tracking/webhook" and len(step["events"]) == 8

    # Nothing changed: no step, no write.
    mark = len(vercel.log)
    ws.pulumi("preview", "--expect-no-changes", "--non-interactive")
    ws.pulumi("up", "--yes", "--non-interactive", "--expect-no-changes")
    assert [e for e in vercel.log[mark:] if e.method != "GET"] == []

    # One var changed in the stack file: exactly one request, for that var.
    stack_path = ws.dir / "Pulumi.field-tracking.yaml"
    doc = yaml.safe_load(stack_path.read_text())
    for var in doc["config"]["launchplan:vercel"]["projects"]["rep-dashboard"]["env"]:
        if var["key"] == "ARRIVY_RATE_LIMIT":
            var["value"] = "25"
    stack_path.write_text(yaml.safe_dump(doc))
    mark = len(vercel.log)
    ws.pulumi("up", "--yes", "--non-interactive", "--skip-preview")
    writes = [(e.method, e.path) for e in vercel.log[mark:] if e.method != "GET"]
    assert writes == [("PATCH", f"/v9/projects/{project['id']}/env/{envs['ARRIVY_RATE_LIMIT']['id']}")]

    ws.pulumi("destroy", "--yes", "--non-interactive", "--skip-preview")
    assert vercel.state["projects"] == vercel.state["envs"] == {}

    everything = ws.state_text() + "\n".join(ws.outputs) + stack_path.read_text()
    for secret in (*SECRETS.values(), TOKEN):
        assert secret not in everything
    assert everything.count(hook_secret) == "\n".join(ws.outputs).count(hook_secret) == 1  # only the --show-secrets output
