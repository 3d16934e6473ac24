"""`launchplan state move`'s input checks and redaction, and gate records kept in the state
backend: signed, checked, and refused when forged (on a file backend, with the real CLI)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from scripts import gate_records
from scripts.pulumi_cli import BIN, ROOT, offline_env, require_engine
from scripts.state import (
    BackendUrlError,
    Side,
    StackSide,
    compare_outputs,
    compare_resources,
    parse_backend_url,
    redact_url,
    scrub,
    scrub_env,
    state_app,
    tls_warning,
)

PASSWORD = "pa55-w0rd-in-url"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
OTHER = "fedcba9876543210fedcba9876543210fedcba98"
KEY = bytes(range(32))

app = typer.Typer()
app.add_typer(state_app, name="state")  # as the lead registers it in scripts/cli.py
runner = CliRunner()


# --- URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "identity"),
    [
        (
            f"postgres://lp:{PASSWORD}@db.example.com:6543/state?sslmode=verify-full",
            ("postgres", "db.example.com", "6543", "state", "pulumi_state"),
        ),
        ("postgres://lp@127.0.0.1/state?table=team_state", ("postgres", "127.0.0.1", "5432", "state", "team_state")),
        ("postgres://", ("postgres", "", "5432", "", "pulumi_state")),  # everything from PGHOST, PGUSER, ...
        ("s3://team-state?region=eu-west-1", ("s3", "team-state", "", "")),
        ("https://api.pulumi.com", ("https", "api.pulumi.com", "", "")),
    ],
)
def test_valid_backend_urls(url: str, identity: tuple[str, ...]) -> None:
    parsed = parse_backend_url(url)
    assert parsed.identity == identity and parsed.url == url
    assert PASSWORD not in str(parsed) and PASSWORD not in repr(parsed) and PASSWORD not in parsed.redacted


def test_file_urls_are_made_absolute(tmp_path: Path) -> None:
    assert parse_backend_url("file://state", cwd=tmp_path).url == f"file://{tmp_path / 'state'}"
    assert parse_backend_url("file://~/x").url == f"file://{Path.home() / 'x'}"
    assert parse_backend_url(f"file://{tmp_path}/a/../b").identity == ("file", str(tmp_path / "b"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "is empty"),
        (" postgres://h/db", "has spaces"),
        ("db.example.com:5432/state", "has no scheme"),
        (f"postgresql://lp:{PASSWORD}@h/db", "registers the scheme postgres://, not postgresql://"),
        ("ftp://h/x", "unsupported scheme ftp://"),
        (f"postgres://lp:{PASSWORD}@h:99999/db", "port is not a number from 1 to 65535"),
        (f"postgres://lp:{PASSWORD}@h:abc/db", "port is not a number from 1 to 65535"),
        (f"postgres://lp:{PASSWORD}@h/db/extra", "must be one database name"),
        (f"postgres://lp:{PASSWORD}@h/db?table=x;drop table y", "must be a plain SQL identifier"),
        (f"postgres://lp:{PASSWORD}@h/db?table=public.state", "must be a plain SQL identifier"),
        (f"postgres://lp:{PASSWORD}@h/db?sslmode=on", "is not one of disable, allow"),
        ("s3://", "names no bucket"),
        ("https://", "names no host"),
        ("http://pulumi.example.com", "plain http only to a loopback address"),
        ("file://", "names no folder"),
    ],
)
def test_malformed_urls_are_refused_without_showing_the_password(url: str, message: str) -> None:
    with pytest.raises(BackendUrlError) as caught:
        parse_backend_url(url)
    assert message in str(caught.value) and PASSWORD not in str(caught.value)
    result = runner.invoke(app, ["state", "move", "--to", url])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()) and PASSWORD not in result.output


def test_redaction_of_userinfo_and_secret_parameters() -> None:
    assert redact_url(f"postgres://lp:{PASSWORD}@db:5432/state?sslmode=require") == "postgres://***@db:5432/state?sslmode=require"
    assert (
        redact_url(f"postgres://db/state?password={PASSWORD}&sslmode=disable")
        == "postgres://db/state?password=***&sslmode=disable"
    )
    assert redact_url(f"postgres://lp:p@ss{PASSWORD}@db/x") == "postgres://***@db/x"  # an unescaped @ in the password
    assert redact_url("azblob://c?sas_token=abc&x=1") == "azblob://c?sas_token=***&x=1"
    assert redact_url("file:///tmp/state") == "file:///tmp/state"
    # What the PostgreSQL backend prints when it cannot connect: the whole URL, password included.
    message = f'error: unable to open state database "postgres://lp:{PASSWORD}@127.0.0.1:5/db": failed to ping PostgreSQL'
    assert PASSWORD not in scrub(message) and "postgres://***@127.0.0.1:5/db" in scrub(message)
    env = {
        "PULUMI_BACKEND_URL": f"postgres://lp:{PASSWORD}@h/db",
        "PGPASSWORD": "pg-secret-1",
        "PULUMI_CONFIG_PASSPHRASE": "pp-1",
    }
    assert scrub_env(f"{PASSWORD} pg-secret-1 pp-1 fine", env) == "*** *** *** fine"


def test_tls_warning_for_remote_postgres_without_verification() -> None:
    remote = tls_warning(parse_backend_url(f"postgres://lp:{PASSWORD}@db.example.com/state?sslmode=require"))
    assert remote and "verify-full" in remote and PASSWORD not in remote
    assert tls_warning(parse_backend_url("postgres://lp@db.example.com/state")) is not None  # lib/pq's default: require
    assert tls_warning(parse_backend_url("postgres://lp@db.example.com/state?sslmode=verify-full&sslrootcert=system")) is None
    assert tls_warning(parse_backend_url("postgres://lp@127.0.0.1/state?sslmode=disable")) is None
    assert tls_warning(parse_backend_url("file:///tmp/x")) is None


def test_comparisons_name_fields_never_values() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": '"s3cr3t-value"'}
    changed = {**secret, "plaintext": '"other-value"'}
    a = {"deployment": {"resources": [{"urn": "u1", "type": "t", "outputs": {"k": secret}}, {"urn": "u2", "type": "t"}]}}
    b = {"deployment": {"resources": [{"urn": "u1", "type": "t", "outputs": {"k": changed}}], "pending_operations": [{}]}}
    problems = compare_resources(a, b)
    assert problems == ["missing at the destination: u2", "u1: outputs differ", "the destination has pending operations"]
    assert compare_resources(a, a) == []
    assert compare_outputs({"x": 1, "s": "v1"}, {"x": 1, "s": "v2"}) == ["stack output s differs"]
    assert "s3cr3t" not in " ".join(problems)


# --- refusals before anything is written (the real CLI, file backends) ------------------------


def _project(where: Path) -> Path:
    project = where / "project"
    project.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text(
        (ROOT / "Pulumi.yaml").read_text().replace("virtualenv: .venv", f"virtualenv: {ROOT / '.venv'}")
    )
    for stack in ("staging", "production"):
        (project / f"Pulumi.{stack}.yaml").write_text((ROOT / f"Pulumi.{stack}.yaml").read_text())
    return project


def _pulumi(project: Path, backend: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pulumi"), *args], cwd=project, env=offline_env(backend), input=stdin, capture_output=True, text=True
    )


@pytest.fixture
def engine() -> None:
    require_engine()  # fails (never skips) when the engine is not built


def test_move_refuses_bad_requests_and_existing_destinations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: None
) -> None:
    project = _project(tmp_path)
    source, dest = tmp_path / "src", tmp_path / "dst"
    source.mkdir()
    dest.mkdir()
    for backend in (source, dest):
        assert _pulumi(project, backend, "stack", "init", "staging", "--no-select").returncode == 0
    monkeypatch.chdir(project)
    for key, value in offline_env(source).items():
        monkeypatch.setenv(key, value)

    def move(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["state", "move", *args])
        return result.exit_code, " ".join(result.output.split())

    code, text = move("--to", f"file://{source}")
    assert code == 2 and "is the source backend: nothing to move" in text
    code, text = move("--to", f"file://{dest}", "--stack", "prodution")
    assert code == 2 and "no stack file for prodution" in text
    code, text = move("--to", f"file://{dest}", "--secrets-provider", "passphrase")
    assert code == 2 and "--new-passphrase-file" in text
    code, text = move("--to", f"file://{dest}", "--secrets-provider", "rot13")
    assert code == 2 and "is not passphrase, default or a KMS URL" in text
    code, text = move("--to", f"file://{dest}", "--stack", "production")
    assert code == 2 and "none of production exists in the source backend" in text

    before = {p: p.read_bytes() for p in [*source.rglob("*"), *dest.rglob("*")] if p.is_file()}
    code, text = move("--to", f"file://{dest}", "--skip-preview")
    assert code == 2 and "staging already exists in" in text and "refusing to overwrite" in text
    after = {p: p.read_bytes() for p in [*source.rglob("*"), *dest.rglob("*")] if p.is_file()}
    assert after == before  # neither backend was written


def test_move_copies_state_tags_and_gate_records_between_file_backends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: None
) -> None:
    project = _project(tmp_path)
    source, dest = tmp_path / "src", tmp_path / "dst"
    source.mkdir()
    dest.mkdir()
    assert _pulumi(project, source, "stack", "init", "staging", "--no-select").returncode == 0
    assert (
        _pulumi(project, source, "config", "set", "--secret", "--stack", "staging", "heroku:apiKey", "hk-secret-1").returncode
        == 0
    )
    stack_file = (project / "Pulumi.staging.yaml").read_bytes()
    side = Side("source", parse_backend_url(f"file://{source}"), project, str(BIN / "pulumi"), offline_env(source))
    gate_records.record_pass(StackSide(side, "staging"), COMMIT, "summary")
    monkeypatch.chdir(project)
    for key, value in offline_env(source).items():
        monkeypatch.setenv(key, value)

    started = time.perf_counter()
    result = runner.invoke(app, ["state", "move", "--to", f"file://{dest}", "--skip-preview", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [s["stack"] for s in report["stacks"]] == ["staging"] and report["skipped"] == ["production"]
    assert report["stacks"][0]["tags"] == 2 and not report["removed_from_source"] and report["changed_files"] == []
    assert time.perf_counter() - started < 60
    assert (project / "Pulumi.staging.yaml").read_bytes() == stack_file

    moved = Side("destination", parse_backend_url(f"file://{dest}"), project, str(BIN / "pulumi"), offline_env(dest))
    assert gate_records.passed(StackSide(moved, "staging"), COMMIT)  # the record travelled, and its key still decrypts
    assert gate_records.passed(StackSide(side, "staging"), COMMIT)  # the source is untouched
    assert "hk-secret-1" not in result.output

    # Again, removing the source this time: refused, since the destination now has it.
    again = runner.invoke(app, ["state", "move", "--to", f"file://{dest}", "--skip-preview", "--remove-source"])
    assert again.exit_code == 2 and "already exists" in again.output
    assert _pulumi(project, source, "stack", "ls", "--json").stdout.count('"staging"') == 1


# --- gate records: the signature ---------------------------------------------------------


def test_a_record_verifies_only_for_its_key_project_stack_and_commit() -> None:
    value = gate_records.sign(KEY, "launchplan", "staging", COMMIT, "summary", at=1_700_000_000)
    assert len(value) <= 256 and COMMIT in value
    assert gate_records.verify(KEY, "launchplan", "staging", COMMIT, value)
    assert "2023-11-14" in gate_records.verify(KEY, "launchplan", "staging", COMMIT, value).reason

    refused = [
        gate_records.verify(bytes(32), "launchplan", "staging", COMMIT, value),  # another key
        gate_records.verify(KEY, "launchplan", "production", COMMIT, value),  # moved to another stack
        gate_records.verify(KEY, "other-project", "staging", COMMIT, value),
        gate_records.verify(KEY, "launchplan", "staging", OTHER, value),  # another commit
        gate_records.verify(KEY, "launchplan", "staging", COMMIT, value.replace("1700000000", "1800000000")),
        gate_records.verify(KEY, "launchplan", "staging", COMMIT, value[:-2] + ("AA" if value[-2:] != "AA" else "BB")),
        gate_records.verify(KEY, "launchplan", "staging", COMMIT, f"v1.{COMMIT}.1700000000.0000.forged"),
        gate_records.verify(KEY, "launchplan", "staging", COMMIT, '{"passed": true}'),
    ]
    assert not any(refused)
    assert all("refused" in r.reason for r in refused)
    assert "not signed with staging's gate key" in refused[0].reason
    assert "malformed" in refused[-1].reason


def test_dirty_or_unknown_commits_never_count() -> None:
    class Unreachable:
        project, name = Path("/nonexistent"), "staging"

        def cli(self) -> tuple[str, dict[str, str]]:
            raise AssertionError("no CLI call for a dirty commit")

    for commit in (COMMIT + "-dirty", "unknown", ""):
        check = gate_records.passed(Unreachable(), commit)
        assert not check and "uncommitted changes never count" in check.reason
        with pytest.raises(ValueError, match="only recorded for a clean commit"):
            gate_records.record_pass(Unreachable(), commit)
        assert gate_records.record(Unreachable(), commit, True) is None


# --- gate records in a backend (real CLI, file backend) -----------------------------------------


@pytest.fixture
def staging(tmp_path: Path, engine: None) -> StackSide:
    project = _project(tmp_path)
    backend = tmp_path / "state"
    backend.mkdir()
    assert _pulumi(project, backend, "stack", "init", "staging", "--no-select").returncode == 0
    return StackSide(
        Side("backend", parse_backend_url(f"file://{backend}"), project, str(BIN / "pulumi"), offline_env(backend)), "staging"
    )


def test_a_recorded_pass_is_seen_and_forgeries_are_refused(staging: StackSide, tmp_path: Path) -> None:
    project, side = staging.project, staging.side
    assert not gate_records.passed(staging, COMMIT)
    # A record file on disk, as the gate wrote before, proves nothing.
    records = project / ".launchplan" / "gate"
    records.mkdir(parents=True)
    (records / f"{COMMIT}-staging.json").write_text(json.dumps({"stack": "staging", "commit": COMMIT, "passed": True}))
    assert "no passing gate of 'staging' is recorded" in gate_records.passed(staging, COMMIT).reason

    tag = gate_records.record_pass(staging, COMMIT, "gate summary")
    assert tag == "lp-gate:" + COMMIT[:32]
    assert gate_records.passed(staging, COMMIT)
    assert not gate_records.passed(staging, OTHER)
    current = gate_records.tags(staging)
    assert gate_records.KEY_TAG in current
    assert all(len(k) <= 40 and len(v) <= 256 for k, v in current.items())

    # Someone with access to the backend (not to the secrets provider) writes tags by hand:
    forged = gate_records.sign(bytes(32), "launchplan", "staging", OTHER)  # signed with a key they made up
    side.run("stack", "tag", "set", gate_records.record_tag(OTHER), forged, "--stack", "staging")
    check = gate_records.passed(staging, OTHER)
    assert not check and "not signed with staging's gate key" in check.reason
    # ... or copies the genuine record of COMMIT under OTHER's tag:
    side.run("stack", "tag", "set", gate_records.record_tag(OTHER), current[tag], "--stack", "staging")
    assert not gate_records.passed(staging, OTHER)
    # ... or swaps the key for one they encrypted under another passphrase: it does not decrypt.
    foreign = Side("x", side.url, project, side.binary, side.base_env, passphrase="not-the-stack-passphrase")
    with pytest.raises(gate_records.GateRecordError):
        gate_records.wrap_key(StackSide(foreign, "staging"), gate_records.secrets_header(staging), "00" * 32)
    fake_key = gate_records.wrap_key(StackSide(foreign, "staging"), {"encryptionsalt": _other_salt(tmp_path, project)}, "11" * 32)
    side.run("stack", "tag", "set", gate_records.KEY_TAG, fake_key, "--stack", "staging")
    forged_with_their_key = gate_records.sign(bytes.fromhex("11" * 32), "launchplan", "staging", OTHER)
    side.run("stack", "tag", "set", gate_records.record_tag(OTHER), forged_with_their_key, "--stack", "staging")
    check = gate_records.passed(staging, OTHER)
    assert not check and "cannot decrypt the gate key" in check.reason
    assert not gate_records.passed(staging, COMMIT)  # fails closed: the genuine record no longer verifies either


def _other_salt(tmp_path: Path, project: Path) -> str:
    """The encryption salt of a stack someone else made with their own passphrase."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "Pulumi.yaml").write_text((project / "Pulumi.yaml").read_text())
    env = offline_env(theirs, PULUMI_CONFIG_PASSPHRASE="not-the-stack-passphrase")
    subprocess.run([str(BIN / "pulumi"), "stack", "init", "x"], cwd=theirs, env=env, capture_output=True, check=True)
    import yaml

    return str(yaml.safe_load((theirs / "Pulumi.x.yaml").read_text())["encryptionsalt"])


def test_the_checker_needs_the_stacks_passphrase(staging: StackSide) -> None:
    gate_records.record_pass(staging, COMMIT)
    wrong = StackSide(
        Side("x", staging.side.url, staging.project, staging.side.binary, staging.side.base_env, passphrase="guess"), "staging"
    )
    check = gate_records.passed(wrong, COMMIT)
    assert not check and "cannot decrypt the gate key" in check.reason and "guess" not in check.reason


def test_a_failing_gate_revokes_and_old_records_are_pruned(staging: StackSide, monkeypatch: pytest.MonkeyPatch) -> None:
    gate_records.record(staging, COMMIT, True, "first")
    assert gate_records.passed(staging, COMMIT)
    gate_records.record(staging, COMMIT, False)
    assert not gate_records.passed(staging, COMMIT)

    monkeypatch.setattr(gate_records, "KEEP", 3)
    commits = [str(i) * 40 for i in range(1, 6)]
    for n, commit in enumerate(commits):
        monkeypatch.setattr(gate_records.time, "time", lambda n=n: 1_700_000_000.0 + n)
        gate_records.record_pass(staging, commit)
    kept = sorted(k for k in gate_records.tags(staging) if k.startswith(gate_records.RECORD_PREFIX))
    assert kept == sorted(gate_records.record_tag(c) for c in commits[-3:])


def test_the_stacks_own_stack_object_works_as_a_record_holder(staging: StackSide, monkeypatch: pytest.MonkeyPatch) -> None:
    """What scripts/gate.py passes: scripts.stacks.Stack, running the CLI of the user's environment."""
    from scripts.stacks import Stack

    for key, value in staging.side.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LAUNCHPLAN_PULUMI", raising=False)
    stack = Stack(staging.project, "staging")
    gate_records.record_pass(stack, COMMIT, "summary")
    assert gate_records.passed(stack, COMMIT) and gate_records.passed(staging, COMMIT)
