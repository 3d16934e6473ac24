"""The project on disk: its root folder found from anywhere inside it, and its stack files."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.project import find_project_root, require_stack_file, stack_file, stack_names
from tests.support.stacks import ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "infra" / "spec").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: launchplan\n")
    for stack in ("staging", "production", "prod-eu"):
        (root / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (root / "README.md").write_text("not a stack\n")
    return root


def test_the_root_is_found_from_the_folder_itself_and_from_a_nested_one(project: Path) -> None:
    assert find_project_root(project) == project
    assert find_project_root(project / "infra" / "spec") == project


def test_the_current_folder_is_the_default_start(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project / "infra")
    assert find_project_root() == project


def test_the_nearest_pulumi_yaml_wins(project: Path) -> None:
    inner = project / "infra"
    (inner / "Pulumi.yaml").write_text("name: inner\n")
    assert find_project_root(inner / "spec") == inner


def test_a_folder_named_pulumi_yaml_is_not_a_project(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").mkdir()
    assert find_project_root(tmp_path) == ROOT


def test_outside_any_project_the_checkout_is_the_fallback(tmp_path: Path) -> None:
    assert not any((folder / "Pulumi.yaml").exists() for folder in (tmp_path, *tmp_path.parents))
    assert find_project_root(tmp_path) == ROOT
    assert (ROOT / "Pulumi.yaml").is_file()


def test_stack_names_lists_every_stack_file_sorted(project: Path) -> None:
    assert stack_names(project) == ["prod-eu", "production", "staging"]
    assert stack_names(project / "infra") == []


def test_stack_file_and_require_stack_file(project: Path) -> None:
    assert stack_file(project, "staging") == project / "Pulumi.staging.yaml"
    assert require_stack_file(project, "staging") == project / "Pulumi.staging.yaml"


def test_an_unknown_stack_names_the_file_and_the_stacks_there(project: Path) -> None:
    with pytest.raises(ValueError) as info:
        require_stack_file(project, "stagin")
    assert str(info.value) == "no stack 'stagin': Pulumi.stagin.yaml does not exist (stacks here: prod-eu, production, staging)"


def test_an_unknown_stack_in_a_project_without_stacks(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\(stacks here: none\)"):
        require_stack_file(tmp_path, "staging")
