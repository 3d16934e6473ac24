"""The rehearsal project (scripts/rehearsal.py): a team's own stack files, never written, rehearsed
through generated overlays in `.sandbox/project/` whose secrets are fake ones set with the offline
engine on the sandbox's own file backend; and the sandbox's PULUMI_HOME (scripts/pulumi_cli.py
sandbox_home), whose plugins are hard links to the engine's builds.

The engine calls run the offline engine (.engine/bin) against the local file backend under the
team folder's `.sandbox/` only: nothing is sent anywhere."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import scripts.pulumi_cli
from scripts import rehearsal
from scripts.pulumi_cli import BIN, SANDBOX_PASSPHRASE, run_engine, sandbox_env, sandbox_home
from tests.support.stacks import ROOT

TEAM_CIPHERTEXT = "v1:TeAmNoNcE0123456:dGVhbSBjaXBoZXJ0ZXh0OiBuZXZlciBkZWNyeXB0ZWQsIG5ldmVyIGNvcGllZA=="
TEAM_SALT = "v1:TeAmSaLt00=:v1:TeAmSaLtNoNcE012:dGVhbSBzYWx0IG5ldmVyIGtlcHQ="
ENDPOINTS = {
    "calendlyApi": "http://127.0.0.1:47302",
    "herokuApi": "http://127.0.0.1:47304",
    "herokuDataApi": "http://127.0.0.1:47303",
    "sandboxApps": "http://127.0.0.1:47306",
    "vercelApi": "http://127.0.0.1:47301",
}

STAGING = f"""\
# The team's staging stack: its secure value is the team's, never decrypted nor copied.
config:
  launchplan:heroku:
    apps:
      shop-staging:
        region: us
        env:
          RAILS_ENV: staging
        secretEnv:
          SMTP_PASS: smtpPassword
        healthCheck: {{path: /healthz}}
  launchplan:vercel:
    projects:
      shop-web:
        env:
          - {{key: ARRIVY_AUTH_KEY, fromConfig: arrivyAuthKey, targets: [production]}}
          - {{key: APP_ENV, value: staging, targets: [production]}}
  launchplan:smtpPassword:
    secure: {TEAM_CIPHERTEXT}
  launchplan:sandbox: false
  launchplan:endpoints:
    herokuApi: https://api.heroku.com
  heroku:delays:
    postAppCreateDelay: 30
encryptionsalt: {TEAM_SALT}
"""

# A sandbox stack file: its secrets are the sandbox's own (any ciphertext will do: it is copied, not read).
SANDBOX = """\
# A local sandbox stack, fake credentials only.
config:
  launchplan:sandbox: "true"
  launchplan:endpoints:
    herokuApi: http://127.0.0.1:47204
  launchplan:heroku:
    apps:
      sandbox-app:
        env: {NODE_ENV: production}
  heroku:apiKey:
    secure: v1:SaNdBoXnOnCe0123:c2FuZGJveCBvd24gZmFrZSBjaXBoZXJ0ZXh0
encryptionsalt: v1:SaNdBoXsAlT=:v1:SaNdBoXsAlTnOnCe:c2FuZGJveCBzYWx0
"""

# The fakes the overlay of STAGING must hold: every secure key of the team file and every secret the spec reads.
FAKES = {
    "heroku:apiKey": "sandbox-heroku-key-0000",  # read by the spec (it has Heroku apps), absent from the file
    "vercel:apiToken": "0" * 24,  # read by the spec (it has Vercel projects)
    "launchplan:smtpPassword": "sandbox-fake-smtpPassword",  # secure in the team file
    "launchplan:arrivyAuthKey": "sandbox-fake-arrivyAuthKey",  # read by the spec (fromConfig), absent from the file
}


@dataclass
class Team:
    root: Path
    env: dict[str, str]

    def files(self) -> dict[str, bytes]:
        """Every file of the team project outside .sandbox, by relative path."""
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            if p.is_file() and ".sandbox" not in p.relative_to(self.root).parts
        }

    def prepare(self, endpoints: dict[str, str] = ENDPOINTS) -> Path:
        assert rehearsal.prepare(self.root, endpoints, self.env) == []  # no stack file skipped
        return rehearsal.rehearsal_root(self.root)


def team_project(where: Path, **stacks: str) -> Team:
    team = where / "team"
    team.mkdir()
    project_text = (ROOT / "Pulumi.yaml").read_text()
    assert yaml.safe_load(project_text)["runtime"]["options"]["virtualenv"] == ".venv"  # relative, as in the repo
    (team / "Pulumi.yaml").write_text(project_text)
    for stack, text in stacks.items():
        (team / f"Pulumi.{stack}.yaml").write_text(text)
    (team / ".sandbox" / "pulumi-state").mkdir(parents=True)  # as `launchplan sandbox` makes it before preparing
    return Team(team, sandbox_env(team, ENDPOINTS["vercelApi"], ENDPOINTS["herokuApi"]))


@pytest.fixture
def team(tmp_path: Path) -> Team:
    scripts.pulumi_cli.require_engine()
    return team_project(tmp_path, staging=STAGING, sandbox=SANDBOX)


def shown_config(root: Path, env: dict[str, str], stack: str) -> dict[str, Any]:
    """`pulumi config --show-secrets --json` of a rehearsed stack, run where the sandbox runs it."""
    proc = run_engine(
        [str(BIN / "pulumi"), "config", "--show-secrets", "--json", "--stack", stack], cwd=root, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def overlay_doc(root: Path, stack: str) -> dict[str, Any]:
    return dict(yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()))


# --- the rehearsal project -------------------------------------------------------------------------------


@pytest.mark.integration
def test_the_rehearsal_project_runs_the_team_program_with_an_absolute_virtualenv(team: Team) -> None:
    root = team.prepare()
    assert root == team.root / ".sandbox" / "project"
    project = yaml.safe_load((root / "Pulumi.yaml").read_text())
    team_project_doc = yaml.safe_load((team.root / "Pulumi.yaml").read_text())
    assert project["main"] == str(team.root.resolve())
    venv = project["runtime"]["options"]["virtualenv"]
    assert Path(venv).is_absolute() and venv == str((team.root / ".venv").resolve())
    assert project["name"] == team_project_doc["name"] and project["config"] == team_project_doc["config"]
    assert (root / rehearsal.MARKER).read_text() == str(team.root)


@pytest.mark.integration
def test_team_root_and_sandbox_dir_lead_back_to_the_team_project(team: Team) -> None:
    root = team.prepare()
    assert rehearsal.team_root(root) == team.root
    assert rehearsal.sandbox_dir(root) == team.root / ".sandbox"
    assert rehearsal.team_root(team.root) == team.root  # not a rehearsal project: the folder itself
    assert rehearsal.sandbox_dir(team.root) == team.root / ".sandbox"


@pytest.mark.integration
def test_the_overlay_points_at_the_emulators_without_a_trace_of_the_teams_secrets(team: Team) -> None:
    root = team.prepare()
    text = (root / "Pulumi.staging.yaml").read_text()
    assert TEAM_CIPHERTEXT not in text and TEAM_SALT not in text
    assert "api.heroku.com" not in text  # the team's own endpoints are replaced, not merged

    doc = overlay_doc(root, "staging")
    config = doc["config"]
    source = yaml.safe_load(STAGING)["config"]
    assert config["launchplan:endpoints"] == ENDPOINTS
    assert str(config["launchplan:sandbox"]).lower() == "true"
    assert config["heroku:delays"] == {"postAppCreateDelay": 0, "postDomainCreateDelay": 0}
    assert (
        config["launchplan:heroku"] == source["launchplan:heroku"] and config["launchplan:vercel"] == source["launchplan:vercel"]
    )
    assert set(config) == {
        "launchplan:heroku",
        "launchplan:vercel",
        "launchplan:sandbox",
        "launchplan:endpoints",
        "heroku:delays",
        *FAKES,
    }
    assert all(set(config[key]) == {"secure"} for key in FAKES)  # set with --secret: ciphertext only
    assert doc["encryptionsalt"] and doc["encryptionsalt"] != TEAM_SALT

    shown = shown_config(root, team.env, "staging")
    assert {key: shown[key]["value"] for key in FAKES} == FAKES
    assert all(shown[key]["secret"] for key in FAKES)
    assert shown["launchplan:sandbox"]["value"] == "true"
    assert team.env["PULUMI_CONFIG_PASSPHRASE"] == SANDBOX_PASSPHRASE  # the sandbox's passphrase decrypts them
    assert team.env["PULUMI_BACKEND_URL"] == f"file://{team.root / '.sandbox' / 'pulumi-state'}"


@pytest.mark.integration
def test_the_team_files_are_never_written(team: Team) -> None:
    before = team.files()
    root = team.prepare()
    (root / "Pulumi.staging.yaml").write_text((root / "Pulumi.staging.yaml").read_text() + "# edited in the rehearsal\n")
    team.prepare()
    assert team.files() == before
    assert set(before) == {"Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.sandbox.yaml"}


@pytest.mark.integration
def test_a_sandbox_stack_file_is_copied_verbatim(team: Team) -> None:
    (team.root / "Pulumi.demo.yaml").write_text(SANDBOX.replace('launchplan:sandbox: "true"', "launchplan:sandbox: true"))
    root = team.prepare()
    assert (root / "Pulumi.sandbox.yaml").read_bytes() == (team.root / "Pulumi.sandbox.yaml").read_bytes()
    # Only the stack named sandbox is taken as is: another file setting the flag is overlaid, so its
    # own secrets (whoever encrypted them) are never copied.
    demo = (root / "Pulumi.demo.yaml").read_text()
    ciphertexts = re.findall(r"secure: (\S+)", (team.root / "Pulumi.demo.yaml").read_text())
    assert ciphertexts and not any(c in demo for c in ciphertexts)


@pytest.mark.integration
def test_an_unchanged_source_keeps_the_overlay_and_a_changed_one_regenerates_it(team: Team) -> None:
    root = team.prepare()
    overlay = root / "Pulumi.staging.yaml"
    salt = overlay_doc(root, "staging")["encryptionsalt"]

    edited = overlay.read_text().replace("RAILS_ENV: staging", "RAILS_ENV: written-by-the-rehearsal")
    assert "written-by-the-rehearsal" in edited
    overlay.write_text(edited)
    team.prepare()
    assert overlay.read_text() == edited  # kept: what a rehearsal wrote into it survives

    source = team.root / "Pulumi.staging.yaml"
    source.write_text(source.read_text().replace("RAILS_ENV: staging", "RAILS_ENV: staging-2"))
    team.prepare()
    doc = overlay_doc(root, "staging")
    assert doc["config"]["launchplan:heroku"]["apps"]["shop-staging"]["env"] == {"RAILS_ENV": "staging-2"}
    assert "written-by-the-rehearsal" not in overlay.read_text()
    assert doc["encryptionsalt"] == salt  # the stack's existing secrets still decrypt
    shown = shown_config(root, team.env, "staging")
    assert {key: shown[key]["value"] for key in FAKES} == FAKES

    moved = {**ENDPOINTS, "herokuApi": "http://127.0.0.1:48304"}  # the emulators' ports changed
    team.prepare(moved)
    assert overlay_doc(root, "staging")["config"]["launchplan:endpoints"] == moved
    assert overlay_doc(root, "staging")["encryptionsalt"] == salt


@pytest.mark.integration
def test_a_nested_secure_value_is_never_copied_either(tmp_path: Path) -> None:
    scripts.pulumi_cli.require_engine()
    nested = STAGING.replace(
        "encryptionsalt:", f"  monitor:settings:\n    token:\n      secure: {TEAM_CIPHERTEXT}\nencryptionsalt:"
    ).replace(f"  launchplan:smtpPassword:\n    secure: {TEAM_CIPHERTEXT}\n", "")
    settings = yaml.safe_load(nested)["config"]["monitor:settings"]
    assert settings == {"token": {"secure": TEAM_CIPHERTEXT}} and nested.count(TEAM_CIPHERTEXT) == 1
    team = team_project(tmp_path, staging=nested)
    root = team.prepare()
    assert TEAM_CIPHERTEXT not in (root / "Pulumi.staging.yaml").read_text()
    shown_config(root, team.env, "staging")  # the rehearsed stack's config decrypts with the sandbox passphrase


# --- exported: shell exports that survive eval ---------------------------------------------------------------

AWKWARD = {
    "LP_QUOTES": "it's a 'single' and \"double\" quote",
    "LP_SPACES": "  two  spaces,\ta tab and a trailing space ",
    "LP_DOLLAR": "$HOME ${PATH} $((1+1)) `echo no`",
    "LP_BACKSLASH": "C:\\path\\to\\n \\' \\\\ end\\",
    "LP_NEWLINE": "line one\nline two\n",
    "LP_ONLY_QUOTE": "'",
    "LP_EMPTY": "",
    "LP_GLOB": "* ? [a-z] ~ ; | & < > #",
}


def bash_value(exports: str, name: str) -> str:
    proc = subprocess.run(
        ["bash", "-c", f'eval "$X"; printf %s "${name}"'],
        env={"X": exports, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return proc.stdout


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_exported_values_survive_eval_exactly(name: str) -> None:
    assert bash_value(rehearsal.exported(AWKWARD, list(AWKWARD)), name) == AWKWARD[name]


def test_exported_runs_nothing_and_exports_to_child_processes(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    env = {"LP_CMD": f"$(touch {marker}); `touch {marker}`; touch {marker}"}
    exports = rehearsal.exported(env, ["LP_CMD"])
    assert bash_value(exports, "LP_CMD") == env["LP_CMD"]
    assert not marker.exists()
    child = subprocess.run(
        ["bash", "-c", 'eval "$X"; exec printenv LP_CMD'],
        env={"X": exports, "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
    )
    assert child.stdout == env["LP_CMD"] + "\n"  # exported, not just set


def test_exported_lists_only_the_keys_asked_for_that_exist() -> None:
    exports = rehearsal.exported({"A": "1", "B": "2", "C": "3"}, ["C", "A", "MISSING"])
    assert exports == "export C='3'\nexport A='1'\n"


# --- sandbox_home: hard-linked plugin folders --------------------------------------------------------------


@dataclass
class EngineHome:
    plugins: Path  # the engine's own plugin builds (HOME/plugins)
    project: Path

    def build(self, name: str, content: bytes) -> Path:
        """(Re)build a plugin: a new file, so a new inode, as the engine's build writes it."""
        folder = self.plugins / name
        folder.mkdir(parents=True, exist_ok=True)
        binary = folder / f"pulumi-{name.split('-v')[0]}"
        binary.unlink(missing_ok=True)
        binary.write_bytes(content)
        (self.plugins / f"{name}.lock").touch()
        return binary

    def copy(self, name: str) -> Path:
        return self.project / ".sandbox" / "pulumi-home" / "plugins" / name


@pytest.fixture
def engine_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EngineHome]:
    home = tmp_path / "engine-home"
    monkeypatch.setattr(scripts.pulumi_cli, "HOME", home)
    project = tmp_path / "project"
    project.mkdir()
    yield EngineHome(home / "plugins", project)


def test_sandbox_home_links_every_plugin_file_into_a_real_folder(engine_home: EngineHome) -> None:
    x = engine_home.build("resource-x-v1.0.0", b"x build 1")
    y = engine_home.build("resource-y-v2.3.4+launchplan", b"y build 1")
    (engine_home.plugins / "resource-x-v1.0.0.lastused").touch()  # not a plugin folder

    home = sandbox_home(engine_home.project)

    assert home == engine_home.project / ".sandbox" / "pulumi-home"
    assert sorted(p.name for p in (home / "plugins").iterdir()) == [
        "resource-x-v1.0.0",
        "resource-x-v1.0.0.lock",
        "resource-y-v2.3.4+launchplan",
        "resource-y-v2.3.4+launchplan.lock",
    ]
    for source, name in ((x, "resource-x-v1.0.0"), (y, "resource-y-v2.3.4+launchplan")):
        folder = engine_home.copy(name)
        assert folder.is_dir() and not folder.is_symlink()  # the engine does not follow symlinked plugin folders
        linked = folder / source.name
        assert not linked.is_symlink() and linked.samefile(source)
        assert [p.name for p in folder.iterdir()] == [source.name]


def test_sandbox_home_is_idempotent(engine_home: EngineHome) -> None:
    x = engine_home.build("resource-x-v1.0.0", b"x build 1")
    sandbox_home(engine_home.project)
    inode = (engine_home.copy("resource-x-v1.0.0") / x.name).stat().st_ino
    sandbox_home(engine_home.project)
    assert (engine_home.copy("resource-x-v1.0.0") / x.name).stat().st_ino == inode == x.stat().st_ino


def test_a_plugin_the_engine_no_longer_has_is_removed_with_its_lock(engine_home: EngineHome) -> None:
    engine_home.build("resource-x-v1.0.0", b"x build 1")
    y = engine_home.build("resource-y-v2.0.0", b"y build 1")
    sandbox_home(engine_home.project)
    shutil.rmtree(engine_home.plugins / "resource-x-v1.0.0")

    home = sandbox_home(engine_home.project)

    assert not engine_home.copy("resource-x-v1.0.0").exists()
    assert not (home / "plugins" / "resource-x-v1.0.0.lock").exists()
    assert (engine_home.copy("resource-y-v2.0.0") / y.name).samefile(y)  # the others stay


def test_a_rebuilt_plugin_is_linked_again(engine_home: EngineHome) -> None:
    first = engine_home.build("resource-x-v1.0.0", b"x build 1")
    sandbox_home(engine_home.project)
    old_inode = first.stat().st_ino
    rebuilt = engine_home.build("resource-x-v1.0.0", b"x build 2, a new inode")
    assert rebuilt.stat().st_ino != old_inode

    home = sandbox_home(engine_home.project)

    linked = engine_home.copy("resource-x-v1.0.0") / rebuilt.name
    assert linked.samefile(rebuilt) and linked.read_bytes() == b"x build 2, a new inode"
    assert (home / "plugins" / "resource-x-v1.0.0.lock").is_file()


def test_a_new_file_in_a_rebuilt_plugin_is_linked_too(engine_home: EngineHome) -> None:
    binary = engine_home.build("resource-x-v1.0.0", b"x build 1")
    sandbox_home(engine_home.project)
    extra = engine_home.plugins / "resource-x-v1.0.0" / "PulumiPlugin.yaml"
    extra.write_text("runtime: go\n")

    sandbox_home(engine_home.project)

    folder = engine_home.copy("resource-x-v1.0.0")
    assert (folder / extra.name).samefile(extra) and (folder / binary.name).samefile(binary)


def test_sandbox_env_uses_the_sandbox_home_backend_and_passphrase(engine_home: EngineHome) -> None:
    engine_home.build("resource-x-v1.0.0", b"x build 1")
    env = sandbox_env(engine_home.project, "http://127.0.0.1:47201", "http://127.0.0.1:47204")
    assert env["PULUMI_HOME"] == str(engine_home.project / ".sandbox" / "pulumi-home")
    assert env["PULUMI_BACKEND_URL"] == f"file://{engine_home.project / '.sandbox' / 'pulumi-state'}"
    assert env["PULUMI_CONFIG_PASSPHRASE"] == SANDBOX_PASSPHRASE
    assert (env["VERCEL_API_URL"], env["HEROKU_API_URL"]) == ("http://127.0.0.1:47201", "http://127.0.0.1:47204")
    assert engine_home.copy("resource-x-v1.0.0").is_dir()  # the home is made ready as well
    assert "HEROKU_API_URL" not in sandbox_env(engine_home.project, "http://127.0.0.1:47201")


# --- files that cannot be rehearsed, dotted keys, git ------------------------------------------


@pytest.mark.integration
def test_a_broken_stack_file_stops_only_its_own_rehearsal(team: Team) -> None:
    (team.root / "Pulumi.wip.yaml").write_text("config:\n  launchplan:heroku: [unclosed\n")
    skipped = rehearsal.prepare(team.root, ENDPOINTS, team.env)
    assert len(skipped) == 1 and "wip" in skipped[0] and "not valid YAML" in skipped[0], skipped
    assert (rehearsal.rehearsal_root(team.root) / "Pulumi.staging.yaml").is_file()  # the others are rehearsed
    with pytest.raises(rehearsal.RehearsalError, match=re.escape("Pulumi.wip.yaml is not valid YAML")):
        rehearsal.prepare(team.root, ENDPOINTS, team.env, needed=("wip",))
    (team.root / "Pulumi.wip.yaml").write_text("- a list\n")
    with pytest.raises(rehearsal.RehearsalError, match="must be a mapping"):
        rehearsal.prepare(team.root, ENDPOINTS, team.env, needed=("wip",))


@pytest.mark.integration
def test_a_secret_under_a_dotted_key_stays_under_that_key(tmp_path: Path) -> None:
    scripts.pulumi_cli.require_engine()
    dotted = STAGING.replace(
        "encryptionsalt:",
        f'  monitor:hosts:\n    "calendly.example.com":\n      token:\n        secure: {TEAM_CIPHERTEXT}\nencryptionsalt:',
    )
    team = team_project(tmp_path, staging=dotted)
    root = team.prepare()
    hosts = shown_config(root, team.env, "staging")["monitor:hosts"]["value"]
    hosts = json.loads(hosts) if isinstance(hosts, str) else hosts
    assert set(hosts) == {"calendly.example.com"} and hosts["calendly.example.com"]["token"].startswith("sandbox-fake-")


def test_the_sandbox_folder_ignores_itself_in_git(tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", team / "Pulumi.yaml")
    (team / ".sandbox" / "pulumi-state").mkdir(parents=True)
    assert rehearsal.prepare(team, ENDPOINTS, {}) == []  # no stack files: no engine call
    (team / ".sandbox" / "emulators.log").write_text("a log line\n")
    subprocess.run(["git", "init", "-q"], cwd=team, check=True)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=team, capture_output=True, text=True)
    assert status.stdout.splitlines() == ["?? Pulumi.yaml"], status.stdout
