"""Builds a validated spec into components and returns the stack outputs.

Data flows one way: stack config -> Spec -> components -> outputs.
"""

from __future__ import annotations

from typing import Any

import pulumi

from infra.config import NAMESPACE, CalendlyWebhook, Spec, SpecError, load_spec
from infra.stack_config import StackConfig

# Component modules are imported only when a stack uses them: each provider SDK
# costs 50-110 ms to import, which is most of an offline plan's time.

# Read by providers themselves (or by launchplan's dynamic providers at configure time).
PROVIDER_CREDENTIALS = {"heroku:apiKey", "vercel:apiToken", f"{NAMESPACE}:calendlyToken"}


def _secret_config(spec: Spec) -> dict[str, pulumi.Output[str]]:
    values = {}
    for key in spec.secret_refs():
        if key in PROVIDER_CREDENTIALS:
            continue
        namespace, name = key.split(":", 1)
        values[key] = pulumi.Config(namespace).require_secret(name)
    return values


def build(spec: Spec) -> dict[str, Any]:
    secret_config = _secret_config(spec)
    if spec.webhooks:
        from infra.webhooks import Webhook
    if spec.heroku.apps:
        from infra.database import Database
        from infra.heroku import HerokuApp
    if spec.vercel.projects:
        from infra.vercel import VercelProject

    # Webhooks first: their signing secrets are injected into the receiving apps' env.
    hooks = {name: Webhook(name, hook) for name, hook in sorted(spec.webhooks.items())}
    heroku_injected: dict[str, dict[str, pulumi.Output[str]]] = {}
    vercel_injected: dict[str, list[tuple[str, list[str], pulumi.Output[str]]]] = {}
    for name, hook in spec.webhooks.items():
        r = hook.receiver
        if r.heroku_app:
            heroku_injected.setdefault(r.heroku_app, {})[r.env] = hooks[name].signing_secret
        if r.vercel_project:
            vercel_injected.setdefault(r.vercel_project, []).append((r.env, list(r.targets), hooks[name].signing_secret))

    apps_out: dict[str, Any] = {}
    health: list[dict[str, Any]] = []
    role_passwords: dict[str, Any] = {}
    for name, app_spec in sorted(spec.heroku.apps.items()):
        app = HerokuApp(
            name,
            app_spec,
            team=spec.heroku.team,
            secret_config=secret_config,
            injected_secrets=heroku_injected.get(name, {}),
            protect_database=spec.database_protected(app_spec),
        )
        out: dict[str, Any] = {"url": app.url}
        pg = app_spec.postgres
        if pg is not None:
            out["database"] = {
                "plan": pg.plan,
                "protected": spec.database_protected(app_spec),
                "backups": f"daily at {pg.backups.hour:02d}:00 {pg.backups.timezone}" if pg.backups else "none",
            }
            if pg.extensions or pg.schemas or pg.roles:
                assert app.database_url is not None
                db = Database(f"{name}-db", pg, database_url=app.database_url, opts=pulumi.ResourceOptions(depends_on=[app]))
                role_passwords.update({f"{name}/{role}": pw for role, pw in db.role_passwords.items()})
        if app.health_check_url is not None and app_spec.health_check is not None:
            out["healthCheckUrl"] = app.health_check_url
            health.append({"name": name, "url": app.health_check_url, "expectStatus": app_spec.health_check.expect_status})
        apps_out[name] = out

    projects_out: dict[str, Any] = {}
    for name, project_spec in sorted(spec.vercel.projects.items()):
        project = VercelProject(
            name,
            project_spec,
            team=spec.vercel.team,
            secret_config=secret_config,
            injected=vercel_injected.get(name, []),
        )
        projects_out[name] = {"url": project.url, "domains": project_spec.domains}
        if project.health_check_url is not None and project_spec.health_check is not None:
            projects_out[name]["healthCheckUrl"] = project.health_check_url
            health.append(
                {"name": name, "url": project.health_check_url, "expectStatus": project_spec.health_check.expect_status}
            )

    outputs: dict[str, Any] = {
        "stack": spec.stack,
        "herokuApps": apps_out,
        "vercelProjects": projects_out,
        "healthChecks": health,
        "manualSteps": [h.manual_step for h in hooks.values() if h.manual_step],
        "calendlySubscriptions": sorted(n for n, h in spec.webhooks.items() if isinstance(h, CalendlyWebhook)),
    }
    if hooks:
        outputs["webhookSecrets"] = pulumi.Output.secret({n: h.signing_secret for n, h in hooks.items()})
    if role_passwords:
        outputs["rolePasswords"] = pulumi.Output.secret(role_passwords)
    return outputs


def run() -> None:
    """Entry point of the Pulumi program (__main__.py)."""
    config = StackConfig.from_runtime(pulumi.get_stack())
    try:
        spec = load_spec(config)
    except SpecError as exc:
        raise pulumi.RunError(str(exc)) from None
    for key, value in build(spec).items():
        pulumi.export(key, value)
