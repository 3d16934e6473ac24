"""launchplan's own pulumi-resource-postgresql (tools/engine/providers/launchplan) on the real
engine against the embedded PostgreSQL: its schema agrees with the pinned pulumi-postgresql SDK,
its Go tests pass against a real server, and Extension / Schema / Role / Grant go through create,
no-change preview, in-place update, replacement where upstream replaces, refresh of an
out-of-band change, import and destroy, with no password in plain text anywhere."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sandbox.postgres import EmbeddedPostgres
from scripts.pulumi_cli import BIN, HOME, ROOT
from tests.support.engine import Workspace, project_yaml

pytestmark = pytest.mark.integration

MODULE = ROOT / "tools" / "engine" / "providers" / "launchplan"
PLUGIN = BIN / "pulumi-resource-postgresql"
PROGRAM = ROOT / "tests" / "integration" / "programs" / "postgresql" / "__main__.py"
SDK = ROOT / ".venv" / "lib" / "python3.11" / "site-packages" / "pulumi_postgresql"
TOKENS = [
    "postgresql:index/extension:Extension",
    "postgresql:index/schema:Schema",
    "postgresql:index/role:Role",
    "postgresql:index/grant:Grant",
]
ROLE_PASSWORD = "role-pw-4a1c9e07d2b8f3a6"  # what the stack sets as a secret; must appear nowhere in plain text


def _check_sdk_schema():
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_sdk_schema", ROOT / "tools" / "engine" / "check_sdk_schema.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def plugin_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    ws = Workspace(tmp_path_factory.mktemp("schema"), {"Pulumi.yaml": project_yaml("pgschema")})
    return json.loads(ws.pulumi("package", "get-schema", str(PLUGIN)).stdout)


# ------------------------------------------------------------------ conformance ----


def test_plugin_is_ours_at_the_sdk_version(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, {"Pulumi.yaml": project_yaml("pgversion")})
    rows = {p["name"]: p["version"] for p in json.loads(ws.pulumi("plugin", "ls", "--json").stdout)}
    assert rows["postgresql"] == f"{version('pulumi-postgresql')}+launchplan"
    assert (HOME / "plugins" / f"resource-postgresql-v{version('pulumi-postgresql')}+launchplan").is_dir()
    out = subprocess.run([str(PLUGIN), "-version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"{version('pulumi-postgresql')}+launchplan"


def test_schema_agrees_with_the_pinned_sdk(plugin_schema: dict[str, Any]) -> None:
    check = _check_sdk_schema()
    problems, checked = check.deep_check(plugin_schema, SDK, TOKENS, provider=True)
    assert problems == [], "\n".join(problems)
    assert checked == [*TOKENS, "provider"]
    # What the program relies on, spelled out (the deep check compares all of it with the SDK).
    role = plugin_schema["resources"]["postgresql:index/role:Role"]
    assert role["inputProperties"]["password"].get("secret") and role["properties"]["password"].get("secret")
    assert plugin_schema["provider"]["inputProperties"]["password"].get("secret")
    assert plugin_schema["provider"]["inputProperties"]["port"]["type"] == "integer"
    assert plugin_schema["provider"]["inputProperties"]["superuser"]["type"] == "boolean"
    grant = plugin_schema["resources"]["postgresql:index/grant:Grant"]
    assert sorted(grant["requiredInputs"]) == ["database", "objectType", "privileges", "role"]


def test_the_deep_check_catches_differences(plugin_schema: dict[str, Any]) -> None:
    """A negative control: the checker is not vacuous."""
    check = _check_sdk_schema()
    broken = copy.deepcopy(plugin_schema)
    role = broken["resources"]["postgresql:index/role:Role"]
    role["inputProperties"]["password"].pop("secret")
    broken["resources"]["postgresql:index/grant:Grant"]["inputProperties"]["privileges"] = {"type": "string"}
    del broken["resources"]["postgresql:index/extension:Extension"]["inputProperties"]["createCascade"]
    broken["provider"]["inputProperties"]["port"]["type"] = "string"
    problems, _ = check.deep_check(broken, SDK, TOKENS, provider=True)
    text = "\n".join(problems)
    assert "Role: input password: secret" in text
    assert "Grant: input privileges" in text
    assert "Extension: input createCascade is in the SDK, not in the schema" in text
    assert "provider: input port" in text


# ------------------------------------------------------------------- Go tests ----


def test_go_tests_pass_against_the_embedded_postgres(pg: EmbeddedPostgres) -> None:
    env = {**os.environ, "LAUNCHPLAN_TEST_PG_DSN": pg.superuser_url + "?sslmode=disable", "GOFLAGS": "-mod=readonly"}
    proc = subprocess.run(
        ["go", "test", "-p", "1", "-count=1", "-v", "./postgresql/"],
        cwd=MODULE, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "--- SKIP" not in out, out
    for name in ["TestExtensionLifecycle", "TestSchemaLifecycle", "TestRoleNeedsCreateRoleOnHerokuLikeCredential",
                 "TestRoleLifecycleSuperuser", "TestRoleWithCreateRoleNotSuperuser", "TestGrantLifecycle",
                 "TestDiffSemanticsFollowUpstream", "TestCheckDefaultsAndAutoName"]:  # fmt: skip
        assert f"--- PASS: {name}" in out, f"{name} did not run and pass:\n{out[-3000:]}"


# ------------------------------------------------------------------- lifecycle ----


class Stack:
    def __init__(self, ws: Workspace, pg: EmbeddedPostgres, db: str, url: str):
        self.ws, self.pg, self.db, self.url = ws, pg, db, url

    def spec(self, spec: dict[str, Any]) -> None:
        self.ws.pulumi("config", "set", "spec", json.dumps(spec))

    def ops(self) -> dict[str, set[str]]:
        """Resource name -> the operations `pulumi preview --json` plans for it."""
        plan = json.loads(self.ws.pulumi("preview", "--json", "--non-interactive").stdout)
        out: dict[str, set[str]] = {}
        for step in plan.get("steps", []):
            out.setdefault(step["urn"].rsplit("::", 1)[-1], set()).add(step["op"])
        return {k: v for k, v in out.items() if v != {"same"}}

    def up(self) -> list[tuple[str, str]]:
        """Runs `pulumi up`; answers its steps in order as (resource name, op)."""
        out = self.ws.pulumi("up", "--yes", "--skip-preview", "--non-interactive", "--json").stdout
        steps = []
        for line in out.splitlines():  # one engine event per line
            event = json.loads(line) if line.startswith("{") else {}
            meta = event.get("resourcePreEvent", {}).get("metadata")
            if meta and meta["op"] != "same":
                steps.append((meta["urn"].rsplit("::", 1)[-1], meta["op"]))
        return steps

    def sql(self, query: str) -> list[list[str]]:
        return self.pg.run_sql(query, database=self.db)

    def one(self, query: str) -> str:
        rows = self.sql(query)
        return rows[0][0] if rows else ""


@pytest.fixture
def stack(pg: EmbeddedPostgres, tmp_path: Path) -> Iterator[Stack]:
    """A database whose owner may create roles (superuser=False, as launchplan declares it)."""
    db = "pgprov_" + os.urandom(3).hex()
    url = pg.create_database(db)
    owner = pg.owner(db)
    pg.run_sql(f"ALTER ROLE {owner} CREATEROLE")
    ws = Workspace(tmp_path, {"Pulumi.yaml": project_yaml("pgprov"), "__main__.py": PROGRAM})
    ws.pulumi("stack", "init", "dev", "--secrets-provider", "passphrase")
    ws.pulumi("config", "set", "--secret", "databaseUrl", url)
    ws.pulumi("config", "set", "--secret", "rolePassword", ROLE_PASSWORD)
    st = Stack(ws, pg, db, url)
    yield st
    ws.pulumi("destroy", "--yes", "--skip-preview", "--non-interactive", check=False)
    for role in ("pgprov_reader", "pgprov_writer", "pgprov_imported"):
        pg.run_sql(f"DROP ROLE IF EXISTS {role}")
    pg.drop_database(db)


def base_spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "extensions": {"text": {"name": "citext", "version": "1.6"}},
        "schemas": {"app": "app"},
        "roles": {"reader": {"name": "pgprov_reader", "connectionLimit": 2}},
        "grants": [
            {"key": "usage", "role": "reader", "schema": "app", "objectType": "schema", "privileges": ["USAGE"]},
            {"key": "connect", "role": "reader", "objectType": "database", "privileges": ["CONNECT"]},
        ],
    }
    spec.update(changes)
    return spec


def test_lifecycle_on_the_real_engine(stack: Stack) -> None:
    pg, ws = stack.pg, stack.ws
    # --- create
    stack.spec(base_spec())
    stack.up()
    assert stack.one("SELECT extversion FROM pg_extension WHERE extname = 'citext'") == "1.6"
    assert stack.one("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'app'") == pg.owner(stack.db)
    assert (
        stack.one("SELECT rolconnlimit::text || ' ' || rolcanlogin::text FROM pg_roles WHERE rolname = 'pgprov_reader'")
        == "2 true"
    )
    assert stack.one("SELECT has_schema_privilege('pgprov_reader', 'app', 'USAGE')::text") == "true"
    assert stack.one(f"SELECT has_database_privilege('pgprov_reader', '{stack.db}', 'CONNECT')::text") == "true"
    reader_url = f"postgres://pgprov_reader:{ROLE_PASSWORD}@127.0.0.1:{pg.port}/{stack.db}"
    assert pg.run_sql("SELECT current_user", url=reader_url) == [["pgprov_reader"]], "the role logs in with its password"
    role_oid = stack.one("SELECT oid::text FROM pg_roles WHERE rolname = 'pgprov_reader'")
    schema_oid = stack.one("SELECT oid::text FROM pg_namespace WHERE nspname = 'app'")

    # --- nothing changed: preview makes no change (and a second up writes nothing)
    ws.pulumi("preview", "--expect-no-changes", "--non-interactive")

    # --- in place: role attribute, grant privileges, extension version
    stack.spec(base_spec(
        extensions={"text": {"name": "citext", "version": "1.8"}},
        roles={"reader": {"name": "pgprov_reader", "connectionLimit": 5}},
        grants=[
            {"key": "usage", "role": "reader", "schema": "app", "objectType": "schema", "privileges": ["CREATE", "USAGE"]},
            {"key": "connect", "role": "reader", "objectType": "database", "privileges": ["CONNECT"]},
        ],
    ))  # fmt: skip
    assert stack.ops() == {"ext-text": {"update"}, "role-reader": {"update"}, "grant-usage": {"update"}}
    stack.up()
    assert stack.one("SELECT extversion FROM pg_extension WHERE extname = 'citext'") == "1.8"
    assert stack.one("SELECT oid::text || ' ' || rolconnlimit FROM pg_roles WHERE rolname = 'pgprov_reader'") == f"{role_oid} 5"
    assert stack.one("SELECT has_schema_privilege('pgprov_reader', 'app', 'CREATE')::text") == "true"
    ws.pulumi("preview", "--expect-no-changes", "--non-interactive")

    # --- a schema's new name renames it in place; the grant on it is replaced (delete first, as upstream)
    renamed = base_spec(
        extensions={"text": {"name": "citext", "version": "1.8"}},
        schemas={"app": "app2"},
        roles={"reader": {"name": "pgprov_reader", "connectionLimit": 5}},
        grants=[
            {"key": "usage", "role": "reader", "schema": "app", "objectType": "schema", "privileges": ["CREATE", "USAGE"]},
            {"key": "connect", "role": "reader", "objectType": "database", "privileges": ["CONNECT"]},
        ],
    )  # fmt: skip
    stack.spec(renamed)
    assert stack.ops() == {"schema-app": {"update"}, "grant-usage": {"replace"}}
    steps = [op for name, op in stack.up() if name == "grant-usage"]
    assert steps.index("delete-replaced") < steps.index("create-replacement"), steps
    assert stack.one("SELECT oid::text FROM pg_namespace WHERE nspname = 'app2'") == schema_oid
    assert stack.one("SELECT has_schema_privilege('pgprov_reader', 'app2', 'CREATE')::text") == "true"

    # --- an extension's new name replaces it
    replaced = copy.deepcopy(renamed)
    replaced["extensions"] = {"text": {"name": "hstore"}}
    stack.spec(replaced)
    assert stack.ops() == {"ext-text": {"replace"}}
    stack.up()
    assert stack.sql("SELECT extname FROM pg_extension WHERE extname IN ('citext', 'hstore')") == [["hstore"]]

    # --- refresh sees a privilege revoked by hand; up grants it again
    pg.run_sql("REVOKE CREATE ON SCHEMA app2 FROM pgprov_reader", database=stack.db)
    ws.pulumi("refresh", "--yes", "--skip-preview", "--non-interactive")
    state = json.loads(ws.pulumi("stack", "export").stdout)
    grant = next(r for r in state["deployment"]["resources"] if r["urn"].endswith("::grant-usage"))
    assert grant["outputs"]["privileges"] == ["USAGE"], grant["outputs"]
    assert stack.ops() == {"grant-usage": {"update"}}
    stack.up()
    assert stack.one("SELECT has_schema_privilege('pgprov_reader', 'app2', 'CREATE')::text") == "true"
    ws.pulumi("preview", "--expect-no-changes", "--non-interactive")

    # --- import: a role and a schema made by hand (upstream ID formats: name, database.schema)
    # (made with the stack's credential, which thereby administers it, as roles it made itself)
    pg.run_sql("CREATE ROLE pgprov_imported NOLOGIN CONNECTION LIMIT 3", url=stack.url)
    pg.run_sql(f"CREATE SCHEMA imp AUTHORIZATION {pg.owner(stack.db)}", database=stack.db)
    provider = "pg=urn:pulumi:dev::pgprov::pulumi:providers:postgresql::pg"
    common = ["--provider", provider, "--yes", "--non-interactive", "--generate-code=false", "--protect=false"]
    ws.pulumi("import", "postgresql:index/role:Role", "role-imported", "pgprov_imported", *common)
    ws.pulumi("import", "postgresql:index/schema:Schema", "schema-imp", f"{stack.db}.imp", *common)
    failed = ws.pulumi("import", "postgresql:index/grant:Grant", "grant-imp", "x", *common, check=False)
    assert failed.returncode != 0 and "cannot be imported" in failed.stdout + failed.stderr
    resources = {
        r["urn"].rsplit("::", 1)[-1]: r for r in json.loads(ws.pulumi("stack", "export").stdout)["deployment"]["resources"]
    }
    assert resources["role-imported"]["outputs"]["connectionLimit"] == 3
    assert resources["role-imported"]["outputs"]["login"] is False
    assert resources["schema-imp"]["outputs"]["owner"] == pg.owner(stack.db)
    adopted = copy.deepcopy(replaced)
    adopted["roles"]["imported"] = {"name": "pgprov_imported", "login": False, "connectionLimit": 3, "password": False}
    adopted["schemas"]["imp"] = "imp"
    stack.spec(adopted)
    ws.pulumi("preview", "--expect-no-changes", "--non-interactive")

    # --- destroy removes everything it made or adopted
    ws.pulumi("destroy", "--yes", "--skip-preview", "--non-interactive")
    assert stack.sql("SELECT rolname FROM pg_roles WHERE rolname LIKE 'pgprov\\_%'") == []
    assert stack.sql("SELECT nspname FROM pg_namespace WHERE nspname IN ('app', 'app2', 'imp')") == []
    assert stack.sql("SELECT extname FROM pg_extension WHERE extname IN ('citext', 'hstore')") == []

    # --- no password in plain text: state, every command's output, the server's log
    db_password = urlsplit(stack.url).password
    assert db_password
    texts = {"state": ws.state_text(), "outputs": "\n".join(ws.outputs), "postgres.log": pg.log_file.read_text()}
    for where, text in texts.items():
        assert ROLE_PASSWORD not in text, f"the role's password is in {where}"
        assert db_password not in text, f"the provider's password is in {where}"


def test_heroku_like_credential_cannot_create_roles(pg: EmbeddedPostgres, tmp_path: Path) -> None:
    """Heroku's default credential owns its database but has no CREATEROLE: extensions and schemas
    work, a Role fails naming the role and the fix, and its password appears nowhere."""
    db = "pgheroku_" + os.urandom(3).hex()
    url = pg.create_database(db)
    ws = Workspace(tmp_path, {"Pulumi.yaml": project_yaml("pgheroku"), "__main__.py": PROGRAM})
    ws.pulumi("stack", "init", "dev", "--secrets-provider", "passphrase")
    ws.pulumi("config", "set", "--secret", "databaseUrl", url)
    ws.pulumi("config", "set", "--secret", "rolePassword", ROLE_PASSWORD)
    try:
        ws.pulumi("config", "set", "spec", json.dumps({
            "extensions": {"trgm": {"name": "pg_trgm"}}, "schemas": {"app": "app"},
            "roles": {"reader": {"name": "pgheroku_reader"}},
        }))  # fmt: skip
        failed = ws.pulumi("up", "--yes", "--skip-preview", "--non-interactive", check=False)
        out = failed.stdout + failed.stderr
        assert failed.returncode != 0
        assert 'postgresql.Role "role-reader"' in out and '"pgheroku_reader"' in out, out
        assert "CREATEROLE" in out and "heroku pg:credentials:create" in out, out
        assert pg.run_sql("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'", database=db) == [["pg_trgm"]]
        assert pg.run_sql("SELECT nspname FROM pg_namespace WHERE nspname = 'app'", database=db) == [["app"]]
        assert pg.run_sql("SELECT rolname FROM pg_roles WHERE rolname = 'pgheroku_reader'") == []
        log = pg.log_file.read_text()
        # The server logs the failing statement: with a SCRAM verifier, never the password.
        assert 'CREATE ROLE "pgheroku_reader" WITH ENCRYPTED PASSWORD \'SCRAM-SHA-256$4096:' in log
        for where, text in {"outputs": "\n".join(ws.outputs), "state": ws.state_text(), "postgres.log": log}.items():
            assert ROLE_PASSWORD not in text, f"the role's password is in {where}"
    finally:
        ws.pulumi("destroy", "--yes", "--skip-preview", "--non-interactive", check=False)
        pg.drop_database(db)
