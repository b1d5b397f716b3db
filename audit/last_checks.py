"""The outcome of the newest whole-log verification (核验) and reconciliation (对账), for the
operator's monitoring (``/metrics``).

Whichever door ran it (``appointments audit verify|reconcile``, the API's ``/audit/verify``,
the console) writes one small file per check into the data folder (DATA_DIR): whether it
passed, how many faults it found, when it finished. Only counts and a time: no case id, no
name. A check of one case only is not recorded (it vouches for that case alone).

A file, not a table: the result is a monitoring signal, not part of the record, and must not
need a migration or a role allowed to write it. The web service reads the files of its own
data folder, so a check run in another container reaches ``/metrics`` only when it runs there
too (``docker compose exec web appointments audit verify``) or shares the folder. Nothing is
kept when the data folder does not exist (a command line without a stack): the check makes no
folder of its own accord. A folder that cannot be written is logged, never raised: monitoring
must not fail the check itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

Check = Literal["verify", "reconcile"]
CHECKS: tuple[Check, ...] = ("verify", "reconcile")


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    faults: int
    finished_at: datetime


def _file(folder: Path, check: Check) -> Path:
    return folder / f"last-audit-{check}.json"


def record_check(
    folder: Path, check: Check, ok: bool, faults: int, finished_at: datetime | None = None
) -> None:
    """Write the outcome (atomically: a reader sees the old one or the new one)."""
    when = finished_at or datetime.now(UTC)
    body = {"ok": ok, "faults": faults, "finished_at": when.isoformat()}
    target = _file(folder, check)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    if not folder.is_dir():
        log.debug("the outcome of audit %s is not kept: no data folder %s", check, folder)
        return
    try:
        partial.write_text(json.dumps(body), "utf-8")
        os.replace(partial, target)
    except OSError as e:
        log.warning("the outcome of audit %s was not kept for monitoring: %s", check, e)


async def record_check_async(folder: Path, check: Check, ok: bool, faults: int) -> None:
    await asyncio.to_thread(record_check, folder, check, ok, faults)


def last_checks(folder: Path) -> dict[Check, CheckResult]:
    """The newest outcome of each check that has one."""
    found: dict[Check, CheckResult] = {}
    for check in CHECKS:
        path = _file(folder, check)
        try:
            data = json.loads(path.read_text("utf-8"))
            found[check] = CheckResult(
                ok=bool(data["ok"]),
                faults=int(data["faults"]),
                finished_at=datetime.fromisoformat(data["finished_at"]),
            )
        except FileNotFoundError:
            continue
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("the outcome of audit %s in %s cannot be read: %s", check, path, e)
    return found
