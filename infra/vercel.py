"""A Vercel project, all its env vars in one resource, and its domains."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumiverse_vercel as vercel

from infra import spec_vercel as spec_types
from infra.spec_base import full_key

InjectedVar = tuple[str, Sequence[str], pulumi.Output[str]]  # (key, targets, secret value)


class VercelProject(pulumi.ComponentResource):
    project: vercel.Project
    url: pulumi.Output[str]
    health_check_url: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        spec: spec_types.VercelProject,
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

        variables: list[vercel.ProjectEnvironmentVariablesVariableArgs] = []
        for var in spec.env:
            value: pulumi.Input[str] = secret_config[full_key(var.secret)] if var.secret else (var.value or "")
            variables.append(
                vercel.ProjectEnvironmentVariablesVariableArgs(
                    key=var.key,
                    value=value,
                    targets=list(var.targets),
                    sensitive=var.is_sensitive,
                    git_branch=var.git_branch,
                    comment=var.comment,
                )
            )
        for key, targets, secret in injected:
            variables.append(
                vercel.ProjectEnvironmentVariablesVariableArgs(
                    key=key,
                    value=secret,
                    targets=list(targets),
                    sensitive="development" not in targets,
                )
            )
        if variables:
            # One resource for all of them: one diff to review, one API round per change.
            vercel.ProjectEnvironmentVariables(
                f"{name}-env",
                project_id=self.project.id,
                team_id=team,
                variables=sorted(variables, key=lambda v: (v.key, v.targets)),
                opts=child,
            )

        for domain in spec.domains:
            vercel.ProjectDomain(f"{name}-{domain}", project_id=self.project.id, domain=domain, team_id=team, opts=child)

        primary = spec.domains[0] if spec.domains else f"{name}.vercel.app"
        self.url = pulumi.Output.from_input(f"https://{primary}")
        self.health_check_url = (
            pulumi.Output.from_input(f"https://{primary}{spec.health_check.path}") if spec.health_check else None
        )
        self.register_outputs({"url": self.url, "healthCheckUrl": self.health_check_url})
