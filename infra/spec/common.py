"""Pieces of the spec every platform uses: the base model, env names, hostnames,
URLs and health checks."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from infra.spec import catalog
from infra.spec.problems import invalid
from infra.spec.secrecy import query_credentials, shown

NAMESPACE = "launchplan"
# Read by the providers themselves (or by launchplan's dynamic providers at configure time),
# never handed to a resource as an input, and never handed to an app's env.
PROVIDER_CREDENTIALS = frozenset({"heroku:apiKey", "vercel:apiToken", f"{NAMESPACE}:calendlyToken"})
Target = Literal["production", "preview", "development"]


def full_key(key: str) -> str:
    """A config key as Pulumi names it: `smtpPassword` -> `launchplan:smtpPassword`."""
    return key if ":" in key else f"{NAMESPACE}:{key}"


def suggested_config_key(env_name: str) -> str:
    """SMTP_PASSWORD -> smtpPassword: the config key we suggest for an env var."""
    return to_camel(env_name.lower())


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True)


class HealthCheck(Model):
    path: str
    expect_status: int = Field(200, ge=200, le=599)  # a 1xx is never a final answer
    timeout_seconds: float = Field(10.0, gt=0, le=120)

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not path.startswith("/") or " " in path:
            raise invalid(f"{shown(path)} is not a URL path", "start it with '/', e.g. /healthz")
        return path


def check_env_names(env: dict[str, Any], extend_path: bool = True) -> None:
    for name in env:
        if not catalog.ENV_NAME.match(name):
            raise invalid(
                f"{shown(name)} is not a valid env var name",
                "use letters, digits and _ (not starting with a digit)",
                name if extend_path else None,
            )


def check_hostnames(domains: list[str]) -> list[str]:
    for domain in domains:
        if not catalog.HOSTNAME.match(domain):
            raise invalid(f"{shown(domain)} is not a hostname", "write a bare lower-case hostname, e.g. app.example.com")
    dupes = sorted({d for d in domains if domains.count(d) > 1})
    if dupes:
        raise invalid(f"domain listed twice: {', '.join(dupes)}", "list each domain once")
    return sorted(domains)


def check_url(url: str, info: ValidationInfo) -> str:
    """https everywhere; loopback (this machine: http or https) only in a sandbox stack; never a
    credential in the URL itself."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        password = parts.password
    except ValueError:
        raise invalid(f"{shown(url)} is not a URL", "write https://host/path") from None
    if password or parts.username:
        raise invalid(
            "the URL carries a user name or password (not shown)",
            "remove the user:password@ part: a URL in a stack file is plain text; webhooks are signed instead",
        )
    if query_credentials(url):
        raise invalid(
            "the URL carries a credential in its query (not shown)",
            "remove it from the URL: a URL in a stack file is plain text; webhooks are signed instead",
        )
    sandbox = bool((info.context or {}).get("sandbox"))
    if parts.scheme in ("http", "https") and catalog.is_loopback(host):
        if sandbox:
            return url
        kind = "plain http on loopback" if parts.scheme == "http" else "a loopback address (this machine)"
        raise invalid(
            f"{shown(url)} is {kind}, which only a sandbox stack may use",
            "use the public https URL the platform can reach, or set launchplan:sandbox: true for a local sandbox stack",
        )
    if parts.scheme == "https" and host:
        return url
    raise invalid(f"{shown(url)} is not an https URL", "use https://... (webhooks carry signed payloads)")
