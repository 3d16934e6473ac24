"""Runbook 004's production stack (Pulumi.production.yaml) written by hand as a plain Pulumi program:
the resources launchplan's program declares for it, with the same names, parents, inputs and options
(so the same URNs and a no-change preview against a stack launchplan applied), and none of
launchplan's own work (no stack config read, no spec validation, no components chosen per spec).

Used by tests/integration/test_heroku_stacks.py (a real preview of an add-on `config` change, which
launchplan's spec cannot declare) and by benchmarks/bench_heroku.py (launchplan's own overhead).
Stack config `plain:addonConfig` (JSON, optional): the add-on's `config` input."""

import json

import pulumi
import pulumi_random as random
import pulumiverse_heroku as heroku

from infra.providers.backup_schedule import BackupSchedule

NAME = "sc-mvp-production"
ADDON_CONFIG = json.loads(pulumi.Config("plain").get("addonConfig") or "null")


class App(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("launchplan:heroku:App", name, None, None)
        child = pulumi.ResourceOptions(parent=self)
        app = heroku.app.App(name, name=name, region="us", stack="heroku-24", opts=child)
        heroku.formation.Formation(f"{name}-web", app_id=app.id, type="web", size="basic", quantity=1, opts=child)
        secret_key_base = random.RandomPassword(f"{name}-SECRET_KEY_BASE", length=128, special=False, opts=child)
        heroku.app.ConfigAssociation(
            f"{name}-config",
            app_id=app.id,
            vars={
                "NODE_ENV": "production",
                "RAILS_ENV": "production",
                "RAILS_LOG_TO_STDOUT": "enabled",
                "RAILS_SERVE_STATIC_FILES": "enabled",
            },
            sensitive_vars=pulumi.Output.secret({"SECRET_KEY_BASE": pulumi.Output.secret(secret_key_base.result)}),
            opts=child,
        )
        addon = heroku.addon.Addon(
            f"{name}-postgres",
            app_id=app.id,
            plan="heroku-postgresql:standard-0",
            config=ADDON_CONFIG,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        BackupSchedule(f"{name}-backups", addon_id=addon.id, app=app.name, hour=2, timezone="America/Los_Angeles", opts=child)
        self.url = app.web_url
        self.health_check_url = app.web_url.apply(lambda url: url.rstrip("/") + "/healthz")
        self.register_outputs({"url": self.url, "healthCheckUrl": self.health_check_url})


app = App(NAME)
database = {"plan": "standard-0", "protected": True, "backups": "daily at 02:00 America/Los_Angeles"}
pulumi.export("stack", pulumi.get_stack())
pulumi.export("herokuApps", {NAME: {"url": app.url, "database": database, "healthCheckUrl": app.health_check_url}})
pulumi.export("vercelProjects", {})
pulumi.export("healthChecks", [{"name": NAME, "url": app.health_check_url, "expectStatus": 200}])
pulumi.export("manualSteps", [])
pulumi.export("calendlySubscriptions", [])
