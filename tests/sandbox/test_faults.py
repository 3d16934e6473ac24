"""The emulators' fault knobs: range-checked, seeded (random unless set), and the create faults."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest

from sandbox.core import Faults
from sandbox.vercel import VercelApi
from scripts.pulumi_cli import ROOT

AUTH = {"Authorization": "Bearer t"}


@pytest.mark.parametrize(
    "knobs",
    [
        {"error_rate": 2.0},
        {"error_rate": -0.5},
        {"latency_ms": -1},
        {"rate_limit_every": -1},
        {"retry_after": -1.0},
        {"seed": -3},
    ],
)
def test_out_of_range_knobs_are_refused(knobs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(knobs)).replace("_", "-").replace("seed", "fault-seed")):
        Faults(**knobs)


def test_the_seed_is_random_unless_set_and_decides_the_faults() -> None:
    assert Faults().seed != Faults().seed or Faults().seed != Faults().seed
    assert Faults(seed=5).seed == 5
    rolls = []
    for _ in range(2):
        api = VercelApi(faults=Faults(error_rate=0.5, seed=42))
        url = api.start()
        try:
            rolls.append([httpx.get(f"{url}/v9/projects/x", headers=AUTH, trust_env=False).status_code for _ in range(20)])
        finally:
            api.stop()
    assert rolls[0] == rolls[1] and 503 in rolls[0] and 404 in rolls[0]


def test_fail_after_create_loses_the_next_request_once() -> None:
    api = VercelApi(faults=Faults(fail_after_create="^POST /v8/projects$"))
    url = api.start()
    try:
        made = httpx.post(f"{url}/v8/projects", json={"name": "a"}, headers=AUTH, trust_env=False)
        assert made.status_code == 200
        assert httpx.get(f"{url}/v9/projects/a", headers=AUTH, trust_env=False).status_code == 503
        assert httpx.get(f"{url}/v9/projects/a", headers=AUTH, trust_env=False).status_code == 200
        httpx.post(f"{url}/v8/projects", json={"name": "b"}, headers=AUTH, trust_env=False)
        assert httpx.get(f"{url}/v9/projects/b", headers=AUTH, trust_env=False).status_code == 200  # fired once
    finally:
        api.stop()


def test_lose_create_response_commits_but_answers_503() -> None:
    api = VercelApi(faults=Faults(lose_create_response="^POST /v8/projects$"))
    url = api.start()
    try:
        lost = httpx.post(f"{url}/v8/projects", json={"name": "a"}, headers=AUTH, trust_env=False)
        assert lost.status_code == 503
        assert [p["name"] for p in api.state["projects"].values()] == ["a"]  # made nonetheless
    finally:
        api.stop()


@pytest.mark.parametrize(
    "args", [["--port", "99999"], ["--port", "0"], ["--error-rate", "1.5"], ["--latency-ms", "-2"], ["--fault-seed", "-1"]]
)
def test_the_server_refuses_bad_arguments_with_exit_2(args: list[str], tmp_path: Any) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "sandbox.server", "--dir", str(tmp_path / "e"), *args], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 2 and "error:" in run.stderr
    assert not (tmp_path / "e").exists()
