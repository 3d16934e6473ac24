"""Webhook registrations and their signing secrets.

The stack generates each signing secret (pulumi-random) and hands the same
Output to the sender (a Calendly subscription) and to the receiving app's env,
so the two can never disagree. Arrivy has no registration API, so an Arrivy
webhook is exported as a manual step with its exact settings.
"""

from __future__ import annotations

from typing import Any

import pulumi

from infra.components.generated import generated_secret
from infra.providers.calendly_subscription import CalendlySubscription
from infra.spec.webhooks import ArrivyWebhookSpec, CalendlyWebhookSpec


class Webhook(pulumi.ComponentResource):
    """One webhook: its signing secret, and its registration (Calendly) or manual step (Arrivy)."""

    signing_secret: pulumi.Output[str]
    manual_step: dict[str, Any] | None

    def __init__(self, name: str, hook: CalendlyWebhookSpec | ArrivyWebhookSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("launchplan:webhooks:Webhook", name, None, opts)
        self.signing_secret = generated_secret(f"{name}-signing-secret", 48, self)
        self.manual_step = None
        outputs: dict[str, Any] = {"url": hook.url, "events": hook.events, "provider": hook.provider}
        if isinstance(hook, CalendlyWebhookSpec):
            sub = CalendlySubscription(
                name,
                {
                    "url": hook.url,
                    "events": hook.events,
                    "organization": hook.organization,
                    "scope": hook.scope,
                    "user": hook.user,
                    "group": hook.group,
                    "signing_key": self.signing_secret,
                },
                pulumi.ResourceOptions(parent=self),
            )
            outputs["subscription"] = sub.uri
        else:
            receiver = hook.receiver.heroku_app or hook.receiver.vercel_project
            self.manual_step = {
                "webhook": name,
                "provider": "arrivy",
                "where": "Arrivy dashboard -> Settings -> Integrations -> Webhooks -> Add webhook",
                "url": hook.url,
                "events": hook.events,
                "secret": f"the stack output webhookSecrets.{name} "
                f"(`pulumi stack output webhookSecrets --show-secrets`), also set as {hook.receiver.env} on {receiver}",
                "verify": "send a test event from Arrivy; the receiver must answer 200",
            }
            outputs["manualStep"] = self.manual_step
        self.register_outputs(outputs)
