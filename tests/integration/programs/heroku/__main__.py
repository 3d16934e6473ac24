"""Pulumi program for tests/integration/test_provider_heroku.py: pulumiverse_heroku resources
declared directly (no launchplan component), shaped by the stack config `t:spec` (JSON)."""

import pulumi
import pulumiverse_heroku as heroku

config = pulumi.Config("t")
spec = config.require_object("spec")
secret = config.require_secret("secretValue")  # set with `pulumi config set --secret`: never in a file

app = heroku.app.App(
    "app",
    name=spec["app"],
    region=spec.get("region", "us"),
    stack=spec.get("stack"),
    config_vars=spec.get("appVars"),
    sensitive_config_vars=secret.apply(lambda s: {"APP_SECRET": s}),
    organization=heroku.app.AppOrganizationArgs(name=spec["team"]) if spec.get("team") else None,
)
pulumi.export("appId", app.id)
pulumi.export("webUrl", app.web_url)
pulumi.export("allConfigVars", app.all_config_vars)

if "vars" in spec:
    heroku.app.ConfigAssociation(
        "config",
        app_id=app.id,
        vars=spec["vars"],
        sensitive_vars=secret.apply(lambda s: {"SMTP_PASSWORD": s}),
    )

for process, f in sorted(spec.get("formation", {}).items()):
    heroku.formation.Formation(f"formation-{process}", app_id=app.id, type=process, size=f["size"], quantity=f["quantity"])

for key, host in sorted(spec.get("domains", {}).items()):
    d = heroku.domain.Domain(f"domain-{key}", app_id=app.id, hostname=host)
    pulumi.export(f"cname-{key}", d.cname)

if "plan" in spec:
    addon = heroku.addon.Addon(
        "db",
        app_id=app.id,
        plan=spec["plan"],
        config=spec.get("addonConfig"),
        opts=pulumi.ResourceOptions(protect=bool(spec.get("protect", False))),
    )
    pulumi.export("addonId", addon.id)
    pulumi.export("addonName", addon.name)
    pulumi.export("databaseUrl", addon.config_var_values.apply(lambda v: (v or {}).get("DATABASE_URL")))
