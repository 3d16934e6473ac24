"""The Pulumi program: a validated spec built into components, and the stack's outputs.

Data flows one way: stack config -> Spec -> components -> outputs.
"""

from __future__ import annotations

from typing import Any

import pulumi

from infra.spec.load import load_spec
from infra.spec.problems import SpecError
from infra.spec.stack_config import StackConfig
from infra.spec.stack_spec import PROVIDER_CREDENTIALS, Spec
from infra.spec.webhooks import CalendlyWebhookSpec

# Component modules are imported only when a stack uses them: each provider SDK
# costs 50-110 ms to import, which is most of an offline plan's time.


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
        from infra.components.webhook import Webhook

    # Webhooks first: their signing secrets are delivered into the receiving apps' env.
    hooks = {name: Webhook(name, hook) for name, hook in sorted(spec.webhooks.items())}
    heroku_delivered: dict[str, dict[str, pulumi.Output[str]]] = {}
    vercel_delivered: dict[str, list[tuple[str, list[str], pulumi.Output[str]]]] = {}
    for d in spec.deliveries():
        secret = hooks[d.webhook].signing_secret
        if d.heroku_app:
            heroku_delivered.setdefault(d.heroku_app, {})[d.env] = secret
        if d.vercel_project:
            vercel_delivered.setdefault(d.vercel_project, []).append((d.env, list(d.targets), secret))

    health: list[dict[str, Any]] = []
    apps_out, role_passwords = _heroku_apps(spec, secret_config, heroku_delivered, health)
    projects_out = _vercel_projects(spec, secret_config, vercel_delivered, health)

    outputs: dict[str, Any] = {
        "stack": spec.stack,
        "herokuApps": apps_out,
        "vercelProjects": projects_out,
        "healthChecks": health,
        "manualSteps": [h.manual_step for h in hooks.values() if h.manual_step],
        "calendlySubscriptions": sorted(n for n, h in spec.webhooks.items() if isinstance(h, CalendlyWebhookSpec)),
    }
    if hooks:
        outputs["webhookSecrets"] = pulumi.Output.secret({n: h.signing_secret for n, h in hooks.items()})
    if role_passwords:
        outputs["rolePasswords"] = pulumi.Output.secret(role_passwords)
    return outputs


def _heroku_apps(
    spec: Spec,
    secret_config: dict[str, pulumi.Output[str]],
    delivered: dict[str, dict[str, pulumi.Output[str]]],
    health: list[dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    from infra.components.heroku_app import HerokuApp

    apps_out: dict[str, Any] = {}
    role_passwords: dict[str, Any] = {}
    for name, app_spec in sorted(spec.heroku.apps.items()):
        app = HerokuApp(
            name,
            app_spec,
            team=spec.heroku.team,
            secret_config=secret_config,
            injected_secrets=delivered.get(name, {}),
            protect_database=spec.database_protected(app_spec),
        )
        out: dict[str, Any] = {"url": app.url}
        pg = app_spec.postgres
        if pg is not None:
            out["database"] = {
                "plan": pg.plan,
                "protected": spec.database_protected(app_spec),
                "backups": f"daily at {pg.backups.at}" if pg.backups else "none",
            }
            role_passwords.update({f"{name}/{role}": pw for role, pw in app.role_passwords.items()})
        if app.health_check_url is not None and app_spec.health_check is not None:
            out["healthCheckUrl"] = app.health_check_url
            health.append({"name": name, "url": app.health_check_url, "expectStatus": app_spec.health_check.expect_status})
        apps_out[name] = out
    return apps_out, role_passwords


def _vercel_projects(
    spec: Spec,
    secret_config: dict[str, pulumi.Output[str]],
    delivered: dict[str, list[tuple[str, list[str], pulumi.Output[str]]]],
    health: list[dict[str, Any]],
) -> dict[str, Any]:
    from infra.components.vercel_project import VercelProject

    projects_out: dict[str, Any] = {}
    for name, project_spec in sorted(spec.vercel.projects.items()):
        project = VercelProject(
            name,
            project_spec,
            team=spec.vercel.team,
            secret_config=secret_config,
            injected=delivered.get(name, []),
        )
        projects_out[name] = {"url": project.url, "domains": project_spec.domains}
        if project.health_check_url is not None and project_spec.health_check is not None:
            projects_out[name]["healthCheckUrl"] = project.health_check_url
            health.append(
                {"name": name, "url": project.health_check_url, "expectStatus": project_spec.health_check.expect_status}
            )
    return projects_out


def run() -> None:
    """Entry point of the Pulumi program (__main__.py)."""
    config = StackConfig.from_runtime(pulumi.get_stack())
    try:
        spec = load_spec(config)
    except SpecError as exc:
        raise pulumi.RunError(str(exc)) from None
    for key, value in build(spec).items():
        pulumi.export(key, value)
