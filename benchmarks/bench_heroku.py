"""Benchmark launchplan's own heroku and postgresql plugins, in one run: API writes per declared
Heroku resource (`sandbox up` from nothing, with nothing changed, with one config var changed; and
the same for Pulumi.production.yaml against the emulators), `pulumi preview` of Pulumi.production.yaml
against an empty program and against a hand-written plain Pulumi program declaring the same resources
(ratios from interleaved runs, medians), where that time goes, plugin start-up and binary sizes.

Usage: python -m benchmarks.bench_heroku [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from infra.spec.stack_config import StackConfig
from scripts.pulumi_cli import BIN, ROOT
from scripts.render import render
from scripts.sandbox_cmd import STACK
from tests.support.engine import Workspace, project_yaml
from tests.support.heroku_stacks import PLAIN_PROGRAM, Emulators, edit_stack, stacks_workspace, twin_workspace
from tests.support.sandbox import sandbox_copy

LAUNCHPLAN = str(ROOT / ".venv" / "bin" / "launchplan")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
HEROKU_SERVICES = ("heroku", "heroku-data")
# Resources behind the Heroku APIs: one write each is the minimum (random ones live nowhere; Postgres
# extensions and schemas are SQL on the database, not API requests).
HEROKU_TYPES = ("heroku:", "pulumi-python:dynamic/heroku:")


def heroku_writes(entries: list[dict[str, Any]]) -> list[str]:
    return [
        f"{e['method']} {re.sub(r'/[0-9a-f-]{36}', '/ID', e['path'])}"
        for e in entries
        if e["method"] != "GET" and e.get("service") in HEROKU_SERVICES
    ]


def declared_heroku(stack_file: Path, stack: str | None = None) -> list[str]:
    rendering = render(StackConfig.from_file(stack_file, stack) if stack else StackConfig.from_file(stack_file))
    return [r.type for r in rendering.resources if r.custom and r.type.startswith(HEROKU_TYPES)]


def row(label: str, seconds: float, writes: list[str], minimum: int) -> str:
    ratio = f"{len(writes) / minimum:.2f}" if minimum else "—"
    return f"| {label} | {seconds:.1f} | {len(writes)} | {minimum} | {ratio} |"


# --- API writes ---------------------------------------------------------------------------------


def sandbox_requests(project: Path) -> list[dict[str, Any]]:
    log = project / ".sandbox" / "emulators" / "requests.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def launchplan_timed(project: Path, *args: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run([LAUNCHPLAN, *args], cwd=project, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"launchplan {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - started


def sandbox_table(where: Path) -> list[str]:
    project, base = sandbox_copy(where)
    port = f"--port={base}"
    stack_file = project / f"Pulumi.{STACK}.yaml"
    declared = declared_heroku(stack_file)
    rows, detail = [], ""
    try:
        cold = launchplan_timed(project, "sandbox", "up", port)
        writes = heroku_writes(sandbox_requests(project))
        rows.append(row(f"`sandbox up` from nothing ({len(declared)} Heroku resources)", cold, writes, len(declared)))
        detail = ", ".join(f"{w} x{n}" if n > 1 else w for w, n in sorted(Counter(writes).items()))
        mark = len(sandbox_requests(project))
        warm = launchplan_timed(project, "sandbox", "up", port)
        rows.append(row("`sandbox up`, nothing changed", warm, heroku_writes(sandbox_requests(project)[mark:]), 0))
        doc = yaml.safe_load(stack_file.read_text())
        doc["config"]["launchplan:heroku"]["apps"]["sandbox-bookings"]["env"]["LOG_LEVEL"] = "debug"
        stack_file.write_text(yaml.safe_dump(doc, sort_keys=False))
        mark = len(sandbox_requests(project))
        one = launchplan_timed(project, "sandbox", "up", port)
        rows.append(row("`sandbox up`, one config var changed", one, heroku_writes(sandbox_requests(project)[mark:]), 1))
    finally:
        launchplan_timed(project, "sandbox", "down", port, "--destroy-protected")
    return [*rows, f"<!-- sandbox writes from nothing: {detail} -->"]


def production_table(where: Path, emulators: Emulators) -> list[str]:
    ws = stacks_workspace(where, emulators, ["production"])
    declared = declared_heroku(ws.dir / "Pulumi.production.yaml", "production")
    rows = []

    def up() -> tuple[float, list[str]]:
        mark = len(emulators.requests())
        started = time.perf_counter()
        ws.pulumi("up", "--yes", "--non-interactive", "--stack", "production")
        return time.perf_counter() - started, heroku_writes(emulators.requests()[mark:])

    seconds, writes = up()
    rows.append(row(f"`pulumi up` Pulumi.production.yaml from nothing ({len(declared)} Heroku resources)", seconds, writes, 5))
    rows.append(row("`pulumi up` Pulumi.production.yaml, nothing changed", *up(), 0))
    edit_stack(ws, "production", lambda c: c["launchplan:heroku"]["apps"]["sc-mvp-production"]["env"].update(NODE_ENV="staging"))
    rows.append(row("`pulumi up` Pulumi.production.yaml, one config var changed", *up(), 1))
    return rows


# --- preview: launchplan vs an empty program vs the plain program ---------------------------------


def interleaved(runs: int, commands: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Each command once per round, in turn, so load on the machine hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            started = time.perf_counter()
            command()
            samples[name].append(time.perf_counter() - started)
    return samples


def preview_of(ws: Workspace, stack: str) -> Callable[[], object]:
    return lambda: ws.pulumi("preview", "--non-interactive", "--stack", stack)


def preview_table(where: Path, emulators: Emulators, runs: int) -> tuple[list[str], dict[str, float]]:
    empty = Workspace(where / "empty", {"Pulumi.yaml": project_yaml("empty"), "__main__.py": ""})
    empty.pulumi("stack", "init", "production")
    lp = stacks_workspace(where / "launchplan", emulators, ["production"])
    plain = stacks_workspace(where / "plain", emulators, ["production"], program=PLAIN_PROGRAM)
    # The plain program plus launchplan's imports (unused): what those imports cost inside the engine.
    imports = where / "plain_imports.py"
    imports.write_text(
        "import infra.program  # noqa: F401\nimport infra.components.heroku_app  # noqa: F401\n" + PLAIN_PROGRAM.read_text()
    )
    plain_imports = stacks_workspace(where / "plain-imports", emulators, ["production"], program=imports)
    commands = {"empty": preview_of(empty, "production"), "plain": preview_of(plain, "production")}
    commands["plain + imports"] = preview_of(plain_imports, "production")
    commands["launchplan"] = preview_of(lp, "production")
    for command in commands.values():
        command()  # warm-up: plugin and Python caches
    fresh = {k: statistics.median(v) for k, v in interleaved(runs, commands).items()}

    lp.pulumi("up", "--yes", "--non-interactive", "--skip-preview", "--stack", "production")
    twin = twin_workspace(where / "twin", lp, "production", PLAIN_PROGRAM)  # plain program, same state
    applied_commands = {"empty": commands["empty"], "plain": preview_of(twin, "production")}
    applied_commands["plain + imports"] = commands["plain + imports"]  # not applied: only a floor
    applied_commands["launchplan"] = commands["launchplan"]
    applied = {k: statistics.median(v) for k, v in interleaved(runs, applied_commands).items()}

    rows = [
        "| `pulumi preview` | empty program, s | plain program, s | plain + launchplan's imports, s | launchplan, s "
        "| launchplan / empty | launchplan / plain |"
    ]
    rows.append("|---|---|---|---|---|---|---|")
    for label, m in (("stack not applied yet (8 creates)", fresh), ("applied, nothing changed (8 same)", applied)):
        rows.append(
            f"| {label} | {m['empty']:.2f} | {m['plain']:.2f} | {m['plain + imports']:.2f} | {m['launchplan']:.2f} "
            f"| **{m['launchplan'] / m['empty']:.2f}** | **{m['launchplan'] / m['plain']:.3f}** |"
        )
    return rows, fresh


def python_seconds(code: str, runs: int) -> float:
    """Median wall time of a fresh `python -c CODE` (interpreter start included)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([PYTHON, "-c", code], cwd=ROOT, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def in_process(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def plugin_start(binary: Path, runs: int, *args: str) -> float:
    """Median time from exec to the port on stdout (what the engine waits for)."""
    env = {**os.environ, "PATH": f"{BIN}:{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"}
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(binary), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, start_new_session=True
        )
        assert proc.stdout is not None
        port = proc.stdout.readline()
        samples.append(time.perf_counter() - started)
        os.killpg(proc.pid, signal.SIGKILL)  # its own process group: a script plugin's Python child too
        proc.wait()
        assert port.strip().isdigit(), f"{binary.name} printed {port!r}"
    return statistics.median(samples)


SPEC_FIRST_LOAD = """
import pathlib, time
from infra.spec.load import load_spec
from infra.spec.stack_config import StackConfig
started = time.perf_counter()
load_spec(StackConfig.from_file(pathlib.Path("Pulumi.production.yaml"), "production"), require_secrets=False)
print(time.perf_counter() - started)
"""


def breakdown_table(fresh: dict[str, float], runs: int) -> list[str]:
    production = ROOT / "Pulumi.production.yaml"
    config = StackConfig.from_file(production, "production")
    bare = python_seconds("import pulumi", runs)
    sdks = python_seconds("import pulumi, pulumiverse_heroku, pulumi_random", runs)
    program = python_seconds("import pulumi, pulumiverse_heroku, pulumi_random, infra.program, infra.components.heroku_app", runs)
    spec = statistics.median(
        float(subprocess.run([PYTHON, "-c", SPEC_FIRST_LOAD], cwd=ROOT, check=True, capture_output=True, text=True).stdout)
        for _ in range(runs)
    )
    mocks = in_process(lambda: render(config), runs)
    starts = {
        name: plugin_start(BIN / f"pulumi-resource-{name}", runs, *(["127.0.0.1:1"] if name == "pulumi-python" else []))
        for name in ("heroku", "random", "pulumi-python")
    }
    rows = ["| part | s |", "|---|---|"]
    rows.append(f"| `pulumi preview` of an empty program (the engine's fixed cost, the floor) | {fresh['empty']:.2f} |")
    rows.append(f"| plain program - empty: the resources themselves | {fresh['plain'] - fresh['empty']:.2f} |")
    rows.append(
        f"| … of which `import pulumi` in a fresh Python (bare: {bare:.2f}) + pulumiverse_heroku, pulumi_random | {sdks:.2f} |"
    )
    rows.append(
        f"| … of which the dynamic provider host starting (pulumi-python, backup schedule) | {starts['pulumi-python']:.2f} |"
    )
    rows.append(
        f"| … of which the heroku / random plugins starting (in parallel) | {starts['heroku']:.3f} / {starts['random']:.3f} |"
    )
    rows.append(f"| launchplan - plain program: launchplan's own overhead | {fresh['launchplan'] - fresh['plain']:.2f} |")
    rows.append(
        f"| … of which importing infra.program and its components (beyond the SDKs), fresh Python | {program - sdks:.2f} |"
    )
    rows.append(
        f"| … the same imports inside the engine (plain+imports - plain) | {fresh['plain + imports'] - fresh['plain']:.2f} |"
    )
    rows.append(f"| … the rest: launchplan's program running | {fresh['launchplan'] - fresh['plain + imports']:.2f} |")
    rows.append(f"| … of which loading and validating the spec (first time in a process) | {spec:.3f} |")
    rows.append(f"| the whole launchplan program under mocks (spec + components, in process) | {mocks:.3f} |")
    return rows


def plugins_table(runs: int) -> list[str]:
    rows = ["| plugin | start-up to port, ms (median) | binary, MB |", "|---|---|---|"]
    for name in ("heroku", "postgresql", "random", "vercel"):
        binary = BIN / f"pulumi-resource-{name}"
        rows.append(f"| pulumi-resource-{name} | {plugin_start(binary, runs) * 1000:.0f} | {binary.stat().st_size / 1e6:.1f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per median (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        print("## API writes per declared Heroku resource (minimum: one write each)\n")
        print("| run | wall s | Heroku API writes | minimum | writes / minimum |")
        print("|---|---|---|---|---|")
        print("\n".join(sandbox_table(where / "sandbox")))
        emulators = Emulators()  # each table on emulators of its own: the same app names
        try:
            print("\n".join(production_table(where / "production", emulators)))
        finally:
            emulators.stop()
        print(f"\n## `pulumi preview` of Pulumi.production.yaml, median of {args.runs} interleaved runs\n")
        emulators = Emulators()
        try:
            previews, fresh = preview_table(where / "preview", emulators, args.runs)
        finally:
            emulators.stop()
        print("\n".join(previews))
        print("\n## Where the time goes (stack not applied yet)\n")
        print("\n".join(breakdown_table(fresh, args.runs)))
        print(f"\n## Plugins, median of {args.runs * 3} starts\n")
        print("\n".join(plugins_table(args.runs * 3)))


if __name__ == "__main__":
    main()
