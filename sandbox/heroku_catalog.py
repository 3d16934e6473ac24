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
