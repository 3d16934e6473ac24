"""Webhooks and API endpoints in the spec."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.spec import catalog
from infra.spec.common import Model, Target, check_env_names, check_url
from infra.spec.problems import did_you_mean, invalid
from infra.spec.secrecy import shown


class Receiver(Model):
    """Where the webhook's signing secret is delivered, so sender and receiver agree."""

    heroku_app: str | None = None
    vercel_project: str | None = None
    env: str
    targets: list[Target] = ["production"]

    @model_validator(mode="after")
    def _one_place(self) -> Receiver:
        if (self.heroku_app is None) == (self.vercel_project is None):
            raise invalid(
                "a receiver needs exactly one of herokuApp or vercelProject", "name the app that verifies the signature"
            )
        check_env_names({self.env: None}, extend_path=False)
        return self


def _unique_events(events: list[str]) -> list[str]:
    dupes = sorted({e for e in events if events.count(e) > 1})
    if dupes:
        raise invalid(f"event listed twice: {', '.join(dupes)}", "list each event once")
    return sorted(events)


class _WebhookSpec(Model):
    """What every webhook has: where it posts, which events, and who verifies its signature."""

    url: str
    events: list[str] = Field(min_length=1)
    receiver: Receiver

    @field_validator("url")
    @classmethod
    def _url(cls, url: str, info: ValidationInfo) -> str:
        return check_url(url, info)


class CalendlyWebhookSpec(_WebhookSpec):
    provider: Literal["calendly"]
    organization: str
    scope: Literal["user", "organization", "group"] = "organization"
    user: str | None = None
    group: str | None = None

    @field_validator("events")
    @classmethod
    def _events(cls, events: list[str]) -> list[str]:
        for event in events:
            if event not in catalog.CALENDLY_EVENTS:
                raise invalid(
                    f"{shown(event)} is not a Calendly webhook event",
                    f"{did_you_mean(event, catalog.CALENDLY_EVENTS)}use one of: {', '.join(sorted(catalog.CALENDLY_EVENTS))}",
                )
        return _unique_events(events)

    @field_validator("organization", "user", "group")
    @classmethod
    def _uri(cls, uri: str | None, info: ValidationInfo) -> str | None:
        # Calendly names every organization, user and group by its API URI, e.g.
        # https://api.calendly.com/organizations/AAAA (GET /users/me returns yours).
        field = info.field_name or "organization"
        if uri is not None and not re.match(rf"^https://api\.calendly\.com/{field}s/[A-Za-z0-9-]+$", uri):
            raise invalid(
                f"{shown(uri)} is not a Calendly {field} URI",
                f"copy the `current_{field}` URI from GET https://api.calendly.com/users/me, "
                f"e.g. https://api.calendly.com/{field}s/AAAA",
            )
        return uri

    @model_validator(mode="after")
    def _scope(self) -> CalendlyWebhookSpec:
        if self.scope == "user" and not self.user:
            raise invalid("scope 'user' needs 'user'", "add user: <your user URI>")
        if self.scope == "group" and not self.group:
            raise invalid("scope 'group' needs 'group'", "add group: <the group URI>")
        return self


class ArrivyWebhookSpec(_WebhookSpec):
    """Arrivy has no registration API: this is a declared manual step."""

    provider: Literal["arrivy"]

    @field_validator("events")
    @classmethod
    def _events(cls, events: list[str]) -> list[str]:
        for event in events:
            if not catalog.ARRIVY_EVENT_PATTERN.match(event):
                raise invalid(f"{shown(event)} is not an Arrivy event type", "use Arrivy's upper-case names, e.g. TASK_CREATED")
        return _unique_events(events)


WebhookSpec = Annotated[Union[CalendlyWebhookSpec, ArrivyWebhookSpec], Field(discriminator="provider")]


class Endpoints(Model):
    """API base URLs launchplan's own code calls; overridden only to reach a local sandbox."""

    heroku_api: str = catalog.API_URLS["herokuApi"]
    heroku_data_api: str = catalog.API_URLS["herokuDataApi"]
    calendly_api: str = catalog.API_URLS["calendlyApi"]
    vercel_api: str = catalog.API_URLS["vercelApi"]
    # Where the sandbox serves stand-ins of the deployed apps, routed by Host header as DNS would:
    # health checks of a sandbox stack are sent there. No real stack has one.
    sandbox_apps: str | None = None

    @field_validator("*")
    @classmethod
    def _url(cls, url: str, info: ValidationInfo) -> str:
        if info.field_name == "sandbox_apps" and not (info.context or {}).get("sandbox"):
            raise invalid(
                "only a sandbox stack has stand-in apps to send health checks to",
                "remove sandboxApps from launchplan:endpoints (the real platforms serve real stacks' apps)",
            )
        return check_url(url, info).rstrip("/")
