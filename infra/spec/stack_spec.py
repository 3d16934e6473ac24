"""The whole stack's spec: every platform section, and the facts derived from it
that several rooms need (protection, env keys per app, where webhook secrets go)."""

from __future__ import annotations

from dataclasses import dataclass

from infra.spec.common import NAMESPACE, Model, full_key
from infra.spec.common import PROVIDER_CREDENTIALS as PROVIDER_CREDENTIALS  # kept importable from here
from infra.spec.heroku import Heroku, HerokuAppSpec
from infra.spec.vercel import Vercel
from infra.spec.webhooks import CalendlyWebhookSpec, Endpoints, WebhookSpec


@dataclass(frozen=True)
class Delivery:
    """A webhook's signing secret delivered into the env of the app that verifies it."""

    webhook: str
    env: str
    heroku_app: str | None
    vercel_project: str | None
    targets: tuple[str, ...]

    @property
    def path(self) -> str:
        """Key path of the receiver's env, for error messages."""
        return f"{NAMESPACE}:webhooks.{self.webhook}.receiver.env"


class Spec(Model):
    stack: str
    sandbox: bool = False
    protect_databases: bool
    heroku: Heroku = Heroku()
    vercel: Vercel = Vercel()
    webhooks: dict[str, WebhookSpec] = {}
    endpoints: Endpoints = Endpoints()

    def database_protected(self, app: HerokuAppSpec) -> bool:
        if app.postgres is None:
            return False
        return self.protect_databases if app.postgres.protect is None else app.postgres.protect

    def deliveries(self) -> list[Delivery]:
        """Where each webhook's signing secret goes, in the order the stack file declares them."""
        return [
            Delivery(name, h.receiver.env, h.receiver.heroku_app, h.receiver.vercel_project, tuple(h.receiver.targets))
            for name, h in self.webhooks.items()
        ]

    def heroku_env_keys(self, app_name: str) -> set[str]:
        """Every config var the stack sets on a Heroku app, webhook signing secrets included."""
        app = self.heroku.apps[app_name]
        keys = set(app.env) | set(app.secret_env) | set(app.generated_env)
        return keys | {d.env for d in self.deliveries() if d.heroku_app == app_name}

    def vercel_env_slots(self, project_name: str) -> set[tuple[str, str]]:
        """Every (key, target) the stack sets on a Vercel project, webhook signing secrets included."""
        project = self.vercel.projects[project_name]
        slots = {(v.key, t) for v in project.env for t in v.targets}
        return slots | {(d.env, t) for d in self.deliveries() if d.vercel_project == project_name for t in d.targets}

    def secret_refs(self) -> dict[str, str]:
        """Every secret config key the spec reads, mapped to the key path that reads it."""
        refs: dict[str, str] = {}
        if self.heroku.apps:
            refs.setdefault("heroku:apiKey", "launchplan:heroku.apps (provider credential)")
        if self.vercel.projects:
            refs.setdefault("vercel:apiToken", "launchplan:vercel.projects (provider credential)")
        if any(isinstance(w, CalendlyWebhookSpec) for w in self.webhooks.values()):
            refs.setdefault(f"{NAMESPACE}:calendlyToken", "launchplan:webhooks (Calendly API token)")
        for app_name, app in self.heroku.apps.items():
            for env, key in app.secret_env.items():
                refs.setdefault(full_key(key), f"launchplan:heroku.apps.{app_name}.secretEnv.{env}")
        for project_name, project in self.vercel.projects.items():
            for i, var in enumerate(project.env):
                if var.from_config:
                    refs.setdefault(full_key(var.from_config), f"launchplan:vercel.projects.{project_name}.env[{i}].fromConfig")
        return refs
