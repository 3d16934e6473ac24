"""Run the launchplan program under Pulumi's mocks and record what it declares.

This is what `launchplan plan` prints and what the unit tests assert on: the
real program, real components and real provider SDKs, with the engine replaced
by `pulumi.runtime.set_mocks`. No CLI, no credentials, no network. Secret
values are never decrypted: secure config stays `[secret]`, and any input the
SDK marks secret is recorded as `[secret]`, never as its value.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from infra.program import build
from infra.spec.load import load_spec
from infra.spec.stack_config import SECRET_PLACEHOLDER, StackConfig, contains_placeholder, secret_placeholder
from infra.spec.stack_spec import PROVIDER_CREDENTIALS, Spec

SECRET = SECRET_PLACEHOLDER
PROJECT = "launchplan"


@dataclass
class Declared:
    type: str
    name: str
    urn: str
    parent: str | None
    custom: bool
    protect: bool
    delete_before_replace: bool
    inputs: dict[str, Any]  # for people: every secret value shown as [secret]
    raw_inputs: dict[str, Any]  # for tests: secrets as their placeholders (never real values)
    secret_inputs: list[str]  # inputs the SDK sends to the engine marked secret
    dependencies: list[str] = field(default_factory=list)
    provider: str = ""
    aliases: list[str] = field(default_factory=list)  # earlier identities, e.g. "parent=<root stack>"


@dataclass
class Rendering:
    stack: str
    spec: Spec
    resources: list[Declared]
    outputs: dict[str, Any]
    missing_secrets: dict[str, str]

    def by_type(self, type_: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> Declared:
        found = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_} named {name}")
        return found[0]


def _is_wrapped_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _unwrap(value: Any) -> Any:
    if _is_wrapped_secret(value):
        return _unwrap(value["value"])
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items() if k != "__provider"}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def mask(value: Any) -> Any:
    """Keep the shape (keys, targets, flags) of a secret input; hide each secret value."""
    if isinstance(value, str) and contains_placeholder(value):
        return SECRET
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


class PlanMocks(pulumi.runtime.Mocks):
    """Plausible provider outputs, so the program's applies run as they would in a preview."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "heroku:app/app:App":
            state.update(web_url=f"https://{args.inputs.get('name')}.herokuapp.com/", uuid=f"uuid-{args.name}")
        elif args.typ == "heroku:addon/addon:Addon":
            # The add-on's credentials are secrets, as in a real preview: the plan shows [secret] for them.
            user, password, database = (
                quote(secret_placeholder(f"{args.name}:{part}")) for part in ("user", "password", "database")
            )
            state["config_var_values"] = rpc.wrap_rpc_secret(
                {"DATABASE_URL": f"postgres://{user}:{password}@{args.name}.mock:5432/{database}"}
            )
            state["configVarValues"] = state["config_var_values"]
        elif args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = rpc.wrap_rpc_secret(secret_placeholder(f"random:{args.name}"))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping each registration's options (protect, parent, ...)."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.declared: list[Declared] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object)
            raw = _unwrap(inputs)
            self.declared.append(
                Declared(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=_parent_name(request.parent),
                    custom=request.custom,
                    protect=bool(request.protect),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    inputs=mask(raw),
                    raw_inputs=raw,
                    secret_inputs=sorted(k for k, v in inputs.items() if _is_wrapped_secret(v) and k != "__provider"),
                    dependencies=list(request.dependencies),
                    provider=request.provider,
                    aliases=[_alias_text(a) for a in request.aliases],
                )
            )
        return response


def _alias_text(alias: Any) -> str:
    """One alias as people read it: what differs from the resource's own identity."""
    if alias.HasField("urn"):
        return alias.urn
    spec = alias.spec
    parts = [f"{field}={getattr(spec, field)}" for field in ("name", "type", "stack", "project") if getattr(spec, field)]
    if spec.noParent:
        parts.append("parent=<root stack>")
    elif spec.parentUrn:
        parts.append(f"parent={_parent_name(spec.parentUrn) or '<root stack>'}")
    return ", ".join(parts)


def _parent_name(urn: str) -> str | None:
    """The parent's logical name; None for resources directly under the stack."""
    if not urn:
        return None
    _, _, type_chain, name = urn.split("::", 3)
    return None if type_chain.rsplit("$", 1)[-1] == "pulumi:pulumi:Stack" else name


async def _resolve(value: Any) -> Any:
    """Stack outputs as plain data, with every secret output shown only as [secret]."""
    if isinstance(value, pulumi.Output):
        if await value.is_secret():
            return SECRET
        return await _resolve(await value.future())
    if isinstance(value, str) and contains_placeholder(value):
        return SECRET
    if isinstance(value, dict):
        return {k: await _resolve(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [await _resolve(v) for v in value]
    return value


def render(config: StackConfig, *, require_secrets: bool = False) -> Rendering:
    """Validate and render one stack. Raises SpecError for an invalid spec.

    With require_secrets=False (the offline plan) a secret the stack has not set yet is
    listed in `missing_secrets` rather than failing, so a fresh checkout can still be planned.
    """
    spec = load_spec(config, require_secrets=require_secrets)
    missing = {k: where for k, where in spec.secret_refs().items() if not config.is_set(k)}

    mocks = PlanMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root stack per render (renders can repeat in-process)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=config.stack, preview=True, monitor=monitor)
    values = {**config.values, **{k: secret_placeholder(k) for k in missing if k not in PROVIDER_CREDENTIALS}}
    pulumi.runtime.set_all_config(values, list(config.secret_keys | set(missing)))

    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        outputs = build(spec)
        return pulumi.Output.from_input(asyncio.ensure_future(_resolve(outputs))).apply(resolved.update)

    program()
    return Rendering(config.stack, spec, monitor.declared, resolved, missing)
