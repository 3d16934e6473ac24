"""What operator commands need about a stack: its spec, its outputs, its secrets, and
clients for the platform APIs it uses, all through the `pulumi` CLI's JSON output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.providers.http import ApiClient
from infra.providers.platforms import bearer_headers, heroku_headers
from infra.spec.load import load_spec
from infra.spec.stack_config import StackConfig
from infra.spec.stack_spec import Spec
from scripts import pulumi_cli as pulumi_cli_module  # sandbox_backend looked up per call (tests move it)
from scripts.project import require_stack_file
from scripts.pulumi_cli import BIN, SANDBOX_STACK, pulumi_cli, run_engine, sandbox_env
from scripts.rehearsal import team_root


class StackError(RuntimeError):
    """A stack that cannot be read (unknown name, no passphrase, CLI failure): nothing was changed."""


@dataclass
class Stack:
    project: Path
    name: str
    _secrets: dict[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        try:
            self.file = require_stack_file(self.project, self.name)
        except ValueError as exc:
            raise StackError(str(exc)) from None
        self.spec: Spec = load_spec(StackConfig.from_file(self.file, self.name), require_secrets=False)

    def in_sandbox(self) -> bool:
        """The sandbox stack, or a rehearsal of a team stack (run in the rehearsal project)."""
        return self.name == SANDBOX_STACK or team_root(self.project) != self.project

    def not_brought_up(self) -> str | None:
        """Why a stack of the sandbox cannot be read yet: its state folder exists only after `sandbox up`."""
        backend = pulumi_cli_module.sandbox_backend(team_root(self.project))
        if self.in_sandbox() and backend.startswith("file://") and not Path(backend.removeprefix("file://")).is_dir():
            up = "launchplan sandbox up" + ("" if self.name == SANDBOX_STACK else f" {self.name}")
            return f"stack {self.name} lives in the sandbox, which has not been brought up here: run `{up}` first"
        return None

    def absent(self, doing: str) -> str:
        """The message for a stack with nothing deployed, naming what cannot be done."""
        deployed = f"stack {self.name} is not deployed in this backend (`pulumi stack ls`): nothing to {doing}"
        return self.not_brought_up() or deployed

    def cli(self) -> tuple[str, dict[str, str]]:
        if self.in_sandbox():
            # The sandbox's own backend, home and documented passphrase, on the offline engine; never
            # a real stack's state.
            if why := self.not_brought_up():
                raise StackError(why)
            team = team_root(self.project)
            return str(BIN / "pulumi"), sandbox_env(team, self.spec.endpoints.vercel_api, self.spec.endpoints.heroku_api)
        return pulumi_cli()

    def pulumi(self, *args: str) -> str:
        binary, env = self.cli()
        proc = run_engine([binary, *args, "--stack", self.name], cwd=self.project, env=env)
        if proc.returncode != 0:
            detail = proc.stderr.strip() or proc.stdout.strip()
            if "passphrase" in detail.lower():
                detail += " (set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE)"
            elif "unable to open state directory" in detail:
                detail += " (nothing was ever deployed with this backend: `pulumi login` to yours, or set PULUMI_BACKEND_URL)"
            raise StackError(f"`pulumi {' '.join(args)} --stack {self.name}` failed: {detail}")
        return proc.stdout

    def exists(self) -> bool:
        if self.not_brought_up():
            return False
        binary, env = self.cli()
        proc = run_engine([binary, "stack", "ls", "--json"], cwd=self.project, env=env)
        return proc.returncode == 0 and any(s.get("name") == self.name for s in json.loads(proc.stdout or "[]"))

    def resource_count(self) -> int:
        """Resources the stack manages (the stack itself and providers not counted)."""
        resources = json.loads(self.pulumi("stack", "export")).get("deployment", {}).get("resources") or []
        return sum(1 for r in resources if not r["type"].startswith("pulumi:"))

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json") or "{}")

    def secrets(self) -> dict[str, str]:
        """The stack's decrypted secret config values; only ever held in memory, never printed."""
        if self._secrets is None:
            self._secrets = {
                k: str(v.get("value"))
                for k, v in json.loads(self.pulumi("config", "--json", "--show-secrets")).items()
                if isinstance(v, dict) and v.get("secret")
            }
        return self._secrets

    def secret(self, key: str) -> str | None:
        return self.secrets().get(key)

    # --- API clients ---------------------------------------------------------------
    def heroku(self) -> ApiClient:
        return ApiClient("Heroku", self.spec.endpoints.heroku_api, heroku_headers(self._require("heroku:apiKey")))

    def heroku_data(self) -> ApiClient:
        return ApiClient("Heroku Data", self.spec.endpoints.heroku_data_api, heroku_headers(self._require("heroku:apiKey")))

    def vercel(self) -> ApiClient:
        return ApiClient(
            "Vercel", self.spec.endpoints.vercel_api, {"Authorization": f"Bearer {self._require('vercel:apiToken')}"}
        )

    def calendly(self) -> ApiClient:
        return ApiClient("Calendly", self.spec.endpoints.calendly_api, bearer_headers(self._require("launchplan:calendlyToken")))

    def _require(self, key: str) -> str:
        value = self.secret(key)
        if not value:
            raise StackError(f"stack {self.name} has no {key}: run `pulumi config set --secret --stack {self.name} {key}`")
        return value

    def vercel_params(self) -> dict[str, str]:
        return {"teamId": self.spec.vercel.team} if self.spec.vercel.team else {}
