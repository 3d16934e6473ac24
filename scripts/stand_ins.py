"""The sandbox's stand-in deployed apps: deploying one per app and project, and reaching it.

The sandbox serves every Heroku app and Vercel project it holds on one loopback port, routed
by the Host header as DNS would route the real host name. A stand-in answers its health path
only once deployed, with the env keys the stack declares: it then answers the declared status
when they are all present on the platform and its DATABASE_URL really connects.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from infra.spec.catalog import is_loopback
from infra.spec.stack_spec import Spec


class StandInError(RuntimeError):
    pass


@dataclass(frozen=True)
class Deploy:
    platform: str  # heroku | vercel
    name: str
    health_path: str
    expect_status: int
    required_env: tuple[str, ...]

    def body(self) -> dict[str, object]:
        # The stand-in matches the path alone: a query in the health check is sent, and ignored.
        path = urlsplit(self.health_path).path or "/"
        return {"healthPath": path, "expectStatus": self.expect_status, "requiredEnv": list(self.required_env)}


def deploys(spec: Spec) -> list[Deploy]:
    """One stand-in per app and project with a health check, requiring what the stack declares."""
    found = []
    for name, app in spec.heroku.apps.items():
        if app.health_check:
            keys = spec.heroku_env_keys(name) | ({"DATABASE_URL"} if app.postgres else set())
            found.append(Deploy("heroku", name, app.health_check.path, app.health_check.expect_status, tuple(sorted(keys))))
    for name, project in spec.vercel.projects.items():
        if project.health_check:
            keys = {key for key, target in spec.vercel_env_slots(name) if target == "production"}
            hc = project.health_check
            found.append(Deploy("vercel", name, hc.path, hc.expect_status, tuple(sorted(keys))))
    return found


def deploy(apps_url: str, spec: Spec) -> list[Deploy]:
    """Deploy (or redeploy) every stand-in of the stack; answers what was deployed."""
    done = deploys(spec)
    informational = [f"{d.platform} {d.name}" for d in done if d.expect_status < 200]
    if informational:  # 1xx is never a final answer: no server, real or stand-in, can end a request with it
        raise StandInError(f"a health check cannot expect a 1xx status (no final answer has one): {', '.join(informational)}")
    with httpx.Client(base_url=apps_url, timeout=30) as client:
        for d in done:
            answer = client.put(f"/__sandbox/deploys/{d.platform}/{d.name}", json=d.body())
            if answer.status_code != 200:
                refused = f"{answer.status_code} {answer.text[:300]}"
                raise StandInError(f"the sandbox refused to deploy the stand-in of {d.platform} {d.name}: {refused}")
    return done


def get(url: str, apps_url: str | None, timeout: float) -> httpx.Response:
    """GET a deployed app's URL; in the sandbox, a real host name is sent to the stand-ins'
    loopback port with that name as Host header (as `curl --resolve` does)."""
    parts = urlsplit(url)
    if apps_url is None or is_loopback(parts.hostname or ""):
        return httpx.get(url, timeout=timeout, follow_redirects=False)
    target = apps_url.rstrip("/") + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")  # never the URL's user:password@
    return httpx.get(target, headers={"Host": host}, timeout=timeout, follow_redirects=False)


def failed_checks(response: httpx.Response) -> str:
    """The stand-in's own words on which check failed (its JSON body names checks, never values)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    found = body.get("checks") if isinstance(body, dict) else None
    checks = [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []
    failing = [c.get("check", "?") + (f" ({c['detail']})" if c.get("detail") else "") for c in checks if not c.get("ok")]
    return "; ".join(failing)
