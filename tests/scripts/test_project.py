"""The project on disk: its root folder found from anywhere inside it, and its stack files."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.project import ProjectError, find_project_root, require_stack_file, stack_file, stack_names
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


# --- LAUNCHPLAN_PROJECT: commands act on a sandbox rehearsal --------------------------------------------


def test_launchplan_project_is_honoured_from_anywhere(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rehearsal = tmp_path / "team" / ".sandbox" / "project"
    rehearsal.mkdir(parents=True)
    (rehearsal / "Pulumi.yaml").write_text("name: launchplan\nmain: /somewhere/else\n")
    monkeypatch.setenv("LAUNCHPLAN_PROJECT", str(rehearsal))
    monkeypatch.chdir(project / "infra")  # inside another project: the variable still wins
    assert find_project_root() == rehearsal.resolve()


def test_launchplan_project_is_resolved_to_an_absolute_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rehearsal").mkdir()
    (tmp_path / "rehearsal" / "Pulumi.yaml").write_text("name: launchplan\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAUNCHPLAN_PROJECT", "rehearsal/../rehearsal")
    found = find_project_root()
    assert found.is_absolute() and found == (tmp_path / "rehearsal").resolve()


@pytest.mark.parametrize("kind", ["empty folder", "missing folder", "Pulumi.yaml is a folder"])
def test_launchplan_project_without_pulumi_yaml_never_falls_back_to_the_real_project(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    chosen = tmp_path / "gone"
    if kind == "empty folder":
        chosen.mkdir()
    elif kind == "Pulumi.yaml is a folder":
        (chosen / "Pulumi.yaml").mkdir(parents=True)
    monkeypatch.setenv("LAUNCHPLAN_PROJECT", str(chosen))
    monkeypatch.chdir(project)  # a real project right here: it must not be picked instead
    with pytest.raises(ProjectError) as info:
        find_project_root()
    message = str(info.value)
    assert f"LAUNCHPLAN_PROJECT={chosen} holds no Pulumi.yaml" in message
    assert "unset LAUNCHPLAN_PROJECT" in message
    assert isinstance(info.value, ValueError)  # callers that report bad input catch it


def test_an_empty_launchplan_project_is_as_if_unset(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAUNCHPLAN_PROJECT", "")
    monkeypatch.chdir(project / "infra" / "spec")
    assert find_project_root() == project


def test_an_explicit_start_ignores_launchplan_project(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rehearsal = tmp_path / "rehearsal"
    rehearsal.mkdir()
    (rehearsal / "Pulumi.yaml").write_text("name: launchplan\n")
    monkeypatch.setenv("LAUNCHPLAN_PROJECT", str(rehearsal))
    assert find_project_root(project / "infra") == project
    monkeypatch.setenv("LAUNCHPLAN_PROJECT", str(tmp_path / "missing"))  # not even checked
    assert find_project_root(project) == project
