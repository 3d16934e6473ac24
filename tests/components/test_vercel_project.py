"""The Vercel project component under Pulumi's mocks: project, env vars per target, domains."""

from __future__ import annotations

from infra.spec.stack_config import secret_placeholder
from tests.support.stacks import children, render_sections, vercel_vars

APP = "sc-mvp-production"


def test_vercel_project_declares_project_vars_and_domains() -> None:
    project = {
        "framework": "nextjs",
        "domains": ["dash.example.com"],
        "env": [
            {"key": "API_BASE", "value": "https://api.example.com", "targets": ["production", "preview"]},
            {"key": "API_BASE", "value": "http://localhost:3000", "targets": ["development"]},
            {"key": "API_TOKEN", "fromConfig": "apiToken", "targets": ["preview", "production"]},
            {"key": "DEV_TOKEN", "fromConfig": "devToken", "targets": ["development"]},
        ],
        "healthCheck": {"path": "/api/health"},
    }
    r = render_sections(
        secrets=("vercel:apiToken", "launchplan:apiToken", "launchplan:devToken"),
        vercel={"team": "team_abc", "projects": {"dash": project}},
    )
    env_type = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
    assert children(r, "dash") == {
        ("vercel:index/project:Project", "dash"),
        (env_type, "dash-API_BASE"),
        (env_type, "dash-API_BASE-2"),
        (env_type, "dash-API_TOKEN"),
        (env_type, "dash-DEV_TOKEN"),
        ("vercel:index/projectDomain:ProjectDomain", "dash-dash.example.com"),
    }
    assert r.one("vercel:index/project:Project", "dash").inputs == {"framework": "nextjs", "name": "dash", "teamId": "team_abc"}
    by_key = vercel_vars(r, "dash")
    base = by_key[("API_BASE", ("production", "preview"))]
    assert base.inputs["sensitive"] is False
    assert base.inputs["value"] == "https://api.example.com"  # plain config: readable in the plan
    # The SDK sends every Vercel env value to the engine as a secret, plain ones included.
    assert base.secret_inputs == ["value"]
    assert by_key[("API_BASE", ("development",))].inputs["value"] == "http://localhost:3000"
    token = by_key[("API_TOKEN", ("production", "preview"))]
    assert token.inputs["sensitive"] is True and token.secret_inputs == ["value"]
    assert token.delete_before_replace  # Vercel refuses two vars with one key and target
    assert token.raw_inputs["value"] == secret_placeholder("launchplan:apiToken")
    assert token.inputs["teamId"] == "team_abc" and token.inputs["projectId"] == "dash-id"
    # Vercel refuses sensitive values on development: a secret there is encrypted, not sensitive.
    dev = by_key[("DEV_TOKEN", ("development",))]
    assert dev.inputs["sensitive"] is False and dev.secret_inputs == ["value"]
    assert r.outputs["vercelProjects"]["dash"]["healthCheckUrl"] == "https://dash.example.com/api/health"
