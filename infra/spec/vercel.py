"""The Vercel part of the spec: projects, env vars per target, domains."""

from __future__ import annotations

import re

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.spec import catalog
from infra.spec.common import HealthCheck, Model, Target, check_env_names, check_hostnames, full_key, suggested_config_key
from infra.spec.heroku import check_config_key_ref
from infra.spec.problems import did_you_mean, invalid, set_secret_command
from infra.spec.secrecy import shown


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
        check_env_names({key: None}, extend_path=False)
        return key

    @field_validator("from_config")
    @classmethod
    def _from_config(cls, ref: str | None, info: ValidationInfo) -> str | None:
        if ref is not None:
            given = info.data.get("key")
            key = given if isinstance(given, str) else "ENV_NAME"
            check_config_key_ref(ref, key, (info.context or {}).get("stack", "STACK"), "fromConfig")
        return ref

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: list[str]) -> list[str]:
        if len(set(targets)) != len(targets):
            raise invalid("a target is listed twice", "list each of production, preview, development once")
        return sorted(targets, key=catalog.VERCEL_TARGETS.index)

    @model_validator(mode="after")
    def _source_and_sensitivity(self, info: ValidationInfo) -> VercelEnvVar:
        stack = (info.context or {}).get("stack", "STACK")
        if (self.value is None) == (self.from_config is None):
            raise invalid(
                f"{self.key} needs exactly one of 'value' or 'fromConfig'",
                "give a plain value, or fromConfig: <secret config key>",
            )
        if self.value is not None and catalog.looks_secret(self.key):
            key = suggested_config_key(self.key)
            raise invalid(
                f"{self.key} looks like a secret but is given as a plain value",
                f"remove the value from this file, run `{set_secret_command(stack, full_key(key))}` "
                f"(it prompts for the value), and write fromConfig: {key}",
            )
        if self.sensitive and not catalog.vercel_allows_sensitive(self.targets):
            raise invalid(
                f"{self.key} is sensitive but targets development (Vercel refuses sensitive values there)",
                "drop 'development' from targets or set sensitive: false",
            )
        if self.git_branch and self.targets != ["preview"]:
            raise invalid("gitBranch only applies to the preview target", "set targets: [preview] or remove gitBranch")
        return self

    @property
    def is_sensitive(self) -> bool:
        """Secrets default to Vercel's write-only 'sensitive' type wherever Vercel allows it."""
        if self.sensitive is not None:
            return self.sensitive
        return self.from_config is not None and catalog.vercel_allows_sensitive(self.targets)


class VercelProjectSpec(Model):
    framework: str | None = None
    root_directory: str | None = None
    domains: list[str] = []
    env: list[VercelEnvVar] = []
    health_check: HealthCheck | None = None

    @field_validator("framework")
    @classmethod
    def _framework(cls, framework: str | None) -> str | None:
        if framework is not None and framework not in catalog.VERCEL_FRAMEWORKS:
            raise invalid(
                f"{shown(framework)} is not a Vercel framework preset",
                f"{did_you_mean(framework, catalog.VERCEL_FRAMEWORKS)}use a preset slug such as nextjs or vite",
            )
        return framework

    @field_validator("domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        return check_hostnames(domains)


class Vercel(Model):
    team: str | None = None
    projects: dict[str, VercelProjectSpec] = {}

    @field_validator("projects")
    @classmethod
    def _names(cls, projects: dict[str, VercelProjectSpec]) -> dict[str, VercelProjectSpec]:
        for name in projects:
            if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,99}", name) or "---" in name:
                fix = "use up to 100 lower-case letters, digits, . _ -"
                raise invalid(f"{shown(name)} is not a valid Vercel project name", fix, name)
        return projects
