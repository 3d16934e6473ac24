"""pulumi_postgresql resources declared the way launchplan's Database component does: an explicit
`postgresql.Provider` configured from a secret DATABASE_URL (port as an int, superuser=False),
resources taking the database name from that secret. The stack config `spec` (JSON) says what
exists, so a test can step through create, in-place updates, replacements, import and destroy."""

from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit

import pulumi
import pulumi_postgresql as postgresql

config = pulumi.Config()
spec = json.loads(config.require("spec"))
url = config.require_secret("databaseUrl")


def part(name: str) -> pulumi.Output[str]:
    def pick(value: str) -> str:
        parts = urlsplit(value)
        return {
            "host": parts.hostname or "",
            "port": str(parts.port or 5432),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "database": parts.path.lstrip("/"),
        }[name]

    return pulumi.Output.secret(url.apply(pick))


database = part("database")
provider = postgresql.Provider(
    "pg",
    host=part("host"),
    port=part("port").apply(int),
    username=part("username"),
    password=part("password"),
    database=database,
    sslmode="disable",
    superuser=spec.get("superuser", False),
)
opts = pulumi.ResourceOptions(provider=provider)

for key, ext in spec.get("extensions", {}).items():
    postgresql.Extension(f"ext-{key}", name=ext["name"], version=ext.get("version"), database=database, opts=opts)

schemas = {
    key: postgresql.Schema(f"schema-{key}", name=name, database=database, opts=opts)
    for key, name in spec.get("schemas", {}).items()
}

roles = {}
for key, role in spec.get("roles", {}).items():
    roles[key] = postgresql.Role(
        f"role-{key}",
        name=role["name"],
        login=role.get("login", True),
        password=config.require_secret("rolePassword") if role.get("password", True) else None,
        connection_limit=role.get("connectionLimit", -1),
        opts=opts,
    )

for grant in spec.get("grants", []):
    schema = schemas[grant["schema"]] if grant.get("schema") else None
    postgresql.Grant(
        f"grant-{grant['key']}",
        role=roles[grant["role"]].name,
        database=database,
        schema=schema.name if schema else None,
        object_type=grant["objectType"],
        privileges=grant["privileges"],
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[roles[grant["role"]], *([schema] if schema else [])]),
    )

pulumi.export("roles", {key: role.name for key, role in roles.items()})
