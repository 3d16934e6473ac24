"""Gate records kept in the state backend, with the stack they are about.

`launchplan gate staging` passing for commit C is recorded as a tag on the staging
stack (`pulumi stack tag set`), so the production gate on any runner or laptop that
uses the same backend sees it; nothing depends on a file on one disk.

A record is `v1.<commit>.<unix time>.<summary digest>.<mac>` in the tag
`lp-gate:<first 32 hex of the commit>`; the MAC is HMAC-SHA256 over project, stack,
commit, verdict, time and digest, keyed by 32 random bytes that exist only
encrypted by the stack's own secrets provider (the passphrase, a KMS key, or
Pulumi Cloud): their ciphertext is the tag `launchplan-gate-key`, decrypted through
`pulumi config get --config-file` with the stack's secrets settings (taken from
Pulumi.<stack>.yaml, else from the state). So:

- editing a local file, or a CI artifact, proves nothing: no record is read from disk;
- someone who can write the backend (set tags) but cannot use the stack's secrets
  provider cannot mint a record, nor replace the key with one of their own (its
  ciphertext must decrypt with the stack's provider), nor move a record to another
  commit or stack (all are under the MAC); deleting records only blocks production
  (fails closed);
- someone who can both write the backend and decrypt the stack's secrets can mint a
  record. They can also run `pulumi up --stack production` directly, which no gate
  stops: the gate is a guard rail for a team's pipeline, not a boundary against the
  holders of its credentials.

`passed()` never raises for a missing or bad record: it answers a falsy Check with the
reason, so the gate blocks and says why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

VERSION = "v1"
KEY_TAG = "launchplan-gate-key"
RECORD_PREFIX = "lp-gate:"  # + 32 hex of the commit = 40 characters, Pulumi's limit for a tag name
CONFIG_KEY = "launchplan-gate:key"  # only ever in a temporary config file, never in Pulumi.<stack>.yaml
KEEP = 20  # newest records kept per stack; older ones are pruned when a new one is written
SECRETS_FIELDS = ("secretsprovider", "encryptedkey", "encryptionsalt")
TAG_VALUE_MAX = 256


class StackLike(Protocol):
    """What gate records need of a stack (scripts.stacks.Stack has it)."""

    @property
    def project(self) -> Path: ...

    @property
    def name(self) -> str: ...

    def cli(self) -> tuple[str, dict[str, str]]: ...


class GateRecordError(RuntimeError):
    """The backend could not be read or written: nothing was recorded."""


@dataclass(frozen=True)
class Check:
    """Truthy when the record holds; `reason` says why not (or what was verified)."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


# --- the record itself (pure functions) -----------------------------------------------


def record_tag(commit: str) -> str:
    return RECORD_PREFIX + commit[:32]


def clean_commit(commit: str) -> bool:
    return commit not in ("", "unknown") and not commit.endswith("-dirty") and all(c in "0123456789abcdef" for c in commit)


def summary_digest(summary: str) -> str:
    return hashlib.sha256(summary.encode()).hexdigest()[:16]


def _mac(key: bytes, project: str, stack: str, commit: str, at: int, digest: str) -> str:
    message = "\n".join(["launchplan-gate-record", VERSION, project, stack, commit, "pass", str(at), digest])
    return base64.urlsafe_b64encode(hmac.new(key, message.encode(), hashlib.sha256).digest()).decode().rstrip("=")


def sign(key: bytes, project: str, stack: str, commit: str, summary: str = "", at: int | None = None) -> str:
    """The tag value recording that `stack` passed its gate for `commit`."""
    at = int(time.time()) if at is None else at
    digest = summary_digest(summary)
    value = ".".join([VERSION, commit, str(at), digest, _mac(key, project, stack, commit, at, digest)])
    assert len(value) <= TAG_VALUE_MAX
    return value


def verify(key: bytes, project: str, stack: str, commit: str, value: str) -> Check:
    """Whether `value` is a record, signed with `key`, of `stack` passing for exactly `commit`."""
    parts = value.split(".")
    if len(parts) != 5 or parts[0] != VERSION or not parts[2].isdigit():
        return Check(False, f"the gate record of '{stack}' for commit {commit} is malformed (edited by hand?): refused")
    _, recorded, at, digest, mac = parts
    if recorded != commit:
        return Check(False, f"the gate record of '{stack}' under commit {commit[:12]}'s tag is for commit {recorded}: refused")
    expected = _mac(key, project, stack, commit, int(at), digest)
    if not hmac.compare_digest(expected, mac):
        return Check(
            False,
            f"the gate record of '{stack}' for commit {commit} is not signed with {stack}'s gate key "
            "(written by hand, copied from another stack, or the key was replaced): refused",
        )
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(at)))
    return Check(True, f"'{stack}' passed its gate for commit {commit} at {when} (signed record in the state backend)")


# --- the backend ----------------------------------------------------------------------


def _run(stack: StackLike, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    binary, env = stack.cli()
    return subprocess.run(
        [binary, *args, "--stack", stack.name],
        cwd=stack.project,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _checked(stack: StackLike, *args: str, stdin: str | None = None) -> str:
    proc = _run(stack, *args, stdin=stdin)
    if proc.returncode != 0:
        from scripts.state import scrub_env

        detail = scrub_env(proc.stderr.strip() or proc.stdout.strip(), stack.cli()[1])
        raise GateRecordError(f"`pulumi {' '.join(args[:3])} --stack {stack.name}` failed: {detail}")
    return proc.stdout


def project_name(stack: StackLike) -> str:
    doc = yaml.safe_load((stack.project / "Pulumi.yaml").read_text()) or {}
    return str(doc.get("name", ""))


def tags(stack: StackLike) -> dict[str, str]:
    return {str(k): str(v) for k, v in json.loads(_checked(stack, "stack", "tag", "ls", "--json") or "{}").items()}


def secrets_header(stack: StackLike) -> dict[str, str]:
    """The stack's secrets-provider settings, as a config file holds them: from
    Pulumi.<stack>.yaml, else from the state's `secrets_providers`."""
    path = stack.project / f"Pulumi.{stack.name}.yaml"
    doc = (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}
    header = {k: str(doc[k]) for k in SECRETS_FIELDS if doc.get(k)}
    if header:
        return header
    provider = json.loads(_checked(stack, "stack", "export")).get("deployment", {}).get("secrets_providers") or {}
    state = provider.get("state") or {}
    if provider.get("type") == "passphrase" and state.get("salt"):
        return {"encryptionsalt": state["salt"]}
    if provider.get("type") == "cloud" and state.get("url"):
        return {"secretsprovider": state["url"], "encryptedkey": state.get("encryptedkey", "")}
    if provider.get("type") == "service":
        return {}  # Pulumi Cloud encrypts per stack by itself
    raise GateRecordError(
        f"stack {stack.name} has no secrets provider yet, so it cannot hold a gate key: "
        f"run `pulumi stack change-secrets-provider --stack {stack.name} passphrase` (or a KMS URL) first"
    )


def wrap_key(stack: StackLike, header: dict[str, str], key_hex: str) -> str:
    """The key's ciphertext under the stack's secrets provider (the key goes through stdin only)."""
    with tempfile.TemporaryDirectory(prefix="launchplan-gate-") as tmp:
        config = Path(tmp) / "gate.yaml"
        config.write_text(yaml.safe_dump(dict(header)))
        _checked(stack, "config", "set", "--secret", "--config-file", str(config), CONFIG_KEY, stdin=key_hex)
        written = yaml.safe_load(config.read_text()) or {}
    if any(str(written.get(k) or "") != str(header.get(k) or "") for k in SECRETS_FIELDS if header.get(k)):
        raise GateRecordError(f"the secrets provider of stack {stack.name} could not be used as configured: nothing recorded")
    ciphertext = ((written.get("config") or {}).get(CONFIG_KEY) or {}).get("secure")
    if not ciphertext or len(ciphertext) > TAG_VALUE_MAX:
        raise GateRecordError(f"the secrets provider of stack {stack.name} gave no usable ciphertext for the gate key")
    return str(ciphertext)


def unwrap_key(stack: StackLike, header: dict[str, str], ciphertext: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="launchplan-gate-") as tmp:
        config = Path(tmp) / "gate.yaml"
        config.write_text(yaml.safe_dump({**header, "config": {CONFIG_KEY: {"secure": ciphertext}}}))
        value = json.loads(_checked(stack, "config", "get", "--config-file", str(config), CONFIG_KEY, "--json"))
    try:
        key = bytes.fromhex(str(value.get("value", "")))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise GateRecordError(f"the gate key of stack {stack.name} is not a launchplan gate key")
    return key


def _key(stack: StackLike, current: dict[str, str], create: bool) -> bytes | None:
    header = secrets_header(stack)
    if KEY_TAG in current:
        try:
            return unwrap_key(stack, header, current[KEY_TAG])
        except GateRecordError as exc:
            raise GateRecordError(
                f"{exc}. If {stack.name}'s secrets provider changed on purpose, start a new key with "
                f"`pulumi stack tag rm {KEY_TAG} --stack {stack.name}` (earlier records then no longer count)"
            ) from None
    if not create:
        return None
    key_hex = secrets.token_hex(32)
    _checked(stack, "stack", "tag", "set", KEY_TAG, wrap_key(stack, header, key_hex))
    # Two first records at once: the tag written last wins, and everyone uses that one.
    return unwrap_key(stack, header, tags(stack)[KEY_TAG])


# --- what the gate calls --------------------------------------------------------------


def passed(stack: StackLike, commit: str) -> Check:
    """Whether a signed record says `stack` passed its gate for exactly `commit`."""
    if not clean_commit(commit):
        return Check(False, f"commit {commit} is not a clean commit (uncommitted changes never count)")
    try:
        current = tags(stack)
    except GateRecordError as exc:
        return Check(False, f"cannot read the gate records of '{stack.name}' from the state backend: {exc}")
    value = current.get(record_tag(commit))
    if value is None:
        return Check(
            False,
            f"no passing gate of '{stack.name}' is recorded for commit {commit} in the state backend: "
            f"run `launchplan gate {stack.name}` first",
        )
    try:
        key = _key(stack, current, create=False)
    except GateRecordError as exc:
        return Check(False, f"cannot decrypt the gate key of '{stack.name}' with its secrets provider: {exc}")
    if key is None:
        return Check(False, f"'{stack.name}' has a gate record for {commit} but no gate key: not written by launchplan, refused")
    return verify(key, project_name(stack), stack.name, commit, value)


def record_pass(stack: StackLike, commit: str, summary: str = "") -> str:
    """Record that `stack` passed its gate for `commit`; answers the tag written.
    Raises ValueError for a commit with uncommitted changes, GateRecordError when the backend fails."""
    if not clean_commit(commit):
        raise ValueError(
            f"commit {commit} has uncommitted changes (or is unknown): a gate pass is only recorded for a clean commit"
        )
    project = project_name(stack)
    for _attempt in range(3):
        current = tags(stack)
        key = _key(stack, current, create=True)
        assert key is not None
        name = record_tag(commit)
        _checked(stack, "stack", "tag", "set", name, sign(key, project, stack.name, commit, summary))
        _prune(stack, keep=name)
        # A tag write replaces the whole tag set: a concurrent writer may have dropped ours. Read back.
        if passed(stack, commit):
            return name
    raise GateRecordError(
        f"the gate record of '{stack.name}' for {commit} did not persist after 3 attempts (concurrent writers?)"
    )


def revoke(stack: StackLike, commit: str) -> bool:
    """Drop the record of `commit` (its gate failed on a later run); answers whether one existed."""
    name = record_tag(commit)
    if clean_commit(commit) and name in tags(stack):
        _checked(stack, "stack", "tag", "rm", name)
        return True
    return False


def record(stack: StackLike, commit: str, passed_gate: bool, summary: str = "") -> str | None:
    """What `launchplan gate` calls after every verdict: a pass of a clean commit is recorded,
    a failure removes that commit's earlier pass; a dirty commit records nothing."""
    if not clean_commit(commit):
        return None
    if passed_gate:
        return record_pass(stack, commit, summary)
    revoke(stack, commit)
    return None


def _prune(stack: StackLike, keep: str) -> None:
    records = []
    for name, value in tags(stack).items():
        if name.startswith(RECORD_PREFIX) and name != keep:
            parts = value.split(".")
            at = int(parts[2]) if len(parts) == 5 and parts[2].isdigit() else 0
            records.append((at, name))
    for _, name in sorted(records)[: max(0, len(records) - (KEEP - 1))]:
        _checked(stack, "stack", "tag", "rm", name)
