"""`launchplan verify STACK`: the runbooks' post-deployment checks as one command.

Each check reports pass / fail / pending with its evidence: health-check URLs,
backup schedules and the latest backup, declared env keys present on the
platform, Calendly webhooks registered, Arrivy webhooks as pending manual steps.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Optional
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console
from rich.text import Text

from infra.providers.http import PlatformApiError
from infra.spec.catalog import daily_at, is_loopback
from infra.spec.problems import SpecError
from infra.spec.webhooks import CalendlyWebhookSpec
from scripts import stand_ins
from scripts.console import EXIT_BLOCKED, fail, fail_spec, out, pick_stack
from scripts.output import STATUS_STYLES, Printer
from scripts.project import find_project_root
from scripts.pulumi_cli import EngineMissingError
from scripts.stacks import Stack, StackError

BACKUP_MAX_AGE_HOURS = 26  # a daily schedule plus slack for the backup's own run time


@dataclass
class Check:
    name: str
    status: str  # pass | fail | pending
    evidence: str


def health(stack: Stack, outputs: dict[str, Any]) -> list[Check]:
    timeouts = {n: a.health_check.timeout_seconds for n, a in stack.spec.heroku.apps.items() if a.health_check}
    timeouts |= {n: p.health_check.timeout_seconds for n, p in stack.spec.vercel.projects.items() if p.health_check}
    # A sandbox stack's apps are served by the sandbox's stand-ins, reached by Host header.
    stand_ins_url = stack.spec.endpoints.sandbox_apps if stack.spec.sandbox else None
    checks = []
    for hc in outputs.get("healthChecks", []):
        host = urlsplit(hc["url"]).hostname or ""
        if stack.spec.sandbox and stand_ins_url is None and not is_loopback(host):
            # A sandbox without stand-in apps (no endpoints.sandboxApps): nothing answers this URL.
            evidence = f"{hc['url']} is served by the real platform, not by this sandbox: checked once deployed for real"
            checks.append(Check(f"health {hc['name']}", "pending", evidence))
            continue
        started = time.perf_counter()
        try:
            answer = stand_ins.get(hc["url"], stand_ins_url, timeouts.get(hc["name"], 10.0))
        except httpx.HTTPError as exc:
            checks.append(Check(f"health {hc['name']}", "fail", f"{hc['url']}: {type(exc).__name__}: {exc}"))
            continue
        ms = (time.perf_counter() - started) * 1000
        ok = answer.status_code == hc["expectStatus"]
        why = "" if ok or stand_ins_url is None else stand_ins.failed_checks(answer)
        checks.append(
            Check(
                f"health {hc['name']}",
                "pass" if ok else "fail",
                f"GET {hc['url']} -> {answer.status_code} in {ms:.0f} ms (expected {hc['expectStatus']})"
                + (f": {why}" if why else ""),
            )
        )
    return checks


def _age_hours(stamp: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds() / 3600


def backups(stack: Stack) -> list[Check]:
    apps = {n: a for n, a in stack.spec.heroku.apps.items() if a.postgres and a.postgres.backups}
    if not apps:
        return []
    checks = []
    with stack.heroku() as heroku, stack.heroku_data() as data:
        for name, app in apps.items():
            assert app.postgres and app.postgres.backups
            want = app.postgres.backups
            addon = next(
                (
                    a
                    for a in heroku.request("GET", f"/apps/{name}/addons") or []
                    if (a.get("addon_service") or {}).get("name") == "heroku-postgresql"
                ),
                None,
            )
            if addon is None:
                checks.append(Check(f"backups {name}", "fail", "no heroku-postgresql add-on on the app"))
                continue
            schedules = data.request("GET", f"/client/v11/databases/{addon['id']}/transfer-schedules") or []
            match = [s for s in schedules if s.get("name") == "DATABASE_URL"]
            if not match:
                checks.append(Check(f"backups {name}", "fail", f"no schedule for DATABASE_URL on {addon['name']}"))
                continue
            s = match[0]
            ok = int(s.get("hour", -1)) == want.hour and s.get("timezone") == want.timezone
            checks.append(
                Check(
                    f"backup schedule {name}",
                    "pass" if ok else "fail",
                    f"daily at {daily_at(s.get('hour', -1), str(s.get('timezone')))} (declared {want.at})",
                )
            )
            checks.append(latest_backup(name, s, data.request("GET", f"/client/v11/apps/{name}/transfers") or []))
    return checks


def latest_backup(app: str, schedule: dict[str, Any], transfers: list[dict[str, Any]]) -> Check:
    done = sorted(
        (t for t in transfers if t.get("to_type") == "gof3r" and t.get("succeeded") and t.get("finished_at")),
        key=lambda t: t["finished_at"],
    )
    if done:
        age = _age_hours(done[-1]["finished_at"])
        ok = age <= BACKUP_MAX_AGE_HOURS
        return Check(
            f"latest backup {app}",
            "pass" if ok else "fail",
            f"b{done[-1].get('num', '?')} finished {age:.1f} h ago (limit {BACKUP_MAX_AGE_HOURS} h)",
        )
    scheduled_for = _age_hours(schedule["created_at"]) if schedule.get("created_at") else 0.0
    if scheduled_for < BACKUP_MAX_AGE_HOURS:
        return Check(f"latest backup {app}", "pending", f"no backup yet; the schedule is {scheduled_for:.1f} h old")
    return Check(f"latest backup {app}", "fail", f"no successful backup although the schedule is {scheduled_for:.1f} h old")


def env_keys(stack: Stack) -> list[Check]:
    checks = []
    if stack.spec.heroku.apps:
        with stack.heroku() as heroku:
            for name in stack.spec.heroku.apps:
                live = set(heroku.request("GET", f"/apps/{name}/config-vars") or {})
                checks.append(_keys_check(f"env {name}", stack.spec.heroku_env_keys(name), live))
    if stack.spec.vercel.projects:
        with stack.vercel() as vercel:
            for name in stack.spec.vercel.projects:
                declared = {key for key, _ in stack.spec.vercel_env_slots(name)}
                found = vercel.request("GET", f"/v9/projects/{name}/env", params=stack.vercel_params(), ok_missing=True)
                live = {e["key"] for e in (found or {}).get("envs", [])}
                checks.append(_keys_check(f"env {name}", declared, live))
    return checks


def _keys_check(name: str, declared: set[str], live: set[str]) -> Check:
    missing = sorted(declared - live)
    if missing:
        return Check(name, "fail", f"missing on the platform: {', '.join(missing)}")
    return Check(name, "pass", f"all {len(declared)} declared keys present")


def webhooks(stack: Stack, outputs: dict[str, Any]) -> list[Check]:
    checks = []
    calendly = {n: h for n, h in stack.spec.webhooks.items() if isinstance(h, CalendlyWebhookSpec)}
    if calendly:
        with stack.calendly() as api:
            for name, hook in calendly.items():
                page = api.request(
                    "GET", "/webhook_subscriptions", params={"organization": hook.organization, "scope": hook.scope}
                )
                live = [s for s in (page or {}).get("collection", []) if s.get("callback_url") == hook.url]
                ok = bool(live) and live[0].get("state") == "active" and sorted(live[0].get("events", [])) == hook.events
                evidence = f"{hook.url}: " + (
                    f"{live[0].get('state')}, events {', '.join(sorted(live[0].get('events', [])))}" if live else "not registered"
                )
                checks.append(Check(f"webhook {name}", "pass" if ok else "fail", evidence))
    for step in outputs.get("manualSteps", []):
        checks.append(
            Check(
                f"webhook {step['webhook']}",
                "pending",
                f"manual step: {step['where']}; URL {step['url']}; events {', '.join(step['events'])}; secret: {step['secret']}",
            )
        )
    return checks


def verify(stack: Stack) -> list[Check]:
    outputs = stack.outputs()
    return [*health(stack, outputs), *backups(stack), *env_keys(stack), *webhooks(stack, outputs)]


def print_checks(stack: str, checks: list[Check], console: Console) -> None:
    """The checks grouped by what they check (an app, a project, a webhook), evidence whole."""
    p = Printer(console)
    words = {"fail": "failed", "pending": "pending", "pass": "passed"}
    counts = {word: sum(1 for c in checks if c.status == status) for status, word in words.items()}
    summary = ", ".join(f"{n} {word}" for word, n in counts.items() if n)
    p.line(Text(f"verify {stack}", style="bold"), f": {summary or 'nothing to check'}")
    groups: dict[str, list[list[str | Text]]] = {}
    for c in checks:
        kind, _, subject = c.name.rpartition(" ")
        status = Text(c.status.ljust(7), style=STATUS_STYLES.get(c.status, ""))  # pass, fail, pending: one column
        groups.setdefault(subject, []).append([status, kind, c.evidence])
    for subject, rows in groups.items():
        p.blank()
        p.line(Text(subject, style="bold"))
        p.columns(rows, indent=2)


# --- the command ---------------------------------------------------------------------


def verify_command(
    stack: Annotated[Optional[str], typer.Argument(help="The stack to check after a deployment.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    stack_option: Annotated[Optional[str], typer.Option("--stack", "-s", help="The stack, as `pulumi --stack` takes it.")] = None,
) -> None:
    """Post-deployment checks: health URLs, backups, env keys on the platform, webhooks. Exit 1 on any failure."""

    stack = pick_stack(stack, stack_option)
    assert stack is not None
    try:
        checks = verify(Stack(find_project_root(), stack))
    except SpecError as exc:
        fail_spec(exc)
    except (StackError, PlatformApiError, EngineMissingError) as exc:
        fail(str(exc))
    failed = [c for c in checks if c.status == "fail"]
    if as_json:
        print(json.dumps({"stack": stack, "passed": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        print_checks(stack, checks, out)
    raise typer.Exit(EXIT_BLOCKED if failed else 0)
