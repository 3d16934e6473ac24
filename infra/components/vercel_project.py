"""A Vercel project, its env vars (one resource each) and its domains."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumiverse_vercel as vercel

from infra.spec.catalog import vercel_allows_sensitive
from infra.spec.common import full_key
from infra.spec.vercel import VercelProjectSpec

InjectedVar = tuple[str, Sequence[str], pulumi.Output[str]]  # (key, targets, secret value)


class VercelProject(pulumi.ComponentResource):
    project: vercel.Project
    url: pulumi.Output[str]
    health_check_url: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        spec: VercelProjectSpec,
        *,
        team: str | None,
        secret_config: Mapping[str, pulumi.Output[str]],
        injected: Sequence[InjectedVar] = (),
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("launchplan:vercel:Project", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.project = vercel.Project(
            name,
            name=name,
            framework=spec.framework,
            root_directory=spec.root_directory,
            team_id=team,
            opts=child,
        )

        # pulumiverse-vercel 1.14 (the newest whose plugin builds offline) has no plural
        # env-vars resource: one resource per variable is the fewest it allows.
        variables: list[tuple[str, list[str], pulumi.Input[str], bool, str | None]] = []
        for var in spec.env:
            value: pulumi.Input[str] = secret_config[full_key(var.from_config)] if var.from_config else (var.value or "")
            variables.append((var.key, list(var.targets), value, var.is_sensitive, var.git_branch))
        for key, targets, secret in injected:
            variables.append((key, list(targets), secret, vercel_allows_sensitive(list(targets)), None))
        # Logical names follow the key (and its n-th declaration when a key is declared for several
        # target sets), not the targets: moving a var to other targets is then an update in place,
        # never a create of the same key beside the old one, which Vercel refuses as a conflict.
        seen: dict[str, int] = {}
        for key, targets, value, sensitive, git_branch in variables:
            seen[key] = seen.get(key, 0) + 1
            vercel.ProjectEnvironmentVariable(
                f"{name}-{key}" + (f"-{seen[key]}" if seen[key] > 1 else ""),
                project_id=self.project.id,
                team_id=team,
                key=key,
                value=value,
                targets=targets,
                sensitive=sensitive,
                git_branch=git_branch,
                # A replacement (e.g. sensitive flipped) must delete first: Vercel refuses a
                # second var with the same key and target.
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )

        for domain in spec.domains:
            vercel.ProjectDomain(f"{name}-{domain}", project_id=self.project.id, domain=domain, team_id=team, opts=child)

        primary = spec.domains[0] if spec.domains else f"{name}.vercel.app"
        self.url = pulumi.Output.from_input(f"https://{primary}")
        self.health_check_url = (
            pulumi.Output.from_input(f"https://{primary}{spec.health_check.path}") if spec.health_check else None
        )
        self.register_outputs({"url": self.url, "healthCheckUrl": self.health_check_url})
