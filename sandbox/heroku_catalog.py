"""What the Heroku emulator accepts, written down for the emulator itself.

The sandbox is an independent oracle: it must not share the catalog launchplan's spec
validates against (infra/spec/catalog.py), or a wrong entry there could never be caught.
Sources: Heroku Dev Center (dyno types, Heroku Postgres plans) as of 2026.
"""

from __future__ import annotations

from dataclasses import dataclass

HEROKU_REGIONS = {"us", "eu"}
HEROKU_STACKS = {"heroku-22", "heroku-24", "container"}
DYNO_SIZES = {
    "eco", "basic", "standard-1x", "standard-2x",
    "performance-m", "performance-l", "performance-l-ram", "performance-xl", "performance-2xl",
    "private-s", "private-m", "private-l", "shield-s", "shield-m", "shield-l",
}  # fmt: skip
SINGLE_DYNO_SIZES = {"eco", "basic"}  # cannot scale past one dyno per process type


@dataclass(frozen=True)
class Plan:
    name: str
    retired: bool = False
    replacement: str | None = None


def _sizes(tier: str, sizes: list[int]) -> list[Plan]:
    return [Plan(f"{tier}-{n}") for n in sizes]


POSTGRES_PLANS = {
    p.name: p
    for p in [
        *_sizes("essential", [0, 1, 2]),
        *(p for tier in ("standard", "premium", "private", "shield") for p in _sizes(tier, [0, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
        Plan("hobby-dev", retired=True, replacement="essential-0"),
        Plan("hobby-basic", retired=True, replacement="essential-0"),
        Plan("mini", retired=True, replacement="essential-0"),
        Plan("basic", retired=True, replacement="essential-1"),
    ]
}

# Monthly list prices in US cents (Heroku's published prices, heroku.com/pricing and
# elements.heroku.com/addons/heroku-postgresql, 2025): what add-ons answer as `billed_price` and
# expanded plans as `price`, so the CLI prints "~$0.069/hour" and "$50/month" for standard-0.
POSTGRES_PRICES = {
    "essential-0": 500, "essential-1": 900, "essential-2": 2000,
    "standard-0": 5000, "standard-2": 20000, "standard-3": 40000, "standard-4": 75000, "standard-5": 140000,
    "standard-6": 200000, "standard-7": 350000, "standard-8": 450000, "standard-9": 580000, "standard-10": 850000,
    "premium-0": 20000, "premium-2": 35000, "premium-3": 75000, "premium-4": 120000, "premium-5": 250000,
    "premium-6": 350000, "premium-7": 600000, "premium-8": 850000, "premium-9": 1100000, "premium-10": 1600000,
    "private-0": 30000, "private-2": 60000, "private-3": 120000, "private-4": 180000, "private-5": 300000,
    "private-6": 500000, "private-7": 700000, "private-8": 1000000, "private-9": 1300000, "private-10": 1900000,
    "shield-0": 35000, "shield-2": 70000, "shield-3": 140000, "shield-4": 210000, "shield-5": 350000,
    "shield-6": 580000, "shield-7": 800000, "shield-8": 1180000, "shield-9": 1500000, "shield-10": 2200000,
}  # fmt: skip

# The extensions Heroku Postgres lets an add-on's own (non-superuser) credential create: its
# `extwlist.extensions` allow list, from the Dev Center article "Extensions, PostGIS, and Full Text
# Search Dictionaries on Heroku Postgres" (recalled, not re-read here: PostGIS and pg_partman are
# not in the sandbox's PostgreSQL build anyway). Any other extension needs a superuser, as on Heroku.
HEROKU_EXTENSIONS = frozenset(
    {
        "address_standardizer", "address_standardizer_data_us", "amcheck", "autoinc", "bloom", "btree_gin",
        "btree_gist", "citext", "cube", "dblink", "dict_int", "dict_xsyn", "earthdistance", "fuzzystrmatch",
        "hstore", "insert_username", "intagg", "intarray", "isn", "lo", "ltree", "moddatetime", "pg_partman",
        "pg_stat_statements", "pg_trgm", "pgcrypto", "pgrouting", "pgrowlocks", "pgstattuple", "plpgsql",
        "postgis", "postgis_raster", "postgis_sfcgal", "postgis_tiger_geocoder", "postgis_topology",
        "postgres_fdw", "refint", "seg", "sslinfo", "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time",
        "unaccent", "uuid-ossp", "vector",
    }
)  # fmt: skip
