"""`launchplan state move --to URL`: every stack of this project from one state backend to another.

For each stack with a Pulumi.<stack>.yaml that exists in the source backend:
export it (ciphertexts stay ciphertexts; nothing is written to disk), create it at the
destination and import it there, copy its tags (gate records included), and, when asked,
re-encrypt it with `pulumi stack change-secrets-provider`. Then verify at the
destination, against the source: the same resources (inputs and outputs, secrets
compared decrypted, in memory), the same stack outputs, and `pulumi preview
--expect-no-changes`. A destination stack that already exists is never overwritten.
The source is not written at all; once every stack is verified it is checked to be
unchanged (nobody ran an update meanwhile), and only then, with --remove-source, are
the moved stacks removed from it (`pulumi stack rm --force --preserve-config`:
state only, the resources stay and the stack files stay). Any failure removes what
this run created at the destination and puts back the stack files.

URLs are never printed with their user information or password-like parameters,
and neither are the CLI's own messages (the PostgreSQL backend puts the whole URL
into its errors).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional
from urllib.parse import parse_qsl, unquote, urlsplit

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from scripts.console import EXIT_INVALID, err, fail, out
from scripts.rehearsal import team_root

EXIT_FAILED = 1
SCHEMES = ("file", "postgres", "s3", "gs", "azblob", "https", "http")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
VERIFYING_SSLMODES = ("verify-ca", "verify-full")
TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")  # the backend puts it into SQL unquoted
SECRET_PARAM = re.compile(r"pass|secret|token|sig|sas|key|credential", re.IGNORECASE)
SECRET_ENV = re.compile(r"PASSWORD|PASSPHRASE|TOKEN|SECRET|_KEY$|ACCESS_KEY|CREDENTIAL", re.IGNORECASE)
URL_IN_TEXT = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^\s\"'<>]*)")
SYSTEM_TAGS = ("pulumi:", "vcs:", "github:", "gitlab:", "bitbucket:", "azure-devops:")
LOOPBACK = ("127.0.0.1", "localhost", "::1", "")


class BackendUrlError(ValueError):
    """A malformed or unsupported backend URL (the message holds only its redacted form)."""


class MoveError(RuntimeError):
    """The move failed; what this run created at the destination was removed."""


# --- URLs: validation and redaction ---------------------------------------------------


def redact_url(url: str) -> str:
    """The URL without user information or password-like query values; works on malformed URLs too."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    head, qmark, query = rest.partition("?")
    authority_end = len(head)
    if "@" in head:
        head = "***@" + head.rsplit("@", 1)[1]
    elif authority_end == 0:
        head = ""
    if qmark:
        parts = []
        for piece in query.split("&"):
            name, eq, _value = piece.partition("=")
            parts.append(f"{name}=***" if eq and SECRET_PARAM.search(name) else piece)
        query = "&".join(parts)
    return f"{scheme}://{head}{qmark}{query}"


def _secret_values(url: str) -> list[str]:
    """Substrings of `url` that must never be printed: the password and secret parameters."""
    values: list[str] = []
    _, sep, rest = url.partition("://")
    if not sep:
        return values
    head, _, query = rest.partition("?")
    if "@" in head:
        userinfo = head.rsplit("@", 1)[0]
        _, colon, password = userinfo.partition(":")
        if colon and password:
            values += [password, unquote(password)]
    for piece in query.split("&"):
        name, eq, value = piece.partition("=")
        if eq and value and SECRET_PARAM.search(name):
            values += [value, unquote(value)]
    return [v for v in values if len(v) >= 3]


def scrub(text: str, secrets: list[str] = ()) -> str:  # type: ignore[assignment]
    """`text` with every URL redacted and every given secret value replaced."""
    for value in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(value, "***")
    return URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def scrub_env(text: str, env: Mapping[str, str]) -> str:
    """`text` scrubbed of the backend URL's secrets and of every secret-looking variable of `env`."""
    secrets = [v for k, v in env.items() if SECRET_ENV.search(k) and len(v) >= 3]
    secrets += _secret_values(env.get("PULUMI_BACKEND_URL", ""))
    return scrub(text, secrets)


@dataclass(frozen=True, repr=False)
class BackendUrl:
    url: str  # normalised (file paths absolute); holds any credentials: never print it
    scheme: str
    identity: tuple[str, ...]  # what makes two URLs the same backend

    @property
    def redacted(self) -> str:
        return redact_url(self.url)

    @property
    def secrets(self) -> list[str]:
        return _secret_values(self.url)

    def __str__(self) -> str:  # never the raw URL by accident
        return self.redacted

    __repr__ = __str__


def parse_backend_url(text: str, cwd: Path | None = None) -> BackendUrl:
    """Validate a state backend URL; raises BackendUrlError naming the problem (URL redacted)."""
    shown = redact_url(text)
    if not text or text != text.strip() or any(ord(c) < 32 for c in text):
        raise BackendUrlError(f"backend URL {shown!r} is empty or has spaces or control characters")
    if "://" not in text:
        raise BackendUrlError(
            f"backend URL {shown!r} has no scheme: use postgres://…, file://…, s3://…, gs://…, azblob://… or https://api.pulumi.com"
        )
    scheme = text.split("://", 1)[0].lower()
    if scheme == "postgresql":
        raise BackendUrlError(f"backend URL {shown!r}: the Pulumi CLI registers the scheme postgres://, not postgresql://")
    if scheme not in SCHEMES:
        raise BackendUrlError(f"backend URL {shown!r}: unsupported scheme {scheme}:// (supported: {', '.join(SCHEMES)})")
    if scheme == "file":
        return _file_url(text, cwd or Path.cwd())
    try:
        parts = urlsplit(text)
        port = parts.port
        params = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        problem = "its port is not a number from 1 to 65535" if "port" in str(exc).lower() else f"it cannot be parsed ({exc})"
        raise BackendUrlError(f"backend URL {shown!r} is malformed: {problem}") from None
    host = (parts.hostname or "").lower()
    if scheme == "postgres":
        database = parts.path.lstrip("/")
        if "/" in database:
            raise BackendUrlError(f"backend URL {shown!r}: the path must be one database name, e.g. postgres://host:5432/pulumi")
        query = dict(params)
        table = query.get("table", "pulumi_state")
        if not TABLE.match(table):
            raise BackendUrlError(
                f"backend URL {shown!r}: table={table!r} must be a plain SQL identifier (letters, digits, _; at most 63)"
            )
        sslmode = query.get("sslmode")
        if sslmode is not None and sslmode not in SSLMODES:
            raise BackendUrlError(f"backend URL {shown!r}: sslmode={sslmode!r} is not one of {', '.join(SSLMODES)}")
        return BackendUrl(text, scheme, (scheme, host, str(port or 5432), database, table))
    if scheme in ("s3", "gs", "azblob") and not parts.netloc:
        raise BackendUrlError(f"backend URL {shown!r} names no bucket: {scheme}://BUCKET")
    if scheme in ("https", "http"):
        if not host:
            raise BackendUrlError(f"backend URL {shown!r} names no host (Pulumi Cloud: https://api.pulumi.com)")
        if scheme == "http" and host not in LOOPBACK:
            raise BackendUrlError(f"backend URL {shown!r}: plain http only to a loopback address; use https")
    return BackendUrl(text, scheme, (scheme, host, str(port or ""), parts.path.rstrip("/")))


def _file_url(text: str, cwd: Path) -> BackendUrl:
    path_text, _, query = text[len("file://") :].partition("?")
    if not path_text:
        raise BackendUrlError("backend URL 'file://' names no folder: file:///absolute/path or file://~/folder")
    path = Path(os.path.expanduser(path_text))
    path = (path if path.is_absolute() else cwd / path).resolve()
    url = f"file://{path}" + (f"?{query}" if query else "")
    return BackendUrl(url, "file", ("file", str(path)))


def tls_warning(url: BackendUrl) -> str | None:
    """A PostgreSQL URL to another machine without certificate verification."""
    if url.scheme != "postgres":
        return None
    parts = urlsplit(url.url)
    host = (parts.hostname or os.environ.get("PGHOST", "")).lower()
    sslmode = dict(parse_qsl(parts.query)).get("sslmode") or os.environ.get("PGSSLMODE") or "require"
    if host in LOOPBACK or host.startswith("/") or sslmode in VERIFYING_SSLMODES:
        return None
    return (
        f"the connection to {host} uses sslmode={sslmode}, which does not verify the server's certificate: "
        "add sslmode=verify-full (with sslrootcert=PATH or sslrootcert=system)"
    )


# --- the pulumi CLI on one backend ---------------------------------------------------


@dataclass
class Side:
    """The pulumi CLI pointed at one backend (the project's folder as working directory)."""

    label: str  # "source" | "destination"
    url: BackendUrl
    project: Path
    binary: str
    base_env: dict[str, str]
    passphrase: str | None = None
    log: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {**self.base_env, "PULUMI_BACKEND_URL": self.url.url}
        if self.passphrase is not None:
            env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
            env["PULUMI_CONFIG_PASSPHRASE"] = self.passphrase
        return env

    def scrub(self, text: str) -> str:
        return scrub_env(text, self.env())

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: int = 1800
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [self.binary, *args], cwd=self.project, env=self.env(), input=stdin, capture_output=True, text=True, timeout=timeout
        )
        self.log.append(f"pulumi {' '.join(args)} -> {proc.returncode}")
        if check and proc.returncode != 0:
            detail = self.scrub(proc.stderr.strip() or proc.stdout.strip())
            raise MoveError(f"`pulumi {' '.join(args[:4])}` on the {self.label} ({self.url.redacted}) failed: {detail}")
        return proc

    def cli(self) -> tuple[str, dict[str, str]]:  # what scripts.gate_records needs of a stack
        return self.binary, self.env()

    def stacks(self) -> set[str]:
        return {s["name"] for s in json.loads(self.run("stack", "ls", "--json").stdout or "[]")}

    def export(self, stack: str, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "export", "--stack", stack] + (["--show-secrets"] if show_secrets else [])
        return json.loads(self.run(*args).stdout)

    def outputs(self, stack: str) -> dict[str, Any]:
        return json.loads(self.run("stack", "output", "--json", "--show-secrets", "--stack", stack).stdout or "{}")

    def tags(self, stack: str) -> dict[str, str]:
        return json.loads(self.run("stack", "tag", "ls", "--json", "--stack", stack).stdout or "{}")

    def preview(self, stack: str) -> dict[str, int]:
        """Changes `pulumi preview` proposes (by op); empty when none."""
        proc = self.run(
            "preview", "--json", "--expect-no-changes", "--non-interactive", "--stack", stack, check=False, timeout=3600
        )
        try:
            doc = json.loads(proc.stdout)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or ("changeSummary" not in doc and proc.returncode != 0):
            detail = self.scrub(proc.stderr.strip() or proc.stdout.strip())
            raise MoveError(f"`pulumi preview --stack {stack}` on the {self.label} ({self.url.redacted}) failed: {detail}")
        return {op: n for op, n in (doc.get("changeSummary") or {}).items() if op != "same" and n}


@dataclass
class StackSide:
    """One stack on one side, shaped as scripts.gate_records expects (project, name, cli())."""

    side: Side
    name: str

    @property
    def project(self) -> Path:
        return self.side.project

    def cli(self) -> tuple[str, dict[str, str]]:
        return self.side.cli()


# --- the move -------------------------------------------------------------------------


@dataclass
class Moved:
    stack: str
    resources: int
    outputs: int
    secrets: int  # secret values compared decrypted (resources and outputs)
    preview: str
    tags: int
    reencrypted: bool
    seconds: float


@dataclass
class MoveResult:
    source: str
    destination: str
    stacks: list[Moved]
    skipped: list[str]
    removed_from_source: bool
    changed_files: list[str]


def managed(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in (deployment.get("deployment", {}).get("resources") or []) if not r["type"].startswith("pulumi:")]


def _count_secrets(value: Any) -> int:
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270":
            return 1
        return sum(_count_secrets(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_secrets(v) for v in value)
    return 0


def compare_resources(source: dict[str, Any], destination: dict[str, Any]) -> list[str]:
    """Differences between two `stack export --show-secrets` documents, by URN and field
    (names only: values, secret or not, are never part of the message)."""
    a = {r["urn"]: r for r in source.get("deployment", {}).get("resources") or []}
    b = {r["urn"]: r for r in destination.get("deployment", {}).get("resources") or []}
    problems = [f"missing at the destination: {urn}" for urn in sorted(a.keys() - b.keys())]
    problems += [f"only at the destination: {urn}" for urn in sorted(b.keys() - a.keys())]
    for urn in sorted(a.keys() & b.keys()):
        fields = sorted(k for k in a[urn].keys() | b[urn].keys() if a[urn].get(k) != b[urn].get(k))
        if fields:
            problems.append(f"{urn}: {', '.join(fields)} differ")
    if destination.get("deployment", {}).get("pending_operations"):
        problems.append("the destination has pending operations")
    return problems


def compare_outputs(source: dict[str, Any], destination: dict[str, Any]) -> list[str]:
    keys = sorted(k for k in source.keys() | destination.keys() if source.get(k) != destination.get(k))
    return [f"stack output {k} differs" for k in keys]


@dataclass
class _MoveRun:
    """One move's backends and settings, shared by its steps, and its progress line."""

    project: Path
    source: Side
    destination: Side
    secrets_provider: str | None
    new_passphrase: str | None
    skip_preview: bool
    progress: Progress | None
    task: Any = None

    def step(self, text: str) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=escape(text))


@dataclass
class _SourceStack:
    """One stack as read from the source before anything is written."""

    name: str
    state: dict[str, Any]  # as exported: ciphertexts stay ciphertexts
    plain: dict[str, Any]  # exported with --show-secrets, to compare decrypted
    outputs: dict[str, Any]
    tags: dict[str, str]  # without the system tags
    seconds: float  # spent reading it


def move(
    project: Path,
    source: Side,
    destination: Side,
    *,
    stacks: list[str] | None = None,
    secrets_provider: str | None = None,
    new_passphrase: str | None = None,
    skip_preview: bool = False,
    remove_source: bool = False,
    progress: Progress | None = None,
) -> MoveResult:
    """Move the project's stacks; raises BackendUrlError-like ValueError on bad input (nothing done)
    and MoveError on failure (destination cleaned up, stack files restored)."""
    run = _MoveRun(project, source, destination, secrets_provider, new_passphrase, skip_preview, progress)
    wanted = _wanted_stacks(run, stacks)
    if destination.url.scheme == "file":  # `pulumi login file://DIR` needs DIR to exist
        Path(destination.url.identity[1]).mkdir(parents=True, exist_ok=True)
    run.task = progress.add_task("reading the source", total=None) if progress is not None else None
    names, skipped = _stacks_to_move(run, wanted)
    # 1. The source, read only: its state, outputs, tags, and that it previews clean.
    read = [_read_source(run, name) for name in names]
    stack_files = [project / f"Pulumi.{n}.yaml" for n in names]
    originals = {p: p.read_bytes() for p in stack_files if p.is_file()}  # put back if the move fails
    moved = _move_or_undo(run, read, originals)
    removed = False
    if remove_source:
        for name in names:
            run.step(f"{name}: removing from the source")
            source.run("stack", "rm", name, "--force", "--yes", "--preserve-config", "--non-interactive")
        removed = True
    changed = [p.name for p in stack_files if p.is_file() and originals.get(p) != p.read_bytes()]
    return MoveResult(source.url.redacted, destination.url.redacted, moved, skipped, removed, changed)


def _wanted_stacks(run: _MoveRun, stacks: list[str] | None) -> list[str]:
    """The stacks asked for (default: every stack file), once the request is known to make sense."""
    from scripts.project import stack_names

    if run.source.url.identity == run.destination.url.identity:
        raise ValueError(f"the destination {run.destination.url.redacted} is the source backend: nothing to move")
    if run.new_passphrase is not None and run.secrets_provider != "passphrase":
        raise ValueError("a new passphrase only applies with --secrets-provider passphrase")
    if run.secrets_provider == "passphrase" and not run.new_passphrase:
        raise ValueError("--secrets-provider passphrase re-encrypts under a new passphrase: give it with --new-passphrase-file")
    files = stack_names(run.project)
    wanted = stacks or files
    unknown = sorted(set(wanted) - set(files))
    if unknown:
        raise ValueError(f"no stack file for {', '.join(unknown)} (stacks here: {', '.join(files) or 'none'})")
    return wanted


def _stacks_to_move(run: _MoveRun, wanted: list[str]) -> tuple[list[str], list[str]]:
    """(the wanted stacks the source holds, those it does not); none may exist at the destination."""
    at_source = run.source.stacks()
    names = [s for s in wanted if s in at_source]
    skipped = [s for s in wanted if s not in at_source]
    if not names:
        raise ValueError(f"none of {', '.join(wanted)} exists in the source backend {run.source.url.redacted}: nothing to move")
    run.step("reading the destination")
    existing = sorted(set(names) & run.destination.stacks())
    if existing:
        raise ValueError(
            f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''} in {run.destination.url.redacted}: "
            "refusing to overwrite (remove them there first if they are stale copies)"
        )
    return names, skipped


def _read_source(run: _MoveRun, name: str) -> _SourceStack:
    """A stack's state, outputs and tags at the source, refused if an update was interrupted or
    (unless --skip-preview) the stack does not match its program."""
    started = time.perf_counter()
    source = run.source
    run.step(f"{name}: reading the source")
    state = source.export(name)
    if state.get("deployment", {}).get("pending_operations"):
        raise MoveError(
            f"stack {name} has pending operations from an interrupted update at the source: "
            f"resolve them first (`pulumi refresh --stack {name}`), then move"
        )
    plain = source.export(name, show_secrets=True)
    outputs = source.outputs(name)
    tags = {k: v for k, v in source.tags(name).items() if not k.startswith(SYSTEM_TAGS)}
    if not run.skip_preview:
        run.step(f"{name}: pulumi preview at the source")
        changes = source.preview(name)
        if changes:
            raise MoveError(
                f"stack {name} does not match its program at the source ({_changes_summary(changes)}): "
                "apply or revert that first, so the move can be verified with --expect-no-changes"
            )
    return _SourceStack(name, state, plain, outputs, tags, time.perf_counter() - started)


def _changes_summary(changes: dict[str, int]) -> str:
    return ", ".join(f"{n} to {op}" for op, n in sorted(changes.items()))


def _move_or_undo(run: _MoveRun, stacks: list[_SourceStack], originals: dict[Path, bytes]) -> list[Moved]:
    """Import and verify every stack, then check the source is unchanged; on any failure remove
    what this run created at the destination and put the stack files back."""
    created: list[str] = []
    try:
        moved = [_move_one(run, stack, created) for stack in stacks]
        # 2. Nobody changed the source meanwhile.
        run.step("checking the source is unchanged")
        for stack in stacks:
            if managed(run.source.export(stack.name)) != managed(stack.state):
                raise MoveError(f"stack {stack.name} changed at the source during the move (an update ran): move again")
    except BaseException as exc:
        _undo(run.destination, created, originals)
        if isinstance(exc, MoveError):
            raise MoveError(f"{exc}. Nothing was kept at the destination; the source is unchanged.") from None
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise MoveError(
            f"{type(exc).__name__}: {run.destination.scrub(str(exc))}. Nothing was kept at the destination."
        ) from None
    return moved


def _move_one(run: _MoveRun, stack: _SourceStack, created: list[str]) -> Moved:
    """Import one stack at the destination (noting it in `created` first) and verify it there."""
    started = time.perf_counter()
    _import_stack(run, stack, created)
    after, preview = _verify_stack(run, stack)
    return Moved(
        stack.name,
        len(managed(after)),
        len(stack.outputs),
        _count_secrets(after.get("deployment", {}).get("resources")) + _count_secrets(stack.outputs),
        preview,
        len(stack.tags),
        bool(run.secrets_provider),
        round(stack.seconds + time.perf_counter() - started, 2),
    )


def _import_stack(run: _MoveRun, stack: _SourceStack, created: list[str]) -> None:
    """Create the stack at the destination, import its state, copy its tags, re-encrypt if asked."""
    from scripts import gate_records

    destination, name = run.destination, stack.name
    run.step(f"{name}: importing at the destination")
    destination.run("stack", "init", name, "--no-select", "--non-interactive")
    created.append(name)
    destination.run("stack", "import", "--stack", name, stdin=json.dumps(stack.state))
    for tag, value in stack.tags.items():
        if tag == gate_records.KEY_TAG and run.secrets_provider:
            continue  # re-wrapped below, under the new provider
        destination.run("stack", "tag", "set", tag, value, "--stack", name)
    if run.secrets_provider:
        run.step(f"{name}: re-encrypting with {run.secrets_provider.split('://')[0]}")
        _reencrypt(run.project, run.source, destination, name, run.secrets_provider, run.new_passphrase, stack.tags)


def _verify_stack(run: _MoveRun, stack: _SourceStack) -> tuple[dict[str, Any], str]:
    """(the destination's decrypted export, the preview's verdict); raises MoveError naming every
    difference from the source."""
    destination, name = run.destination, stack.name
    run.step(f"{name}: verifying at the destination")
    after = destination.export(name, show_secrets=True)
    problems = compare_resources(stack.plain, after)
    problems += compare_outputs(stack.outputs, destination.outputs(name))
    missing_tags = sorted(set(stack.tags) - set(destination.tags(name)))
    problems += [f"tag {t} missing at the destination" for t in missing_tags]
    preview = "skipped (--skip-preview)"
    if not run.skip_preview:
        run.step(f"{name}: pulumi preview at the destination")
        changes = destination.preview(name)
        if changes:
            problems.append("pulumi preview proposes " + _changes_summary(changes))
        preview = "no changes"
    if problems:
        raise MoveError(f"stack {name} differs at the destination: " + "; ".join(problems))
    return after, preview


def _reencrypt(
    project: Path,
    source: Side,
    destination: Side,
    name: str,
    provider: str,
    new_passphrase: str | None,
    tags: dict[str, str],
) -> None:
    """`pulumi stack change-secrets-provider` at the destination (it rewrites Pulumi.<name>.yaml
    too), then the gate key re-wrapped under the new provider."""
    from scripts import gate_records

    old_header = gate_records.secrets_header(StackSide(source, name))
    destination.run("stack", "change-secrets-provider", provider, "--stack", name, stdin=(new_passphrase or "") + "\n")
    if provider == "passphrase":
        destination.passphrase = new_passphrase
    if gate_records.KEY_TAG in tags:
        key = gate_records.unwrap_key(StackSide(source, name), old_header, tags[gate_records.KEY_TAG])
        target = StackSide(destination, name)
        wrapped = gate_records.wrap_key(target, gate_records.secrets_header(target), key.hex())
        destination.run("stack", "tag", "set", gate_records.KEY_TAG, wrapped, "--stack", name)


def _undo(destination: Side, created: list[str], originals: dict[Path, bytes]) -> None:
    for name in reversed(created):
        destination.run(
            "stack", "rm", name, "--force", "--yes", "--preserve-config", "--non-interactive", "--stack", name, check=False
        )
    for path, content in originals.items():
        if not path.is_file() or path.read_bytes() != content:
            path.write_bytes(content)


# --- the command ------------------------------------------------------------------------

state_app = typer.Typer(help="Where the stacks' state lives: move it between backends.", no_args_is_help=True)


@state_app.callback()
def state_group() -> None:
    """Where the stacks' state lives (a file, PostgreSQL, an object store, Pulumi Cloud)."""


def current_backend(binary: str, env: dict[str, str]) -> str:
    """The backend the pulumi CLI uses now: $PULUMI_BACKEND_URL, else `pulumi whoami --json`'s url."""
    if env.get("PULUMI_BACKEND_URL"):
        return env["PULUMI_BACKEND_URL"]
    proc = subprocess.run([binary, "whoami", "--json"], env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise MoveError(f"cannot tell the current backend (`pulumi whoami` failed): {scrub_env(proc.stderr.strip(), env)}")
    return str(json.loads(proc.stdout).get("url", ""))


@state_app.command("move")
def move_command(
    to: Annotated[
        str, typer.Option("--to", help="The destination backend URL (postgres://…, file://…, s3://…, https://api.pulumi.com).")
    ],
    from_: Annotated[
        Optional[str], typer.Option("--from", help="The source backend URL (default: the current one, as `pulumi whoami` says).")
    ] = None,
    stack: Annotated[
        Optional[list[str]], typer.Option("--stack", help="Move only this stack (repeatable; default: every stack file).")
    ] = None,
    secrets_provider: Annotated[
        Optional[str],
        typer.Option(
            help="Re-encrypt at the destination: passphrase (a new passphrase), awskms://…, gcpkms://…, "
            "azurekeyvault://…, hashivault://…, or default (Pulumi Cloud)."
        ),
    ] = None,
    new_passphrase_file: Annotated[
        Optional[Path], typer.Option(help="With --secrets-provider passphrase: a file holding the new passphrase.")
    ] = None,
    skip_preview: Annotated[
        bool, typer.Option(help="Do not run `pulumi preview` (when the program cannot run here); state is still compared.")
    ] = False,
    remove_source: Annotated[
        bool, typer.Option(help="After everything is verified, remove the moved stacks' state from the source.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Move every stack of this project to another state backend; verified before the source is touched."""
    from scripts.project import find_project_root

    project = find_project_root()
    if team_root(project) != project:
        fail(
            "state move acts on real backends, and this shell is in a sandbox rehearsal: leave it with "
            '`eval "$(launchplan sandbox env --unset)"` first'
        )
    try:
        destination_url = parse_backend_url(to)
    except BackendUrlError as exc:
        fail(str(exc))
    new_passphrase = _read_new_passphrase(new_passphrase_file)
    _check_secrets_provider(secrets_provider)
    binary, env, source_url = _pulumi_and_source(from_)
    _warn_unverified_tls(source_url, destination_url)
    source = Side("source", source_url, project, binary, env)
    destination = Side("destination", destination_url, project, binary, env)
    options = _MoveOptions(stack, secrets_provider, new_passphrase, skip_preview, remove_source)
    _report(_move_with_progress(project, source, destination, options), as_json)


@dataclass(frozen=True)
class _MoveOptions:
    """What `move` is asked to do beyond which backends: its keyword arguments."""

    stacks: list[str] | None
    secrets_provider: str | None
    new_passphrase: str | None
    skip_preview: bool
    remove_source: bool


def _read_new_passphrase(path: Path | None) -> str | None:
    """The passphrase in --new-passphrase-file, if given; a missing or empty file fails the command."""
    if path is None:
        return None
    if not path.is_file():
        fail(f"--new-passphrase-file {path} does not exist")
    passphrase = path.read_text().strip()
    if not passphrase:
        fail(f"--new-passphrase-file {path} is empty")
    return passphrase


def _check_secrets_provider(secrets_provider: str | None) -> None:
    if secrets_provider is not None:
        kind = secrets_provider.split("://", 1)[0]
        if kind not in ("passphrase", "default", "awskms", "gcpkms", "azurekeyvault", "hashivault"):
            fail(f"--secrets-provider {redact_url(secrets_provider)!r} is not passphrase, default or a KMS URL")


def _pulumi_and_source(from_: str | None) -> tuple[str, dict[str, str], BackendUrl]:
    """The pulumi CLI (binary, env) and the source backend: --from, else the CLI's current one."""
    from scripts.pulumi_cli import EngineMissingError, pulumi_cli

    try:
        binary, env = pulumi_cli()
        return binary, env, parse_backend_url(from_ if from_ is not None else current_backend(binary, env))
    except EngineMissingError as exc:
        fail(str(exc))
    except BackendUrlError as exc:
        fail(f"--from: {exc}")
    except MoveError as exc:
        fail(str(exc), EXIT_FAILED)


def _warn_unverified_tls(*urls: BackendUrl) -> None:
    for url in urls:
        warning = tls_warning(url)
        if warning:
            err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


def _move_with_progress(project: Path, source: Side, destination: Side, options: _MoveOptions) -> MoveResult:
    """`move` under a spinner; a failed move exits EXIT_FAILED, a refused request EXIT_INVALID."""
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True
        ) as progress:
            return move(
                project,
                source,
                destination,
                stacks=options.stacks,
                secrets_provider=options.secrets_provider,
                new_passphrase=options.new_passphrase,
                skip_preview=options.skip_preview,
                remove_source=options.remove_source,
                progress=progress,
            )
    except MoveError as exc:
        fail(str(exc), EXIT_FAILED)
    except ValueError as exc:
        fail(scrub(str(exc), source.url.secrets + destination.url.secrets), EXIT_INVALID)


def _report(result: MoveResult, as_json: bool) -> None:
    if as_json:
        print(json.dumps(asdict(result), indent=2))
        return
    table = Table(
        "stack", "resources", "outputs", "secrets", "tags", "preview", "seconds",
        title=f"moved {result.source} -> {result.destination}", title_justify="left",
    )  # fmt: skip
    for m in result.stacks:
        table.add_row(
            m.stack, str(m.resources), str(m.outputs), f"{m.secrets} identical", str(m.tags), m.preview, f"{m.seconds:.1f}"
        )
    out.print(table)
    for name in result.skipped:
        err.print(f"{name}: not in the source backend, skipped")
    for name in result.changed_files:
        err.print(f"{name} was re-encrypted for the destination: commit it")
    if result.removed_from_source:
        err.print("The moved stacks were removed from the source (their resources and stack files stay).")
    else:
        err.print(
            "The source still holds these stacks: point everyone at the destination "
            f"(`pulumi login '{result.destination}'` or PULUMI_BACKEND_URL), then remove them there with "
            "`pulumi stack rm --force --preserve-config --stack NAME` (state only)."
        )
