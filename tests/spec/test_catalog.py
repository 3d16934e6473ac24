"""Platform facts the spec is checked against: plans and their order, retention, secret-looking
names, loopback hosts and the name patterns, each on tables of good and bad inputs."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.spec import catalog
from infra.spec.catalog import (
    POSTGRES_PLANS,
    TIER_ORDER,
    daily_at,
    is_loopback,
    looks_secret,
    plan_rank,
    vercel_allows_sensitive,
)

CURRENT = sorted(name for name, plan in POSTGRES_PLANS.items() if not plan.retired)
RETIRED = sorted(name for name, plan in POSTGRES_PLANS.items() if plan.retired)
quick = settings(database=None, max_examples=200, deadline=None)


def size_of(name: str) -> int:
    """A current plan's size, read from its name as Heroku writes it (tier-N)."""
    return int(name.rsplit("-", 1)[1])


# --- plans -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("standard-2", "standard-0"),  # a smaller size in the same tier
        ("standard-10", "standard-9"),  # sizes compare as numbers, not as text
        ("premium-0", "standard-10"),  # the tier outranks the size
        ("standard-0", "essential-2"),
        ("shield-0", "private-10"),
        ("essential-1", "essential-0"),
    ],
)
def test_a_downgrade_ranks_lower(before: str, after: str) -> None:
    assert plan_rank(after) < plan_rank(before)


def test_an_unknown_plan_ranks_below_every_known_one() -> None:
    assert all(plan_rank("no-such-plan") < plan_rank(name) for name in POSTGRES_PLANS)


@quick
@given(st.sampled_from(CURRENT), st.sampled_from(CURRENT))
def test_plan_rank_is_a_total_order_consistent_with_tier_order(a: str, b: str) -> None:
    tier_a, tier_b = TIER_ORDER.index(POSTGRES_PLANS[a].tier), TIER_ORDER.index(POSTGRES_PLANS[b].tier)
    # Two different current plans never tie: a change between them is an upgrade or a downgrade.
    assert (plan_rank(a) == plan_rank(b)) == (a == b)
    if tier_a != tier_b:
        assert (plan_rank(a) < plan_rank(b)) == (tier_a < tier_b)
    else:
        assert (plan_rank(a) < plan_rank(b)) == (size_of(a) < size_of(b))


@quick
@given(st.sampled_from(CURRENT), st.sampled_from(CURRENT), st.sampled_from(CURRENT))
def test_plan_rank_is_transitive(a: str, b: str, c: str) -> None:
    if plan_rank(a) <= plan_rank(b) <= plan_rank(c):
        assert plan_rank(a) <= plan_rank(c)


def test_every_plan_has_a_known_tier_named_in_its_name() -> None:
    for name in CURRENT:
        plan = POSTGRES_PLANS[name]
        assert plan.name == name and plan.tier in TIER_ORDER and name.startswith(f"{plan.tier}-")


@pytest.mark.parametrize("name", RETIRED)
def test_a_retired_plan_names_a_replacement_that_exists_and_is_current(name: str) -> None:
    replacement = POSTGRES_PLANS[name].replacement
    assert replacement is not None
    assert replacement in POSTGRES_PLANS and not POSTGRES_PLANS[replacement].retired
    # Moving to the named successor is never a downgrade the gate would block.
    assert plan_rank(replacement) >= plan_rank(name)


@pytest.mark.parametrize(
    ("plan", "retention"),
    [
        ("essential-0", "7 daily"),
        ("essential-2", "7 daily"),
        ("standard-0", "7 daily + 4 weekly"),
        ("standard-10", "7 daily + 4 weekly"),
        ("premium-0", "7 daily + 8 weekly + 12 monthly"),
        ("private-4", "7 daily + 8 weekly + 12 monthly"),
        ("shield-10", "7 daily + 8 weekly + 12 monthly"),
        ("hobby-dev", "none"),  # no scheduled backups at all
    ],
)
def test_retention_per_tier(plan: str, retention: str) -> None:
    assert POSTGRES_PLANS[plan].retention == retention


def test_the_hobby_tier_does_not_get_premium_retention() -> None:
    assert POSTGRES_PLANS["hobby-basic"].retention == "7 daily"


# --- secret-looking names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY_BASE",
        "SMTP_PASSWORD",
        "DB_PASSWD",
        "GITHUB_TOKEN",
        "STRIPE_SECRET_KEY",
        "ARRIVY_AUTH_KEY",
        "SENDGRID_API_KEY",
        "MAILGUN_APIKEY",
        "GOOGLE_PRIVATE_KEY_ID",
        "AWS_CREDENTIALS",
        "SENTRY_DSN",
        "DATABASE_URL",
        "REDIS_URL",
        "POSTGRESQL_URL",
        "MONGODB_URL",
        "CLOUDAMQP_URL",
        "ANALYTICS_DATABASE_URL",
        "smtp_password",  # case does not hide a secret
    ],
)
def test_secret_names_look_secret(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "NEXT_PUBLIC_STRIPE_KEY",
        "NEXT_PUBLIC_API_TOKEN",
        "VITE_PUBLIC_MAPS_KEY",
        "STRIPE_PUBLISHABLE_KEY",
        "RSA_PUBLIC_KEY",
        "RAILS_ENV",
        "NODE_ENV",
        "WEB_CONCURRENCY",
        "API_BASE_URL",
        "APP_URL",
        "ARRIVY_COMPANY_NAME",
        "KEYBOARD_LAYOUT",
    ],
)
def test_public_by_design_and_plain_names_do_not(name: str) -> None:
    assert not looks_secret(name)


# --- schedules, targets, hosts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "timezone", "text"),
    [
        (2, "America/Los_Angeles", "02:00 America/Los_Angeles"),
        (0, "UTC", "00:00 UTC"),
        (23, "Europe/Berlin", "23:00 Europe/Berlin"),
    ],
)
def test_daily_at_reads_like_heroku_shows_it(hour: int, timezone: str, text: str) -> None:
    assert daily_at(hour, timezone) == text


def test_daily_at_takes_an_hour_that_crossed_the_engine_as_a_float() -> None:
    assert daily_at(2.0, "UTC") == daily_at(2, "UTC")  # type: ignore[arg-type]


@quick
@given(st.integers(min_value=0, max_value=23), st.sampled_from(sorted(available_timezones())))
def test_daily_at_round_trips_hour_and_timezone(hour: int, timezone: str) -> None:
    clock, zone = daily_at(hour, timezone).split(" ")
    assert datetime.strptime(clock, "%H:%M").hour == hour and zone == timezone


@pytest.mark.parametrize(
    ("targets", "allowed"),
    [
        (["production"], True),
        (["production", "preview"], True),
        (["preview"], True),
        (["development"], False),
        (["production", "preview", "development"], False),
        ((), True),
    ],
)
def test_vercel_allows_sensitive_values_except_on_development(targets: list[str], allowed: bool) -> None:
    assert vercel_allows_sensitive(targets) is allowed


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("8.8.8.8", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("::", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# --- name patterns ----------------------------------------------------------------------------

# (pattern name, good inputs, bad inputs)
PATTERNS: list[tuple[str, list[str], list[str]]] = [
    (
        "HOSTNAME",
        ["example.com", "www.example.com", "*.example.com", "a-b.example.co.uk", "1.example.com", "a" * 63 + ".com"],
        [
            "Example.com",
            "localhost",
            "example",
            "-a.example.com",
            "a-.example.com",
            "example.com.",
            "*.*.example.com",
            "exa mple.com",
            "https://example.com",
            "example.c",
            "example.123",
            "a" * 64 + ".com",
            ("a" * 60 + ".") * 5 + "com",  # longer than 253
        ],
    ),
    (
        "HEROKU_APP_NAME",
        ["abc", "sc-mvp-production", "app2", "a" * 30],
        ["ab", "a" * 31, "1app", "My-app", "my_app", "-app", "my app"],
    ),
    ("ENV_NAME", ["A", "_X", "rails_env", "A1_B2"], ["1A", "A-B", "A B", "", "É", "A.B"]),
    ("PG_IDENTIFIER", ["public", "_tmp", "reporting_ro", "a" * 63], ["a" * 64, "Reporting", "1abc", "a-b", "", "a b"]),
    (
        "CONFIG_KEY",
        ["smtpPassword", "launchplan:smtpPassword", "heroku:apiKey", "my-ns:Key_1"],
        ["1key", "ns:1key", ":key", "Ns:key", "a:b:c", "key-name", "", "smtp password"],
    ),
    ("PROCESS_TYPE", ["web", "worker", "release_2", "a" * 30], ["Web", "1web", "", "a" * 31, "web worker"]),
]
GOOD = [pytest.param(pattern, value, id=f"{pattern}-{value[:20]}") for pattern, good, _ in PATTERNS for value in good]
BAD = [pytest.param(pattern, value, id=f"{pattern}-{value[:20] or 'empty'}") for pattern, _, bad in PATTERNS for value in bad]


@pytest.mark.parametrize(("pattern", "value"), GOOD)
def test_pattern_accepts(pattern: str, value: str) -> None:
    assert getattr(catalog, pattern).match(value)


@pytest.mark.parametrize(("pattern", "value"), BAD)
def test_pattern_refuses(pattern: str, value: str) -> None:
    assert not getattr(catalog, pattern).match(value)


def test_an_app_name_ending_with_a_dash_is_refused() -> None:
    assert not catalog.HEROKU_APP_NAME.match("my-app-")


@pytest.mark.parametrize(("pattern", "value"), [(p, good[0]) for p, good, _ in PATTERNS])
def test_a_trailing_newline_is_refused(pattern: str, value: str) -> None:
    assert not getattr(catalog, pattern).match(value + "\n")


@quick
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_env_name_matches_exactly_the_posix_shape(name: str) -> None:
    posix = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
    if "\n" not in name:
        assert bool(catalog.ENV_NAME.match(name)) == posix
