"""`launchplan repair STACK [--yes]`: adopt what a lost response left behind.

A create whose answer was lost (a timeout, a 5xx after the platform committed it, a killed run)
leaves the object on the platform but not in the stack's state, and every later `up` then fails
with "already exists" / "name already taken". Reconciliation finds, for every resource the program
declares but the state lacks (the `create` steps of a preview), the live object that matches the
declaration, checks that it *is* the declared one, and adopts it:

- by `pulumi import` under the same name, parent and provider (Vercel projects, env vars and
  domains; Heroku apps, domains and add-ons), or
- by the provider's own adoption on create (launchplan's dynamic providers: a backup schedule with
  the declared hour is adopted as is; a Calendly subscription for the URL is replaced, since
  Calendly never returns its signing key).

An object whose identity does not match (another project of that name with another framework,
another account's or team's Heroku app, a variable on other targets) is never adopted: it is
refused with the reason. `repair` is a dry run unless `--yes`; `launchplan sandbox up` runs the same
reconciliation before every apply.

A Heroku add-on's name is generated, so a lost one is told by what it is: the only add-on of the
declared service on the declared app, on the declared plan (two candidates, or another plan, are
refused: import the right one by hand with `pulumi import`).

Not covered (stated plainly): formation and config vars (PATCHes, never "already exists"),
Postgres roles/schemas (created idempotently by their provider).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from infra.providers.http import ApiClient, PlatformApiError
from infra.spec.problems import SpecError
from scripts.console import EXIT_BLOCKED, fail, out
from scripts.project import find_project_root
from scripts.pulumi_cli import failure_cause
from scripts.stacks import Stack, StackError

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's "not known until applied"

VERCEL_PROJECT = "vercel:index/project:Project"
VERCEL_ENV = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
VERCEL_DOMAIN = "vercel:index/projectDomain:ProjectDomain"
HEROKU_APP = "heroku:app/app:App"
HEROKU_DOMAIN = "heroku:domain/domain:Domain"
HEROKU_ADDON = "heroku:addon/addon:Addon"
CALENDLY = "pulumi-python:dynamic/calendly:WebhookSubscription"
BACKUP_SCHEDULE = "pulumi-python:dynamic/heroku:BackupSchedule"
# Fields fixed when a Vercel project is made: a live project that differs in one is not ours.
PROJECT_IDENTITY = ("framework", "rootDirectory", "buildCommand", "installCommand", "outputDirectory", "devCommand")


@dataclass
class Finding:
    """One declared resource missing from the state, and what reconciliation does about it."""

    name: str
    type: str
    urn: str
    verdict: str  # adopt | provider | create | refused | later
    detail: str
    live_id: str | None = None
    parent: str | None = None
    provider: str | None = None


class RepairError(RuntimeError):
    """Reconciliation refused to adopt, or an adoption failed: nothing else was changed."""


class Clients:
    """API clients for the platforms a stack uses, opened on first use."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self._open: dict[str, ApiClient] = {}

    def get(self, platform: str) -> ApiClient:
        if platform not in self._open:
            self._open[platform] = getattr(self.stack, platform.replace("-", "_"))()
        return self._open[platform]

    def close(self) -> None:
        for client in self._open.values():
            client.close()


Verdict = tuple[str, str | None, str]  # verdict, live id (import format), detail
Finder = Callable[[Clients, dict[str, Any]], Verdict]


def _known(*values: Any) -> bool:
    return all(v is not None and v != UNKNOWN for v in values)


def _team(clients: Clients, inputs: dict[str, Any]) -> dict[str, str]:
    team = inputs.get("teamId")
    return {"teamId": team} if _known(team) and team else clients.stack.vercel_params()


def _prefix(params: dict[str, str]) -> str:
    return f"{params['teamId']}/" if params.get("teamId") else ""


def vercel_project(clients: Clients, inputs: dict[str, Any]) -> Verdict:
    name = inputs.get("name")
    if not _known(name):
        return "later", None, "its name is not known before the apply"
    params = _team(clients, inputs)
    live = clients.get("vercel").request("GET", f"/v9/projects/{name}", params=params, ok_missing=True)
    if not live:
        return "create", None, f"no Vercel project {name} yet"
    differs = [
        f"{key} is {live.get(key)!r}, declared {inputs[key]!r}"
        for key in PROJECT_IDENTITY
        if inputs.get(key) not in (None, UNKNOWN) and live.get(key) != inputs[key]
    ]
    if live.get("link") and not inputs.get("gitRepository"):
        differs.append("it is linked to a Git repository, the declared one is not")
    if differs:
        return (
            "refused",
            live.get("id"),
            f"Vercel project {name} ({live.get('id')}) exists but is not the declared one: {'; '.join(differs)}. "
            "Rename the declared project, or delete or rename the other one",
        )
    return "adopt", f"{_prefix(params)}{live['id']}", f"Vercel project {name} ({live['id']})"


def vercel_env(clients: Clients, inputs: dict[str, Any]) -> Verdict:
    project, key, targets = inputs.get("projectId"), inputs.get("key"), inputs.get("targets")
    if not _known(project, key, targets) or not isinstance(targets, list):
        return "later", None, "its project is not in the state yet"
    params = _team(clients, inputs)
    page = clients.get("vercel").request("GET", f"/v9/projects/{project}/env", params=params, ok_missing=True) or {}
    branch = inputs.get("gitBranch") or None
    same = [e for e in page.get("envs", []) if e.get("key") == key and (e.get("gitBranch") or None) == branch]
    exact = [e for e in same if sorted(e.get("target") or []) == sorted(targets)]
    if exact:
        env = exact[0]
        sensitive = env.get("type") == "sensitive"
        if inputs.get("sensitive") not in (None, UNKNOWN) and bool(inputs["sensitive"]) != sensitive:
            kind = "sensitive" if sensitive else "not sensitive"
            return (
                "refused",
                env.get("id"),
                f"env var {key} on {', '.join(targets)} exists but is {kind}, unlike the declared one",
            )
        return "adopt", f"{_prefix(params)}{project}/{env['id']}", f"env var {key} on {', '.join(targets)} ({env['id']})"
    overlap = [e for e in same if set(e.get("target") or []) & set(targets)]
    if overlap:
        live_targets = ", ".join(overlap[0].get("target") or [])
        return (
            "refused",
            overlap[0].get("id"),
            f"env var {key} is set on {live_targets}, declared on {', '.join(targets)}: another variable, not adopted. "
            "Remove it on the platform or declare the same targets",
        )
    return "create", None, f"no env var {key} on {', '.join(targets)} yet"


def vercel_domain(clients: Clients, inputs: dict[str, Any]) -> Verdict:
    project, domain = inputs.get("projectId"), inputs.get("domain")
    if not _known(project, domain):
        return "later", None, "its project is not in the state yet"
    params = _team(clients, inputs)
    live = clients.get("vercel").request("GET", f"/v9/projects/{project}/domains/{domain}", params=params, ok_missing=True)
    if not live:
        return "create", None, f"domain {domain} is not on the project yet"
    return "adopt", f"{_prefix(params)}{project}/{domain}", f"domain {domain} of project {project}"


def heroku_app(clients: Clients, inputs: dict[str, Any]) -> Verdict:
    name = inputs.get("name")
    if not _known(name):
        return "later", None, "its name is not known before the apply"
    heroku = clients.get("heroku")
    try:
        live = heroku.request("GET", f"/apps/{name}", ok_missing=True)
    except PlatformApiError as exc:
        if exc.status == 403:
            return (
                "refused",
                None,
                f"Heroku app name {name} is taken by an account these credentials cannot see: choose another name",
            )
        raise
    if not live:
        return "create", None, f"no Heroku app {name} yet"
    team = ((inputs.get("organization") or {}) if isinstance(inputs.get("organization"), dict) else {}).get("name")
    live_team = (live.get("team") or live.get("organization") or {}).get("name")
    if team:
        ours, whose = live_team == team, f"team {live_team}" if live_team else "a personal account"
    else:
        account = heroku.request("GET", "/account") or {}
        ours = not live_team and (live.get("owner") or {}).get("id") == account.get("id")
        whose = f"team {live_team}" if live_team else f"the account {(live.get('owner') or {}).get('email', '?')}"
    if not ours:
        declared = f"team {team}" if team else "this account"
        return "refused", live.get("id"), f"Heroku app {name} exists but belongs to {whose}, not {declared}: not adopted"
    region = (live.get("region") or {}).get("name")
    if _known(inputs.get("region")) and inputs.get("region") and region != inputs["region"]:
        return "refused", live.get("id"), f"Heroku app {name} exists in region {region}, declared {inputs['region']}: not adopted"
    return "adopt", str(live["id"]), f"Heroku app {name} ({live['id']})"


def heroku_domain(clients: Clients, inputs: dict[str, Any]) -> Verdict:
    app, host = inputs.get("appId"), inputs.get("hostname")
    if not _known(app, host):
        return "later", None, "its app is not in the state yet"
    live = clients.get("heroku").request("GET", f"/apps/{app}/domains/{host}", ok_missing=True)
    if not live:
        return "create", None, f"domain {host} is not on the app yet"
    return "adopt", f"{app}:{host}", f"domain {host} of app {app}"


def heroku_addon(clients: Clients, inputs: dict[str, Any]) -> Verdict:
    app, plan = inputs.get("appId"), inputs.get("plan")
    if not _known(app, plan):
        return "later", None, "its app is not in the state yet"
    service = str(plan).split(":", 1)[0]
    live = clients.get("heroku").request("GET", f"/apps/{app}/addons", ok_missing=True) or []
    same_service = [a for a in live if (a.get("addon_service") or {}).get("name") == service]
    if not same_service:
        return "create", None, f"no {service} add-on on app {app} yet"
    if len(same_service) > 1:
        names = ", ".join(sorted(str(a.get("name")) for a in same_service))
        return "refused", None, f"app {app} has {len(same_service)} {service} add-ons ({names}): not told apart, not adopted"
    addon = same_service[0]
    live_plan = (addon.get("plan") or {}).get("name")
    if live_plan != plan:
        return (
            "refused",
            addon.get("id"),
            f"{service} add-on {addon.get('name')} is on plan {live_plan}, declared {plan}: not adopted",
        )
    return "adopt", str(addon["id"]), f"{service} add-on {addon.get('name')} of app {app}"


def calendly_subscription(clients: Clients, inputs: dict[str, Any]) -> Verdict:
    url, org, scope = inputs.get("url"), inputs.get("organization"), inputs.get("scope")
    if not _known(url, org, scope):
        return "later", None, "its URL is not known before the apply"
    page = clients.get("calendly").request("GET", "/webhook_subscriptions", params={"organization": org, "scope": scope})
    live = [s for s in (page or {}).get("collection", []) if s.get("callback_url") == url]
    if not live:
        return "create", None, f"no Calendly subscription for {url} yet"
    return (
        "provider",
        live[0].get("uri"),
        f"Calendly subscription for {url} exists: the provider replaces it on create with one whose "
        "signing key the stack owns (Calendly never returns a key)",
    )


def backup_schedule(clients: Clients, inputs: dict[str, Any]) -> Verdict:
    addon, name = inputs.get("addon_id"), inputs.get("schedule_name")
    if not _known(addon, name):
        return "later", None, "its add-on is not in the state yet"
    schedules = clients.get("heroku-data").request("GET", f"/client/v11/databases/{addon}/transfer-schedules") or []
    live = [s for s in schedules if s.get("name") == name]
    if not live:
        return "create", None, f"no backup schedule {name} yet"
    s = live[0]
    same = int(s.get("hour", -1)) == int(inputs.get("hour", -2)) and s.get("timezone") == inputs.get("timezone")
    what = "adopts it as is" if same else f"replaces it (live {s.get('hour')}:00 {s.get('timezone')})"
    return "provider", str(s.get("uuid") or s.get("id")), f"backup schedule {name} of add-on {addon}: the provider {what}"


FINDERS: dict[str, Finder] = {
    VERCEL_PROJECT: vercel_project,
    VERCEL_ENV: vercel_env,
    VERCEL_DOMAIN: vercel_domain,
    HEROKU_APP: heroku_app,
    HEROKU_DOMAIN: heroku_domain,
    HEROKU_ADDON: heroku_addon,
    CALENDLY: calendly_subscription,
    BACKUP_SCHEDULE: backup_schedule,
}
# Adopted by id from another finding of the same parent when the preview cannot know it yet.
PARENT_IDS = {VERCEL_ENV: ("projectId", VERCEL_PROJECT), VERCEL_DOMAIN: ("projectId", VERCEL_PROJECT)}
PARENT_IDS |= {HEROKU_DOMAIN: ("appId", HEROKU_APP), HEROKU_ADDON: ("appId", HEROKU_APP)}


def missing_from_state(preview: dict[str, Any]) -> list[dict[str, Any]]:
    """The preview's create steps of resources that live behind an API (custom, not components)."""
    steps = []
    for step in preview.get("steps", []):
        state = step.get("newState") or {}
        if step.get("op") == "create" and state.get("custom", True) and not str(state.get("type", "")).startswith("pulumi:"):
            steps.append(step)
    return steps


def find(stack: Stack, preview: dict[str, Any], clients: Clients | None = None) -> list[Finding]:
    """What reconciliation would do for every declared resource the state lacks."""
    own = clients is None
    clients = clients or Clients(stack)
    findings: list[Finding] = []
    try:
        for step in missing_from_state(preview):
            state = step.get("newState") or {}
            kind, urn = str(state.get("type")), str(step.get("urn"))
            finder = FINDERS.get(kind)
            if finder is None:
                continue  # nothing on a platform to find (random secrets) or not adoptable (see the module doc)
            inputs = dict(state.get("inputs") or {})
            if kind in PARENT_IDS:
                field_name, parent_kind = PARENT_IDS[kind]
                if inputs.get(field_name) == UNKNOWN:
                    adopted = [
                        f
                        for f in findings
                        if f.type == parent_kind and f.parent == state.get("parent") and f.verdict == "adopt" and f.live_id
                    ]
                    if adopted:
                        inputs[field_name] = str(adopted[0].live_id).rsplit("/", 1)[-1]
            verdict, live, detail = finder(clients, inputs)
            provider = state.get("provider")
            findings.append(
                Finding(
                    name=urn.rsplit("::", 1)[-1],
                    type=kind,
                    urn=urn,
                    verdict=verdict,
                    detail=detail,
                    live_id=live,
                    parent=state.get("parent"),
                    provider=provider.rsplit("::", 1)[0] if provider else None,
                )
            )
    finally:
        if own:
            clients.close()
    return findings


def import_file(findings: list[Finding], state_urns: set[str]) -> dict[str, Any]:
    """`pulumi import --file`: each adoption under its declared name, parent and provider."""
    names: dict[str, str] = {}

    def ref(urn: str) -> str:
        for key, value in names.items():
            if value == urn:
                return key
        key = f"r{len(names)}"
        names[key] = urn
        return key

    resources = []
    for f in findings:
        if f.verdict != "adopt" or not f.live_id:
            continue
        spec: dict[str, Any] = {"type": f.type, "name": f.name, "id": f.live_id}
        if f.parent and f.parent in state_urns and "::pulumi:pulumi:Stack::" not in f.parent:
            spec["parent"] = ref(f.parent)
        if f.provider and f.provider in state_urns:
            spec["provider"] = ref(f.provider)
        resources.append(spec)
    return {"nameTable": names, "resources": resources}


def state_urns(stack: Stack) -> set[str]:
    deployment = json.loads(stack.pulumi("stack", "export")).get("deployment", {})
    return {r["urn"] for r in deployment.get("resources") or []}


def preview(stack: Stack) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(stack.pulumi("preview", "--json", "--non-interactive"))
    return result


def adopt(stack: Stack, findings: list[Finding], tries: int = 4) -> list[Finding]:
    """Import every adoptable finding (one engine run for all; when that fails, one run per resource,
    each tried again on a transient failure: an import reads every object, and any read may fail).
    Answers what was adopted; raises the last failure when one could not be adopted."""
    chosen = [f for f in findings if f.verdict == "adopt" and f.live_id]
    if not chosen:
        return []
    try:
        _import(stack, chosen)
        return chosen
    except StackError:
        if len(chosen) == 1 and tries <= 1:
            raise
    done: list[Finding] = []
    failure: StackError | None = None
    for finding in chosen:
        for attempt in range(tries):
            try:
                _import(stack, [finding])
                done.append(finding)
                break
            except StackError as exc:
                failure = exc
                if failure_cause(str(exc))[0] not in ("network", "conflict") or attempt == tries - 1:
                    break
                time.sleep(0.2 * (attempt + 1))
    if failure is not None and len(done) < len(chosen):
        raise failure
    return done


def _import(stack: Stack, chosen: list[Finding]) -> None:
    spec = import_file(chosen, state_urns(stack))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "import.json"
        path.write_text(json.dumps(spec))
        stack.pulumi("import", "--file", str(path), "--yes", "--non-interactive", "--generate-code=false", "--protect=false")


def reconcile(
    stack: Stack,
    apply: bool,
    say: Callable[[str], None] = lambda _: None,
    rounds: int = 4,
    first: dict[str, Any] | None = None,
) -> tuple[list[Finding], list[Finding], dict[str, Any]]:
    """Find and (with apply) adopt orphans until none is left: adopting a project lets the next round
    see its env vars. Answers (adopted, the rest, the last preview). `first` is a preview already
    made. Raises RepairError when a live object that blocks a create is not the declared one."""
    adopted: list[Finding] = []
    findings: list[Finding] = []
    current = first if first is not None else preview(stack)
    for _ in range(rounds):
        findings = find(stack, current) if missing_from_state(current) else []
        refused = [f for f in findings if f.verdict == "refused"]
        if refused:
            raise RepairError("; ".join(f"{f.name}: {f.detail}" for f in refused))
        if not apply:
            break
        done = adopt(stack, findings)
        for f in done:
            say(f"adopted {f.name}: {f.detail}")
        adopted += done
        if not done:
            break
        current = preview(stack)
    return adopted, [f for f in findings if f.verdict != "adopt" or not apply], current


# --- the command ---------------------------------------------------------------------


def repair_command(
    stack: Annotated[str, typer.Argument(help="The stack to reconcile with what lives on the platforms.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Adopt (import) what matches; without it, only show what would happen.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Adopt live objects that a lost response left outside the state; refuse any that is not the declared one."""
    try:
        target = Stack(find_project_root(), stack)
        if not target.exists():
            fail(target.absent("repair"))
        try:
            adopted, findings, _ = reconcile(target, apply=yes)
            refused: list[Finding] = []
        except RepairError as exc:
            adopted, findings, refused = [], [], [Finding(stack, "", "", "refused", str(exc))]
        provider_done: list[Finding] = []
        if yes and not refused:
            owned = [f for f in findings if f.verdict == "provider"]
            if owned:  # the provider's own adoption runs in its create: apply just those resources
                target.pulumi(
                    "up", "--yes", "--skip-preview", "--non-interactive", *[a for f in owned for a in ("--target", f.urn)]
                )
                provider_done = owned
    except (StackError, SpecError, PlatformApiError) as exc:
        fail(str(exc), EXIT_BLOCKED)
    shown = refused or [*adopted, *provider_done, *[f for f in findings if f not in provider_done]]
    if as_json:
        print(json.dumps({"stack": stack, "applied": yes, "findings": [asdict(f) for f in shown]}, indent=2))
    else:
        table = Table("resource", "what", "detail", title=f"repair {stack}" + ("" if yes else " (dry run)"), title_justify="left")
        for f in shown:
            what = {
                "adopt": "adopted" if yes else "would adopt (pulumi import)",
                "provider": "adopted by its provider" if yes else "its provider adopts or replaces it on create",
            }
            table.add_row(escape(f.name), what.get(f.verdict, f.verdict), escape(f.detail))
        out.print(table if shown else f"[green]Nothing to repair[/]: every declared resource is in the state of {stack}.")
        if not yes and any(f.verdict in ("adopt", "provider") for f in shown):
            out.print(f"Run `launchplan repair {stack} --yes` to adopt them.")
    if refused:
        fail(refused[0].detail, EXIT_BLOCKED)
