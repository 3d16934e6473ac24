"""All the sandbox's API emulators in one process, on 127.0.0.1 only, with the embedded PostgreSQL
their Postgres add-ons get databases from, and the stand-in apps host (sandbox/apps.py): the deployed
apps' web hosts, routed by Host header, answering health checks once deployed.

State lives in one folder (one JSON file per emulator, so it survives a restart), every API request
is appended to requests.jsonl (the stand-in apps' requests are not: they are no API calls), and
endpoints.json says where each emulator listens. Fault knobs apply to every API emulator of the run,
never to the stand-in apps.

    python -m sandbox.server --dir .sandbox [--port 47200] [--rate-limit-every N] ...
    python -m sandbox.server --port 47200 --describe    # where each emulator would listen, as JSON

Ports: the base port + 1..4 for the APIs, + 5 for PostgreSQL, + 6 for the stand-in apps.
Callers outside the sandbox (the `launchplan sandbox` command) learn the layout from
`--describe`, never by importing this package: the sandbox is an independent oracle.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from sandbox import tls
from sandbox.apps import AppsHost
from sandbox.calendly import CalendlyApi
from sandbox.core import Emulator, Faults
from sandbox.heroku import HerokuApi
from sandbox.heroku_data import HerokuDataApi
from sandbox.postgres import EmbeddedPostgres
from sandbox.vercel import VercelApi

DEFAULT_PORT = 47200
# name -> (emulator, port offset from the base port, the spec's endpoints key or env var it serves)
EMULATORS: dict[str, tuple[type[Emulator], int, str]] = {
    "vercel": (VercelApi, 1, "vercelApi"),
    "calendly": (CalendlyApi, 2, "calendlyApi"),
    "heroku-data": (HerokuDataApi, 3, "herokuDataApi"),
    "heroku": (HerokuApi, 4, "herokuApi"),
    "apps": (AppsHost, 6, "sandboxApps"),  # the stand-in apps: where a sandbox stack's health checks go
}


def endpoints(base_port: int) -> dict[str, str]:
    return {name: f"http://127.0.0.1:{base_port + offset}" for name, (_, offset, _) in EMULATORS.items()}


POSTGRES_OFFSET = 5  # the embedded PostgreSQL server that Heroku Postgres add-ons get databases from
TOP_OFFSET = max(POSTGRES_OFFSET, *(offset for _, offset, _ in EMULATORS.values()))
# Base ports with room for every emulator and the embedded PostgreSQL above them.
PORT_RANGE = (1, 65535 - TOP_OFFSET)


def describe(base_port: int) -> dict[str, object]:
    urls = endpoints(base_port)
    return {
        "basePort": base_port,
        "defaultPort": DEFAULT_PORT,
        "portRange": {"min": PORT_RANGE[0], "max": PORT_RANGE[1]},
        "emulators": {name: {"url": urls[name], "endpointKey": key} for name, (_, _, key) in EMULATORS.items()},
    }


def port_problem(port: int) -> str | None:
    low, high = PORT_RANGE
    if not low <= port <= high:
        room = f"the emulators, PostgreSQL and the stand-in apps use the next {TOP_OFFSET}"
        return f"--port must be a base port between {low} and {high} ({room}), not {port}"
    return None


def start_all(folder: Path, base_port: int, faults: Faults) -> tuple[list[Emulator], EmbeddedPostgres]:
    folder.mkdir(parents=True, exist_ok=True)
    # The same loopback certificate the Heroku emulator serves https with (None without openssl).
    postgres = EmbeddedPostgres(folder / "postgres", base_port + POSTGRES_OFFSET, tls.certificate(folder / "tls"))
    postgres.init()
    postgres.start()
    heroku = HerokuApi(folder / "heroku.json", folder / "requests.jsonl", faults=faults, postgres=postgres, default_domain=True)
    vercel = VercelApi(folder / "vercel.json", folder / "requests.jsonl", faults=faults)
    running: list[Emulator] = [
        heroku,
        HerokuDataApi(folder / "heroku-data.json", folder / "requests.jsonl", faults=faults, heroku=heroku),
        vercel,
        CalendlyApi(folder / "calendly.json", folder / "requests.jsonl", faults=faults),
        AppsHost(folder / "apps.json", {"heroku": heroku, "vercel": vercel}),  # no request log, no faults
    ]
    offsets = {kind: offset for kind, offset, _ in EMULATORS.values()}
    for emulator in running:
        emulator.start(base_port + offsets[type(emulator)])
    (folder / "endpoints.json").write_text(json.dumps(endpoints(base_port), indent=2))
    return running, postgres


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.server", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".sandbox"))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="base port; emulators listen on the next ones")
    parser.add_argument("--rate-limit-every", type=int, default=0, help="answer every Nth request with 429")
    parser.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds sent with each 429")
    parser.add_argument("--error-rate", type=float, default=0.0, help="fraction of requests answered with 503")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every request")
    parser.add_argument("--fault-seed", type=int, default=None, help="seed of the injected faults (default: random, printed)")
    parser.add_argument(
        "--fail-after-create", metavar="REGEX", help='after a create matching "METHOD PATH", answer the next request 503'
    )
    parser.add_argument(
        "--lose-create-response", metavar="REGEX", help='commit a create matching "METHOD PATH" but answer it 503'
    )
    parser.add_argument("--describe", action="store_true", help="print where each emulator would listen, and exit")
    args = parser.parse_args(argv)
    problem = port_problem(args.port)
    if problem:
        parser.error(problem)  # exit 2, before anything starts
    if args.describe:
        print(json.dumps(describe(args.port)))
        return
    try:
        faults = Faults(
            args.rate_limit_every,
            args.retry_after,
            args.error_rate,
            args.latency_ms,
            args.fault_seed,
            args.fail_after_create,
            args.lose_create_response,
        )
    except ValueError as exc:
        parser.error(str(exc))
    running, postgres = start_all(args.dir, args.port, faults)
    print(json.dumps(endpoints(args.port)), flush=True)
    print(json.dumps({"faultSeed": faults.seed}), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for emulator in running:
        emulator.stop()
    postgres.stop()


if __name__ == "__main__":
    main()
