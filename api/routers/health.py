"""Health probes of the web service, unauthenticated: ``/healthz`` (the process answers) and
``/readyz`` (it can do its work: the database answers, Temporal knows the namespace, the
database is at the migration this code ships).

The answers are small JSON with fixed keys and a fixed vocabulary of values, and never hold
an address, a password, a name or an error's text: anyone who reaches the port may read them.
Kubernetes: ``/healthz`` is the liveness probe (a failure restarts the process), ``/readyz``
the readiness probe (a failure takes the pod out of the Service until it passes again).
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from temporalio.service import RPCError, RPCStatusCode

from api.deps import ServicesDep
from gateway.readiness import namespace_reachable
from store.migrate import applied_revision, head_revision

# Not in the OpenAPI description: they are for probes, not clients, and a 503 from /readyz
# is an answer, not a fault of the API (the README says what they mean).
router = APIRouter(tags=["health"], include_in_schema=False)

CHECK_TIMEOUT = 2.0  # seconds for each check; a probe's own timeout is longer
NO_STORE = {"Cache-Control": "no-store"}

Outcome = Literal["ok", "unreachable", "timeout", "namespace_not_found", "not_at_head", "unknown"]


@router.get("/healthz", summary="The process answers (liveness)")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "alive"}, headers=NO_STORE)


@router.get("/readyz", summary="Database, Temporal and migrations ready (readiness)")
async def readyz(parts: ServicesDep) -> JSONResponse:
    (database, migrations, revisions), temporal = await asyncio.gather(
        _database(parts), _temporal(parts)
    )
    checks: dict[str, Outcome] = {
        "database": database,
        "temporal": temporal,
        "migrations": migrations,
    }
    failed = [name for name, outcome in checks.items() if outcome != "ok"]
    body: dict[str, Any] = {
        "status": "not_ready" if failed else "ready",
        "failed": failed,
        "checks": checks,
        "migration": revisions,
    }
    return JSONResponse(body, status_code=503 if failed else 200, headers=NO_STORE)


async def _database(parts: ServicesDep) -> tuple[Outcome, Outcome, dict[str, str | None]]:
    """The database's outcome, the migrations' outcome and the two revisions compared."""
    head = head_revision()
    revisions: dict[str, str | None] = {"code": head, "database": None}

    async def ask() -> str | None:
        async with parts.sessions() as session:
            await session.execute(text("SELECT 1"))
            return await applied_revision(session)

    try:
        applied = await asyncio.wait_for(ask(), CHECK_TIMEOUT)
    except TimeoutError:
        return "timeout", "unknown", revisions
    except Exception:  # the probe says that it failed, never how (the text may hold the URL)
        return "unreachable", "unknown", revisions
    revisions["database"] = applied
    return "ok", ("ok" if applied == head else "not_at_head"), revisions


async def _temporal(parts: ServicesDep) -> Outcome:
    namespace = parts.settings.temporal_namespace
    try:
        await asyncio.wait_for(namespace_reachable(parts.client, namespace), CHECK_TIMEOUT + 1)
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return "namespace_not_found"
        if exc.status is RPCStatusCode.DEADLINE_EXCEEDED:
            return "timeout"
        return "unreachable"
    except TimeoutError:
        return "timeout"
    except Exception:
        return "unreachable"
    return "ok"
