"""A small stack for the engine tests: random + launchplan's two dynamic providers,
pointed at the local emulators through stack config."""

import pulumi
import pulumi_random as random

from infra.providers.backup_schedule import BackupSchedule
from infra.providers.calendly_subscription import CalendlySubscription

config = pulumi.Config()
signing = random.RandomPassword("signing-key", length=48, special=False)

schedule = BackupSchedule(
    "db-backups",
    addon_id=config.require("addonId"),
    app="engine-test-app",
    hour=config.require_int("hour"),
    timezone=config.require("timezone"),
)
subscription = CalendlySubscription(
    "calendly",
    {
        "url": "https://hooks.example.com/calendly",
        "events": ["invitee.canceled", "invitee.created"],
        "organization": "https://api.calendly.com/organizations/ORG1",
        "scope": "organization",
        "user": None,
        "group": None,
        "signing_key": signing.result,
    },
)

pulumi.export("scheduleId", schedule.id)
pulumi.export("subscription", subscription.uri)
pulumi.export("signingKey", signing.result)
