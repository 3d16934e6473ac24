"""Platform facts the spec is validated against, kept in one reviewed place.

Sources: Heroku Dev Center (Postgres plans, PGBackups retention, dyno types),
Vercel's framework presets, Calendly API v2 webhook events, and the runbooks in
../shared/runbooks. When a platform adds a plan or an event, add it here.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from ipaddress import ip_address

from infra.spec.secrecy import looks_secret as looks_secret  # decided there; kept importable from here


@dataclass(frozen=True)
class PostgresPlan:
    name: str
    tier: str
    scheduled_backups: bool
    retired: bool = False
    replacement: str | None = None

    @property
    def retention(self) -> str:
        """Scheduled-backup retention, per Heroku PGBackups docs."""
        if not self.scheduled_backups:
            return "none"
        return {
            "hobby": "7 daily",
            "essential": "7 daily",
            "standard": "7 daily + 4 weekly",
            "premium": "7 daily + 8 weekly + 12 monthly",
            "private": "7 daily + 8 weekly + 12 monthly",
            "shield": "7 daily + 8 weekly + 12 monthly",
        }[self.tier]


def _tier(tier: str, sizes: range | list[int]) -> list[PostgresPlan]:
    return [PostgresPlan(f"{tier}-{n}", tier, scheduled_backups=True) for n in sizes]


POSTGRES_PLANS: dict[str, PostgresPlan] = {
    plan.name: plan
    for plan in [
        *_tier("essential", range(0, 3)),
        *_tier("standard", [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        *_tier("premium", [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        *_tier("private", [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        *_tier("shield", [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        # Retired plans: still seen in old runbooks, refused with their successor named.
        PostgresPlan("hobby-dev", "hobby", scheduled_backups=False, retired=True, replacement="essential-0"),
        PostgresPlan("hobby-basic", "hobby", scheduled_backups=True, retired=True, replacement="essential-0"),
        PostgresPlan("mini", "essential", scheduled_backups=True, retired=True, replacement="essential-0"),
        PostgresPlan("basic", "essential", scheduled_backups=True, retired=True, replacement="essential-1"),
    ]
}

# Ordering used by the gate to spot a plan downgrade.
TIER_ORDER = ["hobby", "essential", "standard", "premium", "private", "shield"]


def plan_rank(plan: str) -> tuple[int, int]:
    info = POSTGRES_PLANS.get(plan)
    if info is None:
        return (-1, -1)
    size = plan.rsplit("-", 1)[-1]
    return (TIER_ORDER.index(info.tier), int(size) if size.isdigit() else 0)


DYNO_SIZES = {
    "eco",
    "basic",
    "standard-1x",
    "standard-2x",
    "performance-m",
    "performance-l",
    "performance-l-ram",
    "performance-xl",
    "performance-2xl",
    "private-s",
    "private-m",
    "private-l",
    "shield-s",
    "shield-m",
    "shield-l",
}
# Eco and Basic dynos cannot scale past one dyno per process type.
SINGLE_DYNO_SIZES = {"eco", "basic"}

HEROKU_REGIONS = {"us", "eu"}
HEROKU_STACKS = {"heroku-22", "heroku-24", "container"}

VERCEL_FRAMEWORKS = {
    "nextjs",
    "vite",
    "remix",
    "astro",
    "sveltekit",
    "sveltekit-1",
    "nuxtjs",
    "create-react-app",
    "gatsby",
    "angular",
    "vue",
    "svelte",
    "solidstart",
    "hugo",
    "jekyll",
    "eleventy",
    "docusaurus-2",
    "react-router",
    "hono",
    "express",
    "fastapi",
    "flask",
    "nestjs",
    "preact",
    "ember",
    "blitzjs",
    "redwoodjs",
    "hydrogen",
    "storybook",
    "vitepress",
    "vuepress",
    "parcel",
    "sanity",
    "ionic-react",
    "ionic-angular",
    "polymer",
    "stencil",
    "umijs",
    "saber",
    "gridsome",
    "scully",
    "dojo",
    "zola",
    "hexo",
    "brunch",
    "middleman",
    "mkdocs",
}
# The platform APIs' base URLs (a sandbox stack points launchplan:endpoints elsewhere).
API_URLS = {
    "herokuApi": "https://api.heroku.com",
    "herokuDataApi": "https://api.data.heroku.com",
    "calendlyApi": "https://api.calendly.com",
    "vercelApi": "https://api.vercel.com",
}

VERCEL_TARGETS = ("production", "preview", "development")


def vercel_allows_sensitive(targets: Collection[str]) -> bool:
    """Vercel refuses sensitive (write-only) values on the development target."""
    return "development" not in targets


CALENDLY_EVENTS = {
    "invitee.created",
    "invitee.canceled",
    "invitee_no_show.created",
    "invitee_no_show.deleted",
    "routing_form_submission.created",
    "event_type.created",
    "event_type.updated",
    "event_type.deleted",
}

# Arrivy has no registration API; its event names are upper-case identifiers.
ARRIVY_EVENT_PATTERN = re.compile(r"^[A-Z][A-Z_]*\Z")

# Config vars Heroku (or an add-on) sets itself: declaring them would fight the platform.
HEROKU_MANAGED_VARS = re.compile(r"^(DATABASE_URL|HEROKU_POSTGRESQL_[A-Z_]+_URL|HEROKU_[A-Z_]+)\Z")

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
HEROKU_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]\Z")
HOSTNAME = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")
PROCESS_TYPE = re.compile(r"^[a-z][a-z0-9_-]{0,29}\Z")
PG_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")
# PostgreSQL extension names are file names: no "--", no leading or trailing "-" (extension.c).
PG_EXTENSION = re.compile(r"^[a-z0-9_]+(-[a-z0-9_]+)*\Z")
CONFIG_KEY = re.compile(r"^([a-z][a-z0-9-]*:)?[A-Za-z][A-Za-z0-9_]*\Z")


def daily_at(hour: int, timezone: str) -> str:
    """How a daily backup schedule reads, as `heroku pg:backups:schedules` shows it: `02:00 America/Los_Angeles`."""
    return f"{int(hour):02d}:00 {timezone}"


def is_loopback(host: str) -> bool:
    """This machine: the only place plain-http endpoints are allowed (a sandbox stack's emulators)."""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
