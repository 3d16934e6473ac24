"""Golden output of every command at 80 and 120 columns, colour off, on the example stacks.

Each case prints through the command's own printing function on a console of a chosen width and
compares the text with tests/scripts/golden/<command>-<case>-<width>.txt (reviewed like code;
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/scripts/test_golden.py` regenerates them, see
tests/support/golden.py). Besides the comparison, every case checks that nothing was cut: every
declared key and every differing value is whole on one line, prose intact, no line wider than the
terminal, no Python repr. Commands that need a live stack (gate, drift, verify, sandbox) print
realistic fixed inputs, built the way the commands build them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from scripts import clone, drift, gate, plan, sandbox_cmd, verify
from scripts.gate_records import Check
from scripts.output import is_block, scalar, simplify_type
from scripts.render import Rendering
from scripts.stacks import Stack
from tests.support.golden import WIDTHS, assert_golden, assert_readable, printed
from tests.support.stacks import ROOT, STACK_FILES

FIXTURES = ROOT / "tests" / "fixtures"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Case:
    name: str  # <command>-<case>
    show: Callable[[Console], None]
    whole: list[str] = field(default_factory=list)  # keys and values: each whole on one line
    prose: list[str] = field(default_factory=list)  # sentences: intact apart from line breaks at spaces
    commands: list[str] = field(default_factory=list)  # shell commands: printed on one line, never broken


def leaves(value: Any) -> Iterator[str]:
    """Every key and scalar of a value, as the output shows them."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    else:
        yield scalar(value)


def split(texts: Iterator[str] | list[str]) -> tuple[list[str], list[str]]:
    """Single words must be whole on a line; text with spaces may wrap at its spaces."""
    items = list(texts)
    return [t for t in items if " " not in t], [t for t in items if " " in t]


# --- plan -------------------------------------------------------------------------------------


def plan_case(path: Path) -> Case:
    rendering = plan.load(None, path)
    whole, prose = split(
        [
            *(t for r in rendering.resources for t in (simplify_type(r.type), r.name, *leaves(plan.tidy(r.inputs)))),
            *leaves(plan.tidy(rendering.outputs)),
        ]
    )
    commands = [f"pulumi config set --secret --stack {rendering.stack} {key}" for key in rendering.missing_secrets]
    return Case(f"plan-{rendering.stack}", lambda c: plan.print_plan(rendering, c), whole, prose, commands)


def differing(a: Any, b: Any) -> Iterator[str]:
    """The keys and values that differ between two values (what `plan --diff` must show whole)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in {**a, **b}:
            if a.get(k) != b.get(k):
                yield str(k)
                yield from differing(a.get(k), b.get(k))
    elif isinstance(a, list) and isinstance(b, list) and not any(is_block(v) for v in (*a, *b)):
        yield from (scalar(v) for v in a if v not in b)
        yield from (scalar(v) for v in b if v not in a)
    elif isinstance(a, list) and isinstance(b, list):
        for x, y in zip(a, b, strict=False):
            yield from differing(x, y)
        for extra in (*a[len(b) :], *b[len(a) :]):
            yield from leaves(extra)
    elif a != b:
        for side in (a, b):
            if side is not None:
                yield from leaves(side)


def diff_case(name: str, a: Rendering, b: Rendering) -> Case:
    result = plan.diff(a, b, detail=True)
    texts: list[str] = []
    for change in result["differences"]:
        texts += [simplify_type(change["type"]), *change["name"].split(" / ")]
        if "only_in" in change:
            texts += leaves(change["declared"])
        else:
            for key, values in change["inputs"].items():
                texts += [key, *differing(values[a.stack], values[b.stack])]
    whole, prose = split(texts)
    return Case(f"plan-diff-{name}", lambda c: plan.print_diff(result, c), whole, prose)


def edited(example: str, stack: str, edit: Callable[[dict[str, Any]], None]) -> Rendering:
    """An example stack file changed by `edit`, rendered as stack `stack`."""
    doc = yaml.safe_load((ROOT / "examples" / f"Pulumi.{example}.yaml").read_text())
    edit(doc["config"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump(doc))
        return plan.load(None, path)


def paving_next(config: dict[str, Any]) -> None:
    app = config["launchplan:heroku"]["apps"]["paving-scheduling"]
    app["formation"]["web"] = {"size": "performance-m", "quantity": 1}
    app["postgres"] = {"plan": "premium-0", "backups": {"hour": 4, "timezone": "America/Denver"}, "extensions": ["citext"]}
    app["env"]["SMTP_HOST"] = "smtp.postmarkapp.com"
    del app["env"]["SMTP_USERNAME"]
    app["env"]["FEATURE_RESCHEDULE"] = "on"
    app["secretEnv"]["POSTMARK_SERVER_TOKEN"] = "postmarkServerToken"
    app["domains"] = ["scheduling.neffpaving.com", "book.neffpaving.com"]
    config["launchplan:webhooks"]["calendly-scheduling"]["events"] = ["invitee.created", "routing_form_submission.created"]


def field_tracking_next(config: dict[str, Any]) -> None:
    project = config["launchplan:vercel"]["projects"]["rep-dashboard"]
    env = {e["key"]: e for e in project["env"]}
    env["ARRIVY_COMPANY_NAME"]["value"] = "KIN Home Solar"
    env["ARRIVY_RATE_LIMIT"]["targets"] = ["production", "preview"]
    del env["ARRIVY_BASE_URL"]
    env["ARRIVY_REGION"] = {"key": "ARRIVY_REGION", "value": "us-west", "targets": ["preview"]}
    project["env"] = list(env.values())
    project["healthCheck"]["path"] = "/api/health"


# --- clone ------------------------------------------------------------------------------------


def clone_case(name: str, edit: Callable[[dict[str, Any], dict[str, Any]], None] | None = None) -> Case:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for file in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml", "clone-rules.yaml"):
            shutil.copy(ROOT / file, project / file)
        if edit is not None:
            staging = yaml.safe_load((project / "Pulumi.staging.yaml").read_text())
            rules = yaml.safe_load((project / "clone-rules.yaml").read_text())
            edit(staging["config"], rules)
            (project / "Pulumi.staging.yaml").write_text(yaml.safe_dump(staging))
            (project / "clone-rules.yaml").write_text(yaml.safe_dump(rules))
        review = clone.plan_clone(
            Stack(project, "staging"),
            Stack(project, "production"),
            "production",
            clone.load_rules(project / "clone-rules.yaml", "production"),
        )
    whole, prose = [], []
    for row in review.rows:
        parts = row.key.split(".", 3)
        whole.append(parts[3] if len(parts) == 4 else parts[-1])
        (prose if row.key.count(".") < 3 else whole).append(row.value)
        prose.append(row.action)
    return Case(f"clone-{name}", lambda c: clone.print_review(review, c), whole, prose)


def clone_with_secrets(staging: dict[str, Any], rules: dict[str, Any]) -> None:
    app = staging["launchplan:heroku"]["apps"]["sc-mvp-staging"]
    app["secretEnv"] = {"SMTP_PASSWORD": "smtpPassword", "STRIPE_API_KEY": "stripeApiKey"}
    app["domains"] = ["staging.catering.example.com"]
    app["env"]["FEATURE_SHIFT_SWAP"] = "on"
    staging["launchplan:webhooks"] = {
        "calendly-bookings": {
            "provider": "calendly",
            "url": "https://sc-mvp-staging.herokuapp.com/webhooks/calendly",
            "events": ["invitee.created"],
            "organization": "https://api.calendly.com/organizations/STAGING",
            "scope": "organization",
            "receiver": {"herokuApp": "sc-mvp-staging", "env": "CALENDLY_WEBHOOK_SIGNING_KEY"},
        }
    }
    rules["copySecrets"] = ["stripeApiKey"]
    rules["stacks"]["production"]["domains"] = {"sc-mvp-staging": ["catering.example.com", "www.catering.example.com"]}


# --- gate -------------------------------------------------------------------------------------


def step(op: str, type_: str, name: str, old: dict[str, Any] | None, new: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    urn = f"urn:pulumi:staging::launchplan::launchplan:heroku:App${type_}::{name}"
    return {
        "op": op,
        "urn": urn,
        "oldState": {"inputs": old} if old is not None else None,
        "newState": {"inputs": new} if new is not None else None,
        **extra,
    }


BLOCKED_PREVIEW = {
    "steps": [
        step("same", "heroku:app/app:App", "sc-mvp-staging", {"name": "sc-mvp-staging"}, {"name": "sc-mvp-staging"}),
        step(
            "update",
            "heroku:addon/addon:Addon",
            "sc-mvp-staging-postgres",
            {"appId": "a1", "plan": "heroku-postgresql:standard-0"},
            {"appId": "a1", "plan": "heroku-postgresql:essential-0"},
        ),
        step(
            "replace",
            "pulumi-python:dynamic/heroku:BackupSchedule",
            "sc-mvp-staging-backups",
            {"hour": 2, "timezone": "America/Los_Angeles", "app": "sc-mvp-staging"},
            {"hour": 3, "timezone": "America/Chicago", "app": "sc-mvp-staging"},
            replaceReasons=["hour", "timezone"],
        ),
        step(
            "update",
            "heroku:app/configAssociation:ConfigAssociation",
            "sc-mvp-staging-config",
            {"vars": {"RAILS_ENV": "staging", "LANG": "en_US.UTF-8"}, "sensitiveVars": "[secret]"},
            {"vars": {"RAILS_ENV": "staging", "WEB_CONCURRENCY": "3"}, "sensitiveVars": "[secret]"},
            diffReasons=["vars", "sensitiveVars"],
        ),
        step(
            "update",
            "heroku:formation/formation:Formation",
            "sc-mvp-staging-web",
            {"size": "basic", "quantity": 1, "type": "web"},
            {"size": "standard-2x", "quantity": 2, "type": "web"},
        ),
        step("delete", "heroku:domain/domain:Domain", "sc-mvp-staging-old.example.com", {"hostname": "old.example.com"}, None),
        step("create", "heroku:domain/domain:Domain", "sc-mvp-staging-www.example.com", None, {"hostname": "www.example.com"}),
    ],
    "diagnostics": [
        {
            "severity": "error",
            "message": "[mandatory] launchplan-policy v0.1.0 backups-required (sc-mvp-staging-postgres: "
            "heroku:addon/addon:Addon)\na database on a paid plan needs a backup schedule",
        }
    ],
}


def gate_case(name: str, preview: str, stack: str, allows: dict[str, str] | None = None) -> Case:
    # No staging pass recorded for the commit: the record's own reason, as the state backend gives it.
    missing = Check(
        False,
        f"no passing gate of 'staging' is recorded for commit {COMMIT} in the state backend: run `launchplan gate staging` first",
    )
    record = missing if stack == "production" else None
    verdict = gate.evaluate(stack, preview, name, commit=COMMIT, allows=allows or {}, staging_record=record, stack_file=None)
    whole, prose = [COMMIT], []
    for s in verdict.steps:
        if s.op == "same":
            continue
        whole += [simplify_type(s.type), s.name]
        if s.op not in ("create", "delete"):
            for key in s.changed:
                whole.append(key)
                found = list(differing(s.old.get(key), s.new.get(key)))
                whole += [t for t in found if " " not in t]
    for f in verdict.findings:
        whole.append(f.name)
        prose.append(f.reason)
        if f.allowed_because:
            prose.append(f.allowed_because)
    prose += verdict.policy_errors
    return Case(f"gate-{name}", lambda c: gate.print_verdict(verdict, c), whole, prose)


# --- drift ------------------------------------------------------------------------------------


def parity_findings() -> list[drift.Drift]:
    """parity() of the committed staging and production stacks, one secret set to the same value in both."""
    answers = {"staging": {"heroku:apiKey": "shared-key"}, "production": {"heroku:apiKey": "shared-key"}}
    staging, production = Stack(ROOT, "staging"), Stack(ROOT, "production")
    for s in (staging, production):
        s._secrets = answers[s.name]  # what `pulumi config --show-secrets` would answer (never printed)
    return drift.parity(staging, production)


def drift_case() -> Case:
    show = drift._show
    findings = [
        drift.Drift("production", "live", "sc-mvp-production-web", f"size: declared {show('basic')}, live {show('standard-2x')}"),
        drift.Drift("production", "live", "sc-mvp-production-web", f"quantity: declared {show(1)}, live {show(3)}"),
        drift.Drift(
            "production", "live", "sc-mvp-production-config", "sensitiveVars: changed outside Pulumi (a secret: values hidden)"
        ),
        drift.Drift(
            "production",
            "live",
            "sc-mvp-production-config",
            f"vars: declared {show({'NODE_ENV': 'production', 'RAILS_ENV': 'production'})}, "
            f"live {show({'NODE_ENV': 'production', 'RAILS_ENV': 'production', 'DEBUG_SQL': '1'})}",
        ),
        drift.Drift("production", "live", "sc-mvp-production-www.catering.example.com", "deleted outside Pulumi"),
        drift.Drift(
            "production",
            "sensitive",
            "rep-dashboard-ARRIVY_AUTH_TOKEN",
            "sensitive value of ARRIVY_AUTH_TOKEN changed outside Pulumi (Vercel updated it at 2025-03-04T10:11:12Z, "
            "Pulumi last wrote it at 2025-03-01T08:00:00Z; the value itself is never readable)",
        ),
        drift.Drift("production", "out-of-band", "sc-mvp-production", "config var DEBUG_SQL is set but not declared"),
        drift.Drift(
            "production", "out-of-band", "rep-dashboard", "env var DEBUG_FLAG on preview, production is set but not declared"
        ),
        *parity_findings(),
    ]
    notes = [
        "production: arrivy-field-tracking: the Arrivy webhook secret lives in a dashboard with no API; it cannot be compared"
    ]
    whole = [f.resource for f in findings if " " not in f.resource] + [f.stack for f in findings]
    prose = [f.detail for f in findings] + [f.resource for f in findings if " " in f.resource] + notes
    return Case("drift-findings", lambda c: drift.print_drift(["staging", "production"], findings, notes, c), whole, prose)


# --- verify -----------------------------------------------------------------------------------


def verify_case() -> Case:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
        shutil.copy(ROOT / "examples" / "Pulumi.field-tracking.yaml", project / "Pulumi.field-tracking.yaml")
        outputs = plan.load(None, project / "Pulumi.field-tracking.yaml").outputs
        manual = verify.webhooks(Stack(project, "field-tracking"), outputs)  # the manual step, as verify builds it
    url = outputs["healthChecks"][0]["url"]
    checks = [
        verify.Check("health rep-dashboard", "pass", f"GET {url} -> 200 in 84 ms (expected 200)"),
        verify.Check(
            "health sc-mvp-production",
            "fail",
            "GET https://sc-mvp-production.herokuapp.com/healthz -> 503 in 1204 ms (expected 200)",
        ),
        verify.Check(
            "backup schedule sc-mvp-production", "pass", "daily at 02:00 America/Los_Angeles (declared 02:00 America/Los_Angeles)"
        ),
        verify.Check("latest backup sc-mvp-production", "pending", "no backup yet; the schedule is 3.5 h old"),
        verify.Check("env sc-mvp-production", "fail", "missing on the platform: SECRET_KEY_BASE, SMTP_PASSWORD"),
        verify.Check("env rep-dashboard", "pass", "all 6 declared keys present"),
        *manual,
    ]
    whole = [c.name.rpartition(" ")[2] for c in checks] + [c.name.rpartition(" ")[0] for c in checks] + [url]
    prose = [c.evidence for c in checks]
    return Case("verify-production", lambda c: verify.print_checks("production", checks, c), whole, prose)


# --- sandbox ----------------------------------------------------------------------------------

ENDPOINTS = {
    "vercel": "http://127.0.0.1:47201",
    "calendly": "http://127.0.0.1:47202",
    "heroku-data": "http://127.0.0.1:47203",
    "heroku": "http://127.0.0.1:47204",
}


def status_case(name: str, report: dict[str, Any]) -> Case:
    texts = [*ENDPOINTS, *ENDPOINTS.values(), *report["requests"], *(str(n) for n in report["requests"].values())]
    texts += [f"{name} stack" for name in report.get("rehearsals", {})]
    return Case(f"sandbox-status-{name}", lambda c: sandbox_cmd.print_status(report, c), *split(texts))


def summary_case() -> Case:
    outputs = plan.load(None, ROOT / "Pulumi.sandbox.yaml").outputs
    checks = [
        ("sandbox-bookings", "http://127.0.0.1:47204/apps/sandbox-bookings/healthz", "pass"),
        (
            "rep-dashboard",
            "https://rep-dashboard.vercel.app/api/operations/field-tracking/webhook",
            "not served by the sandbox (a real Vercel/Heroku URL)",
        ),
    ]
    requests = "41 reads, 23 writes, 4 answered 429/503 by injected faults (log: .sandbox/emulators/requests.jsonl)"
    texts = [*outputs["vercelProjects"], *outputs["herokuApps"], *outputs["calendlySubscriptions"]]
    texts += [u for _, u, _ in checks] + [v for _, _, v in checks] + [requests, *ENDPOINTS.values()]
    return Case(
        "sandbox-summary",
        lambda c: sandbox_cmd.print_summary(c, 23, 41.3, outputs, checks, requests, ENDPOINTS),
        *split(texts),
    )


# --- the cases --------------------------------------------------------------------------------


def cases() -> list[Case]:
    staging, production = plan.load(None, ROOT / "Pulumi.staging.yaml"), plan.load(None, ROOT / "Pulumi.production.yaml")
    paving = plan.load(None, ROOT / "examples" / "Pulumi.paving-scheduling.yaml")
    tracking = plan.load(None, ROOT / "examples" / "Pulumi.field-tracking.yaml")
    return [
        *(plan_case(path) for path in STACK_FILES),
        diff_case("staging-production", staging, production),
        diff_case("production-itself", production, production),
        diff_case("paving-scheduling", paving, edited("paving-scheduling", "paving-next", paving_next)),
        diff_case("field-tracking", tracking, edited("field-tracking", "tracking-next", field_tracking_next)),
        clone_case("staging-production"),
        clone_case("secrets-domains-webhooks", clone_with_secrets),
        gate_case("field-tracking-create", (FIXTURES / "preview-field-tracking-create.json").read_text(), "field-tracking"),
        gate_case("field-tracking-changes", (FIXTURES / "preview-field-tracking-changes.json").read_text(), "field-tracking"),
        gate_case(
            "blocked", json.dumps(BLOCKED_PREVIEW), "staging", {"sc-mvp-staging-old.example.com": "the old domain is retired"}
        ),
        drift_case(),
        Case("drift-clean", lambda c: drift.print_drift(["staging", "production"], [], [], c), ["staging", "production"]),
        verify_case(),
        status_case(
            "running",
            {
                "emulators": {
                    "running": True,
                    "pid": 4242,
                    "endpoints": ENDPOINTS,
                    "faults": ["--rate-limit-every=5", "--retry-after=1.0"],
                },
                "stack": {"resources": 23},
                "rehearsals": {"staging": 6, "production": 1},
                "requests": {"vercel read": 41, "vercel write": 17, "calendly write": 2, "heroku-data read": 6},
            },
        ),
        status_case(
            "no-stack",
            {
                "emulators": {"running": False, "pid": None, "endpoints": ENDPOINTS, "faults": []},
                "stack": {"resources": 0},
                "requests": {},
            },
        ),
        status_case(
            "no-engine",
            {
                "emulators": {"running": False, "pid": None, "endpoints": ENDPOINTS, "faults": []},
                "stack": {"resources": None},
                "requests": {},
            },
        ),
        summary_case(),
    ]


CASES = {case.name: case for case in cases()}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_output(name: str, width: int) -> None:
    case = CASES[name]
    text = printed(case.show, width)
    assert_readable(text, width, whole=case.whole, prose=case.prose, commands=case.commands)
    assert "<<secret" not in text
    assert_golden(f"{name}-{width}", text)


def test_every_command_has_golden_output() -> None:
    commands = {name.split("-")[0] for name in CASES} | {"-".join(name.split("-")[:2]) for name in CASES}
    assert {"plan", "plan-diff", "clone", "gate", "drift", "verify", "sandbox-status"} <= commands


def test_sandbox_status_never_says_none_resources() -> None:
    for name in ("sandbox-status-no-stack", "sandbox-status-no-engine"):
        text = printed(CASES[name].show, 80)
        assert "None" not in text and "sandbox stack: " in text
