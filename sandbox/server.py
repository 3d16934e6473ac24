"""All the sandbox's API emulators in one process, on 127.0.0.1 only.

State lives in one folder (one JSON file per emulator, so it survives a
restart), every request is appended to requests.jsonl, and endpoints.json says
where each emulator listens. Fault knobs apply to every emulator of the run.

    python -m sandbox.server --dir .sandbox [--port 47200] [--rate-limit-every N] ...
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from sandbox.calendly import CalendlyApi
from sandbox.core import Emulator, Faults
from sandbox.heroku_data import HerokuDataApi
from sandbox.vercel import VercelApi

DEFAULT_PORT = 47200
# name -> (emulator, port offset from the base port, the spec's endpoints key or env var it serves)
EMULATORS: dict[str, tuple[type[Emulator], int, str]] = {
    "vercel": (VercelApi, 1, "VERCEL_API_URL"),
    "calendly": (CalendlyApi, 2, "calendlyApi"),
    "heroku-data": (HerokuDataApi, 3, "herokuDataApi"),
}


def endpoints(base_port: int) -> dict[str, str]:
    return {name: f"http://127.0.0.1:{base_port + offset}" for name, (_, offset, _) in EMULATORS.items()}


def start_all(folder: Path, base_port: int, faults: Faults) -> list[Emulator]:
    folder.mkdir(parents=True, exist_ok=True)
    running = []
    for name, (kind, offset, _) in EMULATORS.items():
        emulator = kind(folder / f"{name}.json", folder / "requests.jsonl", faults=faults)
        emulator.start(base_port + offset)
        running.append(emulator)
    (folder / "endpoints.json").write_text(json.dumps(endpoints(base_port), indent=2))
    return running


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.server", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".sandbox"))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="base port; emulators listen on the next ones")
    parser.add_argument("--rate-limit-every", type=int, default=0, help="answer every Nth request with 429")
    parser.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds sent with each 429")
    parser.add_argument("--error-rate", type=float, default=0.0, help="fraction of requests answered with 503")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every request")
    args = parser.parse_args(argv)
    faults = Faults(args.rate_limit_every, args.retry_after, args.error_rate, args.latency_ms)
    running = start_all(args.dir, args.port, faults)
    print(json.dumps(endpoints(args.port)), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for emulator in running:
        emulator.stop()


if __name__ == "__main__":
    main()
