"""Benchmark `launchplan plan` against a bare `import pulumi`, in one run.

Each command runs as a fresh process (what a user waits for), several times;
the report gives medians and the ratio plan / bare import, so the number is
comparable across machines. Usage: python -m benchmarks.bench_plan [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    launchplan = str(Path(python).parent / "launchplan")
    stacks = [ROOT / "Pulumi.staging.yaml", ROOT / "Pulumi.production.yaml", *sorted((ROOT / "examples").glob("Pulumi.*.yaml"))]

    timed([python, "-c", "import pulumi"], 1)  # warm the page cache and .pyc files first
    bare = timed([python, "-c", "import pulumi"], args.runs)
    print(f"median of {args.runs} runs each, {Path('/proc/cpuinfo').read_text().count('processor')} cores\n")
    print("| command | median s | ratio to bare `import pulumi` |")
    print("|---|---|---|")
    print(f"| python -c 'import pulumi' | {bare:.3f} | 1.00 |")
    for stack in stacks:
        seconds = timed([launchplan, "plan", "--config-file", str(stack), "--json"], args.runs)
        print(f"| launchplan plan --config-file {stack.relative_to(ROOT)} --json | {seconds:.3f} | {seconds / bare:.2f} |")


if __name__ == "__main__":
    main()
