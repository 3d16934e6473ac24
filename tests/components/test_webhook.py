"""The webhook component under Pulumi's mocks: signing secrets shared with the receiver,
Calendly registration, Arrivy manual step."""

from __future__ import annotations

from infra.spec.stack_config import secret_placeholder
from scripts.render import SECRET
from tests.support.stacks import children, render_sections, vercel_vars

APP = "sc-mvp-production"


def test_calendly_webhook_shares_its_signing_key_with_the_receiver() -> None:
    r = render_sections(
        secrets=("heroku:apiKey", "launchplan:calendlyToken"),
        heroku={"apps": {"sched-app": {}}},
        webhooks={
            "cal": {
                "provider": "calendly",
                "url": "https://sched.example.com/hooks/calendly",
                "events": ["invitee.created", "invitee.canceled"],
                "organization": "https://api.calendly.com/organizations/ORG1",
                "receiver": {"herokuApp": "sched-app", "env": "CALENDLY_SIGNING_KEY"},
            }
        },
    )
    assert children(r, "cal") == {
        ("random:index/randomPassword:RandomPassword", "cal-signing-secret"),
        ("pulumi-python:dynamic/calendly:WebhookSubscription", "cal"),
    }
    sub = r.one("pulumi-python:dynamic/calendly:WebhookSubscription", "cal")
    assert sub.inputs["events"] == ["invitee.canceled", "invitee.created"]  # sorted: order carries no meaning
    assert sub.secret_inputs == ["signing_key"]
    receiver = r.one("heroku:app/configAssociation:ConfigAssociation", "sched-app-config")
    sent = sub.raw_inputs["signing_key"]
    assert sent == secret_placeholder("random:cal-signing-secret")
    assert receiver.raw_inputs["sensitiveVars"]["CALENDLY_SIGNING_KEY"] == sent
    assert r.outputs["webhookSecrets"] == SECRET
    assert r.outputs["manualSteps"] == []


def test_arrivy_webhook_is_a_manual_step_with_exact_settings() -> None:
    r = render_sections(
        secrets=("vercel:apiToken",),
        vercel={"projects": {"dash": {}}},
        webhooks={
            "arr": {
                "provider": "arrivy",
                "url": "https://dash.example.com/api/webhook",
                "events": ["TASK_STATUS", "TASK_CREATED"],
                "receiver": {"vercelProject": "dash", "env": "ARRIVY_WEBHOOK_SECRET"},
            }
        },
    )
    assert r.by_type("pulumi-python:dynamic/calendly:WebhookSubscription") == []
    [step] = r.outputs["manualSteps"]
    assert step["url"] == "https://dash.example.com/api/webhook"
    assert step["events"] == ["TASK_CREATED", "TASK_STATUS"]
    assert "webhookSecrets.arr" in step["secret"] and "ARRIVY_WEBHOOK_SECRET" in step["secret"]
    [var] = vercel_vars(r, "dash").values()
    assert var.inputs["key"] == "ARRIVY_WEBHOOK_SECRET" and var.inputs["sensitive"] is True
    assert var.raw_inputs["value"] == secret_placeholder("random:arr-signing-secret")
