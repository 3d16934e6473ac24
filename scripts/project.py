"""The project on disk: its root folder and its stack files."""

from __future__ import annotations

import os
from pathlib import Path

from infra.spec.stack_config import stack_name_from_path

REHEARSAL_VAR = "LAUNCHPLAN_PROJECT"  # set by `eval "$(launchplan sandbox env)"`: commands act on the rehearsal


class ProjectError(ValueError):
    """The project to act on cannot be found: nothing was read or changed."""


def find_project_root(start: Path | None = None) -> Path:
    """$LAUNCHPLAN_PROJECT (a sandbox rehearsal), else the folder holding Pulumi.yaml: the current
    one or a parent, else this checkout."""
    chosen = os.environ.get(REHEARSAL_VAR) if start is None else None
    if chosen:
        if not (Path(chosen) / "Pulumi.yaml").is_file():
            # Never fall back to the team's real stacks when a rehearsal was asked for.
            raise ProjectError(
                f"{REHEARSAL_VAR}={chosen} holds no Pulumi.yaml: leave the rehearsal with "
                f'`eval "$(launchplan sandbox env --unset)"` (or `unset {REHEARSAL_VAR}`) to act on real stacks, '
                "or start it again with `launchplan sandbox up`"
            )
        return Path(chosen).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return Path(__file__).resolve().parent.parent


def stack_file(project: Path, stack: str) -> Path:
    return project / f"Pulumi.{stack}.yaml"


def stack_names(project: Path) -> list[str]:
    """Every stack with a file in the project (Pulumi.<stack>.yaml)."""
    return sorted(stack_name_from_path(p) for p in project.glob("Pulumi.*.yaml"))


def require_stack_file(project: Path, stack: str) -> Path:
    path = stack_file(project, stack)
    if not path.is_file():
        known = ", ".join(stack_names(project)) or "none"
        raise ValueError(f"no stack '{stack}': {path.name} does not exist (stacks here: {known})")
    return path
