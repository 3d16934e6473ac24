"""The Postgres database component under Pulumi's mocks: extensions, schemas, roles, grants,
all through the add-on's own provider."""

from __future__ import annotations

from typing import Any

from infra.spec.stack_config import secret_placeholder
from scripts.render import SECRET
from tests.support.stacks import render_sections

APP = "sc-mvp-production"


def test_database_component_manages_extensions_schemas_roles(heroku_app: dict[str, Any]) -> None:
    r = render_sections("production", secrets=("heroku:apiKey", "launchplan:smtpPassword"), heroku={"apps": {APP: heroku_app}})
    db = f"{APP}-db"
    component = r.one("launchplan:postgres:Database", db)
    assert component.parent == APP  # under its app, as Pulumi's component guidance has it
    # It hung off the stack before: the alias keeps existing stacks' resources (no replace).
    assert component.aliases == ["parent=<root stack>"]
    provider = r.one("pulumi:providers:postgresql", f"{db}-postgresql")
    assert {"host", "port", "username", "password", "database"} <= set(provider.secret_inputs)
    assert provider.raw_inputs["password"] == secret_placeholder(f"{APP}-postgres:password")
    assert provider.raw_inputs["host"] == f"{APP}-postgres.mock"
    assert provider.inputs["sslmode"] == "require"
    extensions = sorted(e.inputs["name"] for e in r.by_type("postgresql:index/extension:Extension"))
    assert extensions == ["citext", "pg_stat_statements"]
    assert r.one("postgresql:index/schema:Schema", f"{db}-schema-reporting").inputs["name"] == "reporting"
    role = r.one("postgresql:index/role:Role", f"{db}-role-reporting_ro")
    assert role.raw_inputs["password"] == secret_placeholder(f"random:{db}-role-reporting_ro")
    assert "password" in role.secret_inputs and role.inputs["login"] is True
    grant = r.one("postgresql:index/grant:Grant", f"{db}-grant-reporting_ro-0")
    assert (grant.inputs["role"], grant.inputs["schema"], grant.inputs["objectType"], grant.inputs["privileges"]) == (
        "reporting_ro",
        "reporting",
        "table",
        ["SELECT"],
    )
    # Every database resource goes through the add-on's provider, not an ambient default one.
    managed = [c for c in r.resources if c.type.startswith("postgresql:index/")]
    assert len(managed) == 5
    assert all(f"pulumi:providers:postgresql::{db}-postgresql" in c.provider for c in managed)
    assert r.outputs["rolePasswords"] == SECRET
