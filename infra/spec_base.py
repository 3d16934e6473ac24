"""Shared pieces of the stack spec: problems, the base model, and checks
used by several platforms (env names, hostnames, URLs, health checks)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from infra import catalog

NAMESPACE = "launchplan"
Target = Literal["production", "preview", "development"]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    fix: str

    def render(self, stack: str) -> str:
        return f"[stack {stack}] {self.path}: {self.message}\n    fix: {self.fix}"


class SpecError(Exception):
    """Raised with every problem found in a stack's config."""

    def __init__(self, stack: str, problems: list[Problem]):
        self.stack = stack
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        body = "\n".join(p.render(stack) for p in problems)
        super().__init__(f"Stack '{stack}' config has {count}; nothing was changed.\n{body}")


def _fail(message: str, fix: str, key: str | None = None) -> PydanticCustomError:
    """A validation error with its fix; `key` extends the path to one entry of a mapping."""
    return PydanticCustomError("launchplan", message, {"fix": fix, "key": key or ""})


def _closest(word: str, options: set[str] | list[str] | tuple[str, ...]) -> str:
    match = difflib.get_close_matches(word, list(options), n=1)
    return f"did you mean '{match[0]}'? " if match else ""


def _secret_cmd(stack: str, key: str) -> str:
    return f"pulumi config set --secret --stack {stack} {key}"


def _config_key_for(env_name: str) -> str:
    """SMTP_PASSWORD -> smtpPassword: the config key we suggest for an env var."""
    return to_camel(env_name.lower())


def full_key(key: str) -> str:
    return key if ":" in key else f"{NAMESPACE}:{key}"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True)


class HealthCheck(Model):
    path: str
    expect_status: int = Field(200, ge=100, le=599)
    timeout_seconds: float = Field(10.0, gt=0, le=120)

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not path.startswith("/") or " " in path:
            raise _fail(f"'{path}' is not a URL path", "start it with '/', e.g. /healthz")
        return path


def _env_names(env: dict[str, Any], extend_path: bool = True) -> None:
    for name in env:
        if not catalog.ENV_NAME.match(name):
            raise _fail(
                f"'{name}' is not a valid env var name",
                "use letters, digits and _ (not starting with a digit)",
                name if extend_path else None,
            )


def _hostnames(domains: list[str]) -> list[str]:
    for domain in domains:
        if not catalog.HOSTNAME.match(domain):
            raise _fail(f"'{domain}' is not a hostname", "write a bare lower-case hostname, e.g. app.example.com")
    dupes = sorted({d for d in domains if domains.count(d) > 1})
    if dupes:
        raise _fail(f"domain listed twice: {', '.join(dupes)}", "list each domain once")
    return sorted(domains)


def check_url(url: str, info: ValidationInfo) -> str:
    """https everywhere; plain http only to loopback, and only in a sandbox stack."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        if (info.context or {}).get("sandbox"):
            return url
        raise _fail(
            f"'{url}' is plain http on loopback, which only a sandbox stack may use",
            "use an https URL, or set launchplan:sandbox: true for a local sandbox stack",
        )
    raise _fail(f"'{url}' is not an https URL", "use https://... (webhooks carry signed payloads)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
