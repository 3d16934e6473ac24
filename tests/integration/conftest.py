"""Integration tests need the offline engine: fail (never skip) when it is missing."""

from __future__ import annotations

import pytest

from scripts.pulumi_cli import EngineMissingError, require_engine


@pytest.fixture(autouse=True)
def engine_built() -> None:
    try:
        require_engine()
    except EngineMissingError as exc:
        pytest.fail(str(exc))
