"""What lives inside a Heroku Postgres database: extensions, schemas, and
roles with generated passwords and grants, managed through pulumi-postgresql.

The provider is configured from the add-on's DATABASE_URL, which stays a
secret from the add-on's outputs through to the provider's inputs.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pulumi
import pulumi_postgresql as postgresql

from infra.components.generated import generated_secret
from infra.spec.heroku import PostgresSpec


def _url_part(url: pulumi.Output[str], part: str) -> pulumi.Output[str]:
    def pick(value: str) -> str:
        parts = urlsplit(value or "")
        return {
            "host": parts.hostname or "",
            "port": str(parts.port or 5432),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "database": unquote(parts.path.lstrip("/")),
        }[part]

    return pulumi.Output.secret(url.apply(pick))


class Database(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        spec: PostgresSpec,
        *,
        database_url: pulumi.Output[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("launchplan:postgres:Database", name, None, opts)
        database = _url_part(database_url, "database")
        provider = postgresql.Provider(
            f"{name}-postgresql",
            host=_url_part(database_url, "host"),
            port=_url_part(database_url, "port").apply(int),
            username=_url_part(database_url, "username"),
            password=_url_part(database_url, "password"),
            database=database,
            sslmode=spec.sslmode,
            superuser=False,  # Heroku's default credential is not a superuser
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)

        for extension in spec.extensions:
            postgresql.Extension(f"{name}-ext-{extension}", name=extension, database=database, opts=child)

        schemas = {
            schema: postgresql.Schema(f"{name}-schema-{schema}", name=schema, database=database, opts=child)
            for schema in spec.schemas
        }

        self.role_passwords: dict[str, pulumi.Output[str]] = {}
        for role_name, role in sorted(spec.roles.items()):
            password = generated_secret(f"{name}-role-{role_name}", 32, self)
            self.role_passwords[role_name] = password
            pg_role = postgresql.Role(
                f"{name}-role-{role_name}",
                name=role_name,
                login=role.login,
                password=password,
                connection_limit=role.connection_limit,
                opts=child,
            )
            for i, grant in enumerate(role.grants):
                depends = [pg_role] + ([schemas[grant.schema_name]] if grant.schema_name in schemas else [])
                postgresql.Grant(
                    f"{name}-grant-{role_name}-{i}",
                    role=pg_role.name,
                    database=database,
                    schema=None if grant.object_type == "database" else grant.schema_name,
                    object_type=grant.object_type,
                    privileges=sorted(grant.privileges),
                    opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends),
                )

        self.register_outputs({"roles": sorted(spec.roles)})
