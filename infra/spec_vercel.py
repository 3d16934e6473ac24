"""The Vercel part of the spec: projects, env vars per target, domains."""

from __future__ import annotations

import re

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra import catalog
from infra.spec_base import (
    HealthCheck,
    Model,
    Target,
    _closest,
    _config_key_for,
    _env_names,
    _fail,
    _hostnames,
    _secret_cmd,
    full_key,
)


class VercelEnvVar(Model):
    key: str
    value: str | None = None
    from_config: str | None = None  # a secret config key (named so secret scanners do not flag it)
    targets: list[Target] = Field(min_length=1)
    sensitive: bool | None = None
    git_branch: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        _env_names({key: None}, extend_path=False)
        return key

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: list[str]) -> list[str]:
        if len(set(targets)) != len(targets):
            raise _fail("a target is listed twice", "list each of production, preview, development once")
        return sorted(targets, key=catalog.VERCEL_TARGETS.index)

    @model_validator(mode="after")
    def _source_and_sensitivity(self, info: ValidationInfo) -> VercelEnvVar:
        stack = (info.context or {}).get("stack", "STACK")
        if (self.value is None) == (self.from_config is None):
            raise _fail(
                f"{self.key} needs exactly one of 'value' or 'fromConfig'",
                "give a plain value, or fromConfig: <secret config key>",
            )
        if self.value is not None and catalog.looks_secret(self.key):
            key = _config_key_for(self.key)
            raise _fail(
                f"{self.key} looks like a secret but is given as a plain value",
                f"remove the value from this file, run `{_secret_cmd(stack, full_key(key))}` "
                f"(it prompts for the value), and write fromConfig: {key}",
            )
        if self.sensitive and "development" in self.targets:
            raise _fail(
                f"{self.key} is sensitive but targets development (Vercel refuses sensitive values there)",
                "drop 'development' from targets or set sensitive: false",
            )
        if self.git_branch and self.targets != ["preview"]:
            raise _fail("gitBranch only applies to the preview target", "set targets: [preview] or remove gitBranch")
        return self

    @property
    def is_sensitive(self) -> bool:
        """Secrets default to Vercel's write-only 'sensitive' type wherever Vercel allows it."""
        if self.sensitive is not None:
            return self.sensitive
        return self.from_config is not None and "development" not in self.targets


class VercelProject(Model):
    framework: str | None = None
    root_directory: str | None = None
    domains: list[str] = []
    env: list[VercelEnvVar] = []
    health_check: HealthCheck | None = None

    @field_validator("framework")
    @classmethod
    def _framework(cls, framework: str | None) -> str | None:
        if framework is not None and framework not in catalog.VERCEL_FRAMEWORKS:
            raise _fail(
                f"'{framework}' is not a Vercel framework preset",
                f"{_closest(framework, catalog.VERCEL_FRAMEWORKS)}use a preset slug such as nextjs or vite",
            )
        return framework

    @field_validator("domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        return _hostnames(domains)


class Vercel(Model):
    team: str | None = None
    projects: dict[str, VercelProject] = {}

    @field_validator("projects")
    @classmethod
    def _names(cls, projects: dict[str, VercelProject]) -> dict[str, VercelProject]:
        for name in projects:
            if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,99}", name) or "---" in name:
                fix = "use up to 100 lower-case letters, digits, . _ -"
                raise _fail(f"'{name}' is not a valid Vercel project name", fix, name)
        return projects
