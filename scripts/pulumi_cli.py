"""Which `pulumi` CLI operator commands run, and with what environment.

The offline engine (built by tools/engine into .engine/) runs with plugins only
from .engine/home at exact versions, automatic plugin download off, and
HTTP(S)_PROXY pointing at a closed port, so anything that still tried to reach
the internet would fail loudly while the emulators on 127.0.0.1 stay reachable.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".engine" / "bin"
HOME = ROOT / ".engine" / "home"
LOCAL_PASSPHRASE = "launchplan-local-only"  # protects throwaway local stacks only, never real credentials
SANDBOX_STACK = "sandbox"  # the stack `launchplan sandbox` applies; it keeps its state apart from real ones
SANDBOX_PASSPHRASE = "launchplan-sandbox"  # documented as sandbox-only; protects the sandbox's fake credentials only


class EngineMissingError(RuntimeError):
    pass


def require_engine() -> None:
    missing = [b for b in ("pulumi", "pulumi-language-python") if not (BIN / b).exists()]
    if missing:
        raise EngineMissingError(f"the offline engine is not built ({', '.join(missing)} missing in {BIN}): run `make engine`")


def offline_env(backend: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "VERCEL_", "HEROKU_"))}
    env.update(
        PATH=f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}",
        PULUMI_HOME=str(HOME),
        PULUMI_BACKEND_URL=f"file://{backend}",
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_IGNORE_AMBIENT_PLUGINS="true",
        PULUMI_CONFIG_PASSPHRASE=LOCAL_PASSPHRASE,
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
        PULUMI_DEBUG_COMMANDS="true",  # enables --event-log, as the Automation API does
    )
    env.update(extra)  # callers may override any of the above (e.g. the sandbox's passphrase)
    return env


def sandbox_env(project: Path, vercel_url: str) -> dict[str, str]:
    """The sandbox stack: the offline engine on the sandbox's own backend and passphrase,
    with the vercel plugin sent to its emulator."""
    backend = project / ".sandbox" / "pulumi-state"
    return offline_env(backend, PULUMI_CONFIG_PASSPHRASE=SANDBOX_PASSPHRASE, VERCEL_API_URL=vercel_url)


def pulumi_cli() -> tuple[str, dict[str, str]]:
    """The `pulumi` operator commands run: $LAUNCHPLAN_PULUMI, else the offline engine when built
    (plugins from .engine/home; the user's backend and passphrase kept, else .engine/state), else
    a `pulumi` on PATH with the user's own environment."""
    chosen = os.environ.get("LAUNCHPLAN_PULUMI")
    if chosen:
        return chosen, {**os.environ, "PULUMI_DEBUG_COMMANDS": "true"}
    if (BIN / "pulumi").exists():
        env = dict(os.environ)
        env.update(
            PATH=f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}",
            PULUMI_HOME=str(HOME),
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_IGNORE_AMBIENT_PLUGINS="true",
            PULUMI_DEBUG_COMMANDS="true",
        )
        env.setdefault("PULUMI_BACKEND_URL", f"file://{ROOT / '.engine' / 'state'}")
        return str(BIN / "pulumi"), env
    found = shutil.which("pulumi")
    if found is None:
        raise EngineMissingError("no pulumi CLI: run `make engine`, or install Pulumi and put `pulumi` on PATH")
    # PULUMI_DEBUG_COMMANDS enables --event-log, which drift reads (the Automation API sets it too).
    return found, {**os.environ, "PULUMI_DEBUG_COMMANDS": "true"}
