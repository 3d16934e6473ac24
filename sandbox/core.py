"""A small HTTP emulator framework: routes, auth, on-disk state, a request log
and fault knobs (429 with Retry-After, 5xx, latency). Loopback only."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

Handler = Callable[["Request"], tuple[int, Any]]


class ApiError(Exception):
    """Raised by a route to answer with an error in the service's own shape."""

    def __init__(self, status: int, error_id: str, message: str):
        self.status = status
        self.error_id = error_id
        super().__init__(message)


@dataclass
class Faults:
    rate_limit_every: int = 0  # every Nth request answers 429
    retry_after: float = 1.0
    error_rate: float = 0.0  # fraction of requests answering 503
    latency_ms: int = 0
    seed: int | None = None  # draws which requests fail; None: a fresh random seed (see `chosen_seed`)
    # The first create ("METHOD PATH", e.g. "POST /v8/projects") matching this regex is committed, then the
    # next request to the same emulator answers 503: the read a client makes right after its create is lost.
    fail_after_create: str | None = None
    # The first create matching this regex is committed, but its own answer is a 503: a response lost after
    # commit. (Once per emulator start: a fault, not an outage.)
    lose_create_response: str | None = None

    def __post_init__(self) -> None:
        for problem in self.problems():
            raise ValueError(problem)
        if self.seed is None:
            self.seed = random.SystemRandom().randrange(2**31)

    def problems(self) -> list[str]:
        """Every knob out of range, as a sentence naming the knob (empty: all fine)."""
        found = []
        if not isinstance(self.rate_limit_every, int) or self.rate_limit_every < 0:
            found.append(f"rate-limit-every must be 0 (off) or a positive whole number, not {self.rate_limit_every!r}")
        if not (isinstance(self.retry_after, (int, float)) and 0 <= self.retry_after <= 3600):
            found.append(f"retry-after must be between 0 and 3600 seconds, not {self.retry_after!r}")
        if not (isinstance(self.error_rate, (int, float)) and 0 <= self.error_rate <= 1):
            found.append(f"error-rate must be a fraction between 0 and 1, not {self.error_rate!r}")
        if not isinstance(self.latency_ms, int) or not 0 <= self.latency_ms <= 60_000:
            found.append(f"latency-ms must be between 0 and 60000, not {self.latency_ms!r}")
        if self.seed is not None and (not isinstance(self.seed, int) or self.seed < 0):
            found.append(f"fault-seed must be a non-negative whole number, not {self.seed!r}")
        for knob in ("fail_after_create", "lose_create_response"):
            pattern = getattr(self, knob)
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    found.append(f"{knob.replace('_', '-')} must be a regular expression: {exc}")
        return found


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Logged:
    service: str
    method: str
    path: str
    status: int
    ms: float


class Emulator:
    """One emulated API. Subclasses add routes in __init__ with self.route(...)."""

    service = "api"

    def __init__(self, state_file: Path | None = None, log_file: Path | None = None, faults: Faults | None = None):
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.state_file = state_file
        self.log_file = log_file
        self.faults = faults or Faults()
        self.log: list[Logged] = []
        self.lock = threading.RLock()
        self._random = random.Random(self.faults.seed)  # which requests fail: reproducible per seed
        self._count = 0
        self._fail_next = 0  # requests still to answer 503 after a matching create (fail_after_create)
        self._fired: set[str] = set()  # the create knobs that have fired (each fires once)
        self.state: dict[str, Any] = self.initial_state()
        if state_file and state_file.exists():
            self.state = json.loads(state_file.read_text())
        self.server: ThreadingHTTPServer | None = None

    # --- to override ---------------------------------------------------------------
    def initial_state(self) -> dict[str, Any]:
        return {}

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "").startswith(("Bearer ", "Basic "))

    def fault_exempt(self, request: Request) -> bool:
        """Requests that stand for another service than the API (e.g. a CDN) get no injected faults."""
        return False

    def error_body(self, status: int, error_id: str, message: str) -> Any:
        return {"id": error_id, "message": message}

    # --- plumbing ------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self.routes.append((method, regex, handler))

    def save(self) -> None:
        if self.state_file:
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.state, indent=1, sort_keys=True))
            tmp.replace(self.state_file)

    def dispatch(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        exempt = self.fault_exempt(request)
        with self.lock:
            self._count += 1
            count = self._count
            fault_roll = self._random.random()
            lost_read = not exempt and self._fail_next > 0
            if lost_read:
                self._fail_next -= 1
        f = self.faults if not exempt else Faults(seed=0)
        if lost_read:
            return 503, self.error_body(503, "unavailable", "Service temporarily unavailable"), {}
        if f.latency_ms:
            time.sleep(f.latency_ms / 1000)
        if f.rate_limit_every and count % f.rate_limit_every == 0:
            return (
                429,
                self.error_body(429, "rate_limit", "Your account reached the API rate limit"),
                {"Retry-After": f"{f.retry_after:g}"},
            )
        if f.error_rate and fault_roll < f.error_rate:
            return 503, self.error_body(503, "unavailable", "Service temporarily unavailable"), {}
        if not self.authorized(request):
            return 401, self.error_body(401, "unauthorized", "Invalid credentials provided."), {}
        for method, regex, handler in self.routes:
            match = regex.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                try:
                    with self.lock:
                        status, body = handler(request)
                        if request.method != "GET":
                            self.save()
                except ApiError as failure:
                    return failure.status, self.error_body(failure.status, failure.error_id, str(failure)), {}
                if request.method == "POST" and 200 <= status < 300 and not exempt:
                    what = f"{request.method} {request.path}"
                    with self.lock:
                        if f.fail_after_create and "after" not in self._fired and re.search(f.fail_after_create, what):
                            self._fired.add("after")
                            self._fail_next += 1
                        lose = f.lose_create_response and "lose" not in self._fired and re.search(f.lose_create_response, what)
                        if lose:
                            self._fired.add("lose")
                    if lose:
                        return 503, self.error_body(503, "unavailable", "Service temporarily unavailable"), {}
                return status, body, {}
        return 404, self.error_body(404, "not_found", f"No route for {request.method} {request.path}"), {}

    def record(self, entry: Logged) -> None:
        with self.lock:
            self.log.append(entry)
            if self.log_file:
                with self.log_file.open("a") as fh:
                    fh.write(json.dumps(asdict(entry)) + "\n")

    def start(self, port: int = 0) -> str:
        emulator = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms a request.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet: we keep our own log
                pass

            def _handle(self) -> None:
                started = time.perf_counter()
                request = read_request(self)
                status, payload, extra = emulator.dispatch(request)
                # Logged before answering, so a client that saw the answer also sees the log entry.
                emulator.record(
                    Logged(
                        emulator.service,
                        request.method,
                        request.path,
                        status,
                        round((time.perf_counter() - started) * 1000, 2),
                    )
                )
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in {**emulator.extra_headers(), **extra}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", port), RequestHandler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def extra_headers(self) -> dict[str, str]:
        return {}

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def writes(self) -> list[Logged]:
        return [e for e in self.log if e.method != "GET"]


def read_request(handler: BaseHTTPRequestHandler, not_json: Any = None) -> Request:
    """The request a handler received: path and query split, JSON body parsed (`not_json` when it is not)."""
    parts = urlsplit(handler.path)
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length else b""
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = not_json
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return Request(handler.command, parts.path, query, body, {k.lower(): v for k, v in handler.headers.items()})
