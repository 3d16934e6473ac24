"""Benchmark the sandbox, in one run: API requests per `up` against the minimum the
declared resources need, wall times of `sandbox up` from nothing and with nothing
changed, and how `pulumi up` grows from 1 to 20 Vercel projects in one stack
(with launchplan's own share: rendering the same program under mocks).

Usage: python -m benchmarks.bench_sandbox [--sizes 1,5,10,20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from infra.spec.stack_config import StackConfig
from scripts.pulumi_cli import ROOT
from scripts.render import render
from scripts.sandbox_cmd import STACK
from tests.support.sandbox import sandbox_copy

LAUNCHPLAN = str(ROOT / ".venv" / "bin" / "launchplan")


def requests(project: Path) -> list[dict[str, Any]]:
    log = project / ".sandbox" / "emulators" / "requests.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def timed(project: Path, *args: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run([LAUNCHPLAN, *args], cwd=project, capture_output=True, text=True)
    if proc.returncode != 0:
        log = project / ".sandbox" / "emulators.log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise SystemExit(f"launchplan {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}\n{tail}")
    return time.perf_counter() - started


def count(entries: list[dict[str, Any]]) -> tuple[int, int]:
    writes = sum(1 for e in entries if e["method"] != "GET")
    return len(entries) - writes, writes


def api_resources(project: Path) -> int:
    """The minimum writes: one create per resource that lives behind an API (random ones do not)."""
    rendering = render(StackConfig.from_file(project / f"Pulumi.{STACK}.yaml"))
    return sum(1 for r in rendering.resources if r.custom and not r.type.startswith(("random:", "pulumi:providers:")))


def requests_table(where: Path) -> None:
    project, base = sandbox_copy(where)
    port = f"--port={base}"
    try:
        cold = timed(project, "sandbox", "up", port)
        reads, writes = count(requests(project))
        minimum = api_resources(project)
        mark = len(requests(project))
        warm = timed(project, "sandbox", "up", port)
        warm_reads, warm_writes = count(requests(project)[mark:])

        stack = project / f"Pulumi.{STACK}.yaml"
        doc = yaml.safe_load(stack.read_text())
        for var in doc["config"]["launchplan:vercel"]["projects"]["rep-dashboard"]["env"]:
            if var["key"] == "ARRIVY_RATE_LIMIT":
                var["value"] = "25"
        stack.write_text(yaml.safe_dump(doc))
        mark = len(requests(project))
        change = timed(project, "sandbox", "up", port)
        one_reads, one_writes = count(requests(project)[mark:])
    finally:
        timed(project, "sandbox", "down", port)
    print("| sandbox up | wall s | reads | writes | minimum writes | writes / minimum |")
    print("|---|---|---|---|---|---|")
    print(f"| from nothing | {cold:.1f} | {reads} | {writes} | {minimum} | {writes / minimum:.2f} |")
    print(f"| nothing changed | {warm:.1f} | {warm_reads} | {warm_writes} | 0 | — |")
    print(f"| one env var changed | {change:.1f} | {one_reads} | {one_writes} | 1 | {one_writes:.2f} |")


def growth_table(where: Path, sizes: list[int]) -> None:
    print(
        "\n| Vercel projects (3 env vars each) | `sandbox up` from nothing, s | per project, s "
        "| launchplan's program under mocks, s |"
    )
    print("|---|---|---|---|")
    for n in sizes:
        projects = {
            f"app-{i:02d}": {
                "framework": "nextjs",
                "env": [
                    {"key": "API_BASE", "value": f"https://api-{i}.example.com", "targets": ["production", "preview"]},
                    {"key": "FEATURE_FLAG", "value": "on", "targets": ["production"]},
                    {"key": "APP_INDEX", "value": str(i), "targets": ["production", "preview", "development"]},
                ],
            }
            for i in range(n)
        }
        template = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text())
        config = {
            k: v
            for k, v in template["config"].items()
            if k not in ("launchplan:webhooks", "launchplan:arrivyAuthKey", "launchplan:arrivyAuthToken")
        }
        config["launchplan:vercel"] = {"projects": projects}
        text = yaml.safe_dump({**template, "config": config})
        project, base = sandbox_copy(where / f"n{n}", text)
        try:
            seconds = timed(project, "sandbox", "up", f"--port={base}")
            started = time.perf_counter()
            render(StackConfig.from_file(project / f"Pulumi.{STACK}.yaml"))
            program = time.perf_counter() - started
        finally:
            timed(project, "sandbox", "down", f"--port={base}")
        print(f"| {n} | {seconds:.1f} | {seconds / n:.2f} | {program:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1,5,10,20")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        requests_table(Path(tmp) / "requests")
        growth_table(Path(tmp), [int(n) for n in args.sizes.split(",")])


if __name__ == "__main__":
    main()
