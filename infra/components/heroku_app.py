"""A Heroku app and everything that hangs off it: formation, config vars,
domains, its Heroku Postgres add-on, that add-on's daily backup schedule, and
what lives inside the database (extensions, schemas, roles)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumiverse_heroku as heroku

from infra.components.database import Database
from infra.components.generated import generated_secret
from infra.providers.backup_schedule import BackupSchedule
from infra.spec.common import full_key
from infra.spec.heroku import HerokuAppSpec, PostgresSpec


class HerokuApp(pulumi.ComponentResource):
    app: heroku.app.App
    addon: heroku.addon.Addon | None
    database_url: pulumi.Output[str] | None
    role_passwords: dict[str, pulumi.Output[str]]
    url: pulumi.Output[str]
    health_check_url: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        spec: HerokuAppSpec,
        *,
        team: str | None,
        secret_config: Mapping[str, pulumi.Output[str]],
        injected_secrets: Mapping[str, pulumi.Output[str]],
        protect_database: bool,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("launchplan:heroku:App", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.app = heroku.app.App(
            name,
            name=name,
            region=spec.region,
            stack=spec.stack,
            organization=heroku.app.AppOrganizationArgs(name=team) if team else None,
            opts=child,
        )

        for process, formation in sorted(spec.formation.items()):
            heroku.formation.Formation(
                f"{name}-{process}",
                app_id=self.app.id,
                type=process,
                size=formation.size,
                quantity=formation.quantity,
                opts=child,
            )

        self._config_vars(name, spec, secret_config, injected_secrets)

        for hostname in spec.domains:
            heroku.domain.Domain(f"{name}-{hostname}", app_id=self.app.id, hostname=hostname, opts=child)

        self.addon = None
        self.database_url = None
        self.role_passwords = {}
        if spec.postgres is not None:
            self._postgres(name, spec.postgres, protect_database)

        self.url = self.app.web_url
        self.health_check_url = None
        if spec.health_check is not None:
            path = spec.health_check.path
            self.health_check_url = self.app.web_url.apply(lambda url: url.rstrip("/") + path)

        self.register_outputs({"url": self.url, "healthCheckUrl": self.health_check_url})

    def _config_vars(
        self,
        name: str,
        spec: HerokuAppSpec,
        secret_config: Mapping[str, pulumi.Output[str]],
        injected_secrets: Mapping[str, pulumi.Output[str]],
    ) -> None:
        """All vars in one association: plain ones readable in previews, the rest in sensitive_vars."""
        sensitive: dict[str, pulumi.Output[str]] = {env: secret_config[full_key(key)] for env, key in spec.secret_env.items()}
        for env, gen in spec.generated_env.items():
            sensitive[env] = generated_secret(f"{name}-{env}", gen.length, self)
        sensitive.update(injected_secrets)
        heroku.app.ConfigAssociation(
            f"{name}-config",
            app_id=self.app.id,
            vars=dict(sorted(spec.env.items())),
            sensitive_vars=pulumi.Output.secret(dict(sorted(sensitive.items()))) if sensitive else None,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _postgres(self, name: str, spec: PostgresSpec, protect: bool) -> None:
        """The Heroku Postgres add-on, its daily backups, and what lives inside the database."""
        addon = self.addon = heroku.addon.Addon(
            f"{name}-postgres",
            app_id=self.app.id,
            plan=f"heroku-postgresql:{spec.plan}",
            # Protected databases refuse delete and replace; a plan change is an in-place upgrade.
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        database_url = self.database_url = pulumi.Output.secret(addon.config_var_values.apply(_database_url))
        if spec.backups is not None:
            BackupSchedule(
                f"{name}-backups",
                addon_id=addon.id,
                app=self.app.name,
                hour=spec.backups.hour,
                timezone=spec.backups.timezone,
                opts=pulumi.ResourceOptions(parent=self),
            )
        if spec.extensions or spec.schemas or spec.roles:
            database = Database(
                f"{name}-db",
                spec,
                database_url=database_url,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[addon],
                    # It hung off the stack before it moved under its app: same resources, no replace.
                    aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)],
                ),
            )
            self.role_passwords = database.role_passwords


def _database_url(values: Mapping[str, str] | None) -> str:
    """The add-on's own URL: DATABASE_URL when it is the app's primary database, else the
    HEROKU_POSTGRESQL_<COLOR>_URL Heroku gives a second one (configVarValues holds only this add-on's vars)."""
    values = values or {}
    if values.get("DATABASE_URL"):
        return values["DATABASE_URL"]
    return next((v for k, v in sorted(values.items()) if k.startswith("HEROKU_POSTGRESQL_") and k.endswith("_URL")), "")
