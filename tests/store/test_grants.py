"""What the service's role (``appointments_app``, the worker's and the web service's logins)
may do to every table and view, as the migrations grant it: a new table without its grant
fails here before it fails in production, and a history table granted more than SELECT and
INSERT fails here before anyone can rewrite it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

APP_ROLE = "appointments_app"
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")

READ = "SELECT"
APPEND = "SELECT INSERT"  # a history: rows are added, never changed nor removed
KEEP = "SELECT INSERT UPDATE"  # a listing or a queue: rows change state, are never removed

EXPECTED = {
    "account_changes": APPEND,
    "accounts": KEEP,
    "alembic_version": READ,
    "api_tokens": KEEP,
    "attachments": APPEND,
    "audit_checkpoints": READ,  # only the signer's role inserts
    "calendar_year_diffs": APPEND,
    "calendar_years": APPEND,
    "case_attachments": APPEND,
    "case_events": APPEND,
    "cases": KEEP,
    "console_sessions": KEEP,
    "extension_requests": KEEP,  # a decision is written once (a trigger refuses the rest)
    "inbox": KEEP,
    "informant_disclosures": APPEND,
    "objection_intake": KEEP,
    "outbox": KEEP,
    "probation_events": APPEND,
    "probations": KEEP,
    "register_versions": APPEND,
    "report_day_counts": READ,
    "report_deadline_days": READ,
    "report_stage_durations": READ,
    "report_stays": READ,
    "report_summary_as_of": READ,
    "report_waits": READ,
    "rotation_decisions": APPEND,
    "rotation_listings": APPEND,
    "rotation_scans": APPEND,
    "substitutes": KEEP,
}


async def test_every_table_grants_the_service_exactly_what_it_needs(
    migrated_database_url: str,
) -> None:
    engine = create_async_engine(migrated_database_url)
    try:
        async with engine.connect() as c:
            names = (
                await c.scalars(
                    text(
                        "SELECT c.relname FROM pg_class c JOIN pg_namespace n"
                        " ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                        " AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1"
                    )
                )
            ).all()
            granted = {}
            for name in names:
                held = [
                    p
                    for p in PRIVILEGES
                    if await c.scalar(
                        text("SELECT has_table_privilege(:r, :t, :p)"),
                        {"r": APP_ROLE, "t": name, "p": p},
                    )
                ]
                granted[name] = " ".join(held)
    finally:
        await engine.dispose()
    assert granted == EXPECTED
