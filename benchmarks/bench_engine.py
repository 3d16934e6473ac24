"""Benchmark the offline engine, in one run: build times, binary sizes, and the
wall time of `pulumi preview` of a launchplan stack against the same engine's
preview of an empty program (the engine's fixed cost is the floor).

Usage: python -m benchmarks.bench_engine [--runs N] [--cold]
  --cold  also time a full rebuild into an empty Go build cache (minutes; the
          module cache is reused, so downloads are not counted)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from scripts.pulumi_cli import BIN, ROOT
from tests.support.engine import Workspace, launchplan_workspace, project_yaml

STACK = ROOT / "examples" / "Pulumi.field-tracking.yaml"


def build(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(["bash", "tools/engine/build.sh"], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def median_preview(ws: Workspace, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        ws.pulumi("preview", "--non-interactive")
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "ENGINE_ALLOW_MISSING": "1"}

    print("## Engine build (2 cores)\n")
    print("| build | seconds |\n|---|---|")
    if args.cold:
        with tempfile.TemporaryDirectory() as cache:
            cold = build({**env, "GOCACHE": cache, "FORCE": "1"})
        print(f"| cold: every binary, empty Go build cache, modules already downloaded | {cold:.0f} |")
    print(f"| warm: nothing changed | {build(env):.2f} |")
    print("\n| binary | MB |\n|---|---|")
    for binary in sorted(BIN.iterdir()):
        print(f"| {binary.name} | {binary.stat().st_size / 1e6:.1f} |")

    from sandbox.vercel import VercelApi  # the field-tracking stack's only platform

    vercel = VercelApi()
    url = vercel.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            empty = Workspace(Path(tmp) / "empty", {"Pulumi.yaml": project_yaml("empty"), "__main__.py": ""})
            empty.pulumi("stack", "init", "bench")
            secrets = {
                "vercel:apiToken": "0123456789abcdef01234567",
                "launchplan:arrivyAuthKey": "bench-key",
                "launchplan:arrivyAuthToken": "bench-token",
            }
            stack = launchplan_workspace(Path(tmp) / "stack", STACK, secrets, VERCEL_API_URL=url)
            floor = median_preview(empty, args.runs)
            seconds = median_preview(stack, args.runs)
    finally:
        vercel.stop()
    print(f"\n## `pulumi preview` wall time, median of {args.runs}\n")
    print("| program | seconds | ratio |\n|---|---|---|")
    print(f"| empty program | {floor:.2f} | 1.00 |")
    print(f"| launchplan, examples/Pulumi.field-tracking.yaml | {seconds:.2f} | {seconds / floor:.2f} |")


if __name__ == "__main__":
    main()
