"""Which `pulumi` CLI operator commands run, and with what environment.

The offline engine (built by tools/engine into .engine/) runs with plugins only
from .engine/home at exact versions, automatic plugin download off, and
HTTP(S)_PROXY pointing at a closed port, so anything that still tried to reach
the internet would fail loudly while the emulators on 127.0.0.1 stay reachable.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".engine" / "bin"
HOME = ROOT / ".engine" / "home"
LOCAL_PASSPHRASE = "launchplan-local-only"  # protects throwaway local stacks only, never real credentials
SANDBOX_STACK = "sandbox"  # the stack `launchplan sandbox` applies; it keeps its state apart from real ones
SANDBOX_STATE = Path(".sandbox") / "pulumi-state"  # under the team's project root
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


def sandbox_env(project: Path, vercel_url: str, heroku_url: str | None = None) -> dict[str, str]:
    """The sandbox stack: the offline engine on the sandbox's own backend and passphrase, with the
    vercel and heroku plugins sent to their emulators (both honour their upstream URL variables)."""
    home = sandbox_home(project)
    urls = {"VERCEL_API_URL": vercel_url, **({"HEROKU_API_URL": heroku_url} if heroku_url else {})}
    return offline_env(
        project / SANDBOX_STATE,
        PULUMI_BACKEND_URL=sandbox_backend(project),
        PULUMI_CONFIG_PASSPHRASE=SANDBOX_PASSPHRASE,
        PULUMI_HOME=str(home),
        **urls,
    )


def sandbox_backend(project: Path) -> str:
    """Where the sandbox's stacks keep their state: its own file backend, never a real stack's."""
    return f"file://{project / SANDBOX_STATE}"


def _same_build(copy: Path, source: Path) -> bool:
    """The sandbox's plugin file is the engine's build: its hard link, or a copy with its size and time."""
    if not copy.exists():
        return False
    if copy.samefile(source):
        return True
    mine, theirs = copy.stat(), source.stat()
    return (mine.st_size, mine.st_mtime_ns) == (theirs.st_size, theirs.st_mtime_ns)


def sandbox_home(project: Path) -> Path:
    """The sandbox's PULUMI_HOME, apart from the one real stacks use (credentials, workspaces, logs).
    Its plugins are hard links to the engine's own builds (the engine does not follow symlinked
    plugin folders), refreshed when the engine is rebuilt."""
    home = project / ".sandbox" / "pulumi-home"
    plugins = home / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    built = {p.name: p for p in (HOME / "plugins").glob("*-v*") if p.is_dir()}
    for folder in [p for p in plugins.glob("*-v*") if p.is_dir()]:
        stale = folder.name not in built or any(not _same_build(folder / f.name, f) for f in built[folder.name].iterdir())
        if stale:  # a version the engine no longer has, or an older build of it
            shutil.rmtree(folder)
            (plugins / f"{folder.name}.lock").unlink(missing_ok=True)
    for name, source in built.items():
        folder = plugins / name
        if not folder.is_dir():
            folder.mkdir()
            for f in source.iterdir():
                try:
                    os.link(f, folder / f.name)
                except OSError:  # another filesystem (EXDEV) or no hard links: a copy does as well
                    shutil.copy2(f, folder / f.name)
            (plugins / f"{name}.lock").touch()
    return home


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


# --- engine runs: one process group each, nothing left behind ---------------------------------
#
# Every process an engine run starts (the CLI, its language host, the program, plugins and dynamic
# provider hosts, each of which the CLI puts in a process group of its own) inherits RUN_MARKER in
# its environment. A run ends, on every path (normal exit, error, KeyboardInterrupt, SIGTERM, a
# timeout), by stopping its process group and then every process still carrying its marker. The
# marker names the launchplan process that owns the run, so a later command can also stop what a
# killed one (SIGKILL: no clean-up at all) left behind: see `stop_orphaned_runs`.

RUN_MARKER = "LAUNCHPLAN_RUN"
_active: dict[str, subprocess.Popen[str]] = {}
_active_lock = threading.Lock()


class EngineInterruptedError(KeyboardInterrupt):
    """SIGTERM while an engine run was in progress: raised in the main thread so clean-up runs."""


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        return None


def _owner_tag() -> str:
    return f"{os.getpid()}.{_start_time(os.getpid()) or 0}"


def _marked(marker_prefix: str, marker: str = RUN_MARKER, exact: bool = False) -> dict[int, str]:
    """pid -> marker of every live process whose environment carries a marker starting with marker_prefix."""
    found = {}
    needle = f"{marker}={marker_prefix}".encode()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        for item in environ.split(b"\0"):
            if item == needle if exact else item.startswith(needle):
                pid = int(entry.name)
                if _state(pid) not in (None, "Z"):
                    found[pid] = item.split(b"=", 1)[1].decode(errors="replace")
                break
    return found


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return None


def _kill(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def stop_marked(marker_prefix: str, grace: float = 3.0, marker: str = RUN_MARKER, exact: bool = False) -> list[int]:
    """SIGTERM, then SIGKILL after `grace` seconds, every process carrying a marker with this prefix."""

    def marked() -> dict[int, str]:
        return _marked(marker_prefix, marker, exact)

    pids = list(marked())
    if not pids:
        return []
    _kill(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and marked():
        time.sleep(0.05)
    _kill(list(marked()), signal.SIGKILL)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and marked():
        time.sleep(0.05)
    return pids


def stop_orphaned_runs(where: str | None = None) -> list[int]:
    """Stop what engine runs of launchplan processes that no longer exist left running (a killed
    `up`: the CLI, plugins, provider hosts), optionally only those that used a backend URL containing
    `where`. A run whose owner is alive is never touched."""
    orphans = []
    for pid, marker in _marked("").items():
        owner, _, rest = marker.partition(".")
        started = rest.split(".", 1)[0]
        if owner.isdigit() and _start_time(int(owner)) == started:
            continue  # its launchplan process is alive: not an orphan
        if where is not None:
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if where.encode() not in environ:
                continue
        orphans.append(pid)
    _kill(orphans, signal.SIGKILL)  # their owner is gone: nothing will ever wait for them
    return orphans


def _stop(proc: subprocess.Popen[str], marker: str, graceful: bool) -> None:
    if proc.poll() is None and graceful:
        # The CLI cancels on SIGINT: in-flight operations finish and the state is written.
        _kill([proc.pid], signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    stop_marked(marker)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise EngineInterruptedError(f"stopped by signal {signum}")


def run_engine(
    cmd: list[str],
    *,
    cwd: Path | str,
    env: dict[str, str],
    capture: bool = True,
    timeout: float | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run an engine command (`pulumi ...`) in a process group of its own; when it returns or
    raises, no process it started is left running."""
    marker = f"{_owner_tag()}.{uuid.uuid4().hex}"
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main else None
    pipe = subprocess.PIPE if capture else None
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env={**env, RUN_MARKER: marker},
        stdin=subprocess.PIPE if input is not None else None,
        stdout=pipe,
        stderr=pipe,
        text=True,
        start_new_session=True,
    )
    with _active_lock:
        _active[marker] = proc
    graceful = True
    try:
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            pending_input = input
            while True:
                try:
                    stdout, stderr = proc.communicate(pending_input, timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    pending_input = None
                    if proc.poll() is not None:
                        stop_marked(marker)  # the CLI is done: what it left behind holds our pipes open
                    if deadline is not None and time.monotonic() > deadline:
                        graceful = False
                        raise subprocess.TimeoutExpired(cmd, timeout or 0) from None
        except BaseException:
            if main:  # interrupted: stop every run in progress, this thread's and the workers'
                with _active_lock:
                    others = [(m, p) for m, p in _active.items() if m != marker]
                for other_marker, other in others:
                    _stop(other, other_marker, graceful=True)
            raise
    finally:
        try:
            _stop(proc, marker, graceful)
        finally:
            with _active_lock:
                _active.pop(marker, None)
            if main and previous is not None:
                signal.signal(signal.SIGTERM, previous)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


@atexit.register
def _stop_all_runs() -> None:
    with _active_lock:
        runs = list(_active.items())
    for marker, proc in runs:
        _stop(proc, marker, graceful=False)


# --- naming what failed ---------------------------------------------------------------------------

# First match wins: a protected resource or a policy is named before the network errors it may mention.
_CAUSES: list[tuple[str, str, re.Pattern[str]]] = [
    ("protected", "a protected resource", re.compile(r"marked for protection|protected resource|is protected", re.I)),
    ("policy", "a policy violation", re.compile(r"mandatory policy|policy violation|policy pack .* failed", re.I)),
    (
        "conflict",
        "an object that already exists on the platform (a lost response?)",
        re.compile(r"already exists|already in use|already taken|ENV_CONFLICT|\b409\b", re.I),
    ),
    (
        "network",
        "the platform API or the network",
        re.compile(
            r"\b(429|50[0234])\b|temporarily unavailable|connection refused|connection reset|no such host|"
            r"i/o timeout|timed out|deadline exceeded|cannot reach|dial tcp|rate limit|unexpected EOF",
            re.I,
        ),
    ),
    (
        "engine",
        "the Pulumi engine or a plugin",
        re.compile(r"plugin|language host|grpc|panic:|passphrase|could not load|failed to load|no stack named", re.I),
    ),
]


def failure_cause(output: str) -> tuple[str, str]:
    """(kind, first matching line) of an engine failure: protected | policy | conflict | network | engine | error."""
    lines = [line.strip() for line in _without_json(output).splitlines() if line.strip()]
    for kind, _, pattern in _CAUSES:
        for line in lines:
            if pattern.search(line):
                return kind, line[:300]
    return "error", (lines[-1][:300] if lines else "no output")


def _without_json(output: str) -> str:
    """The output of a `--json` run as lines to read: its JSON document (a preview's steps) replaced
    by the messages of its error diagnostics, the engine's own reasons; other text kept."""
    start = output.find("{")
    if start < 0 or output[:start].strip():
        return output
    try:
        doc, end = json.JSONDecoder().raw_decode(output, start)
    except ValueError:
        return output
    diagnostics = doc.get("diagnostics") if isinstance(doc, dict) else None
    errors = [
        str(d.get("message", "")).strip()
        for d in diagnostics or []
        if isinstance(d, dict) and d.get("severity") == "error" and str(d.get("message", "")).strip()
    ]
    return "\n".join([*errors, output[end:]])


def cause_label(kind: str) -> str:
    return next((label for k, label, _ in _CAUSES if k == kind), "an error")
