"""The listing row's upsert (列表行) that heads a recording's statement, and locks its chain.

A recording writes its chain's listing row (a case's ``cases`` row, a probation's
``probations`` row) before its events: inserted if missing, updated only by an event newer
than the one it shows (``last_seq``), so a late retry never rolls the listing back. PostgreSQL
locks the conflicting row even when the WHERE of ON CONFLICT DO UPDATE leaves it unchanged, so
the upsert is also the chain's lock (``audit.append``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def upsert_listing(
    table: str,
    key: str,
    columns: Sequence[str],
    first: int,
    *,
    queued_as: Mapping[str, str] | None = None,
) -> str:
    """The row of ``table`` keyed by ``key`` ($1), its ``columns`` from $``first`` on.

    ``queued_as`` (each column's SQL type): the row is inserted only after a transaction-scoped
    advisory lock on the key, for a table whose second unique key ON CONFLICT does not arbitrate
    (two first recordings racing would otherwise fail on it instead of queuing).
    """
    numbered = range(first, first + len(columns))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    if queued_as is None:
        source = f"VALUES ($1, {', '.join(f'${n}' for n in numbered)})"
    else:
        typed = ", ".join(f"${n}::{queued_as[c]}" for n, c in zip(numbered, columns, strict=True))
        source = (
            f"SELECT $1, {typed} "
            "FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) AS queued"
        )
    return f"""
        INSERT INTO {table} ({key}, {", ".join(columns)}) {source}
        ON CONFLICT ({key}) DO UPDATE SET {updates}, updated_at = now()
        WHERE {table}.last_seq < excluded.last_seq
    """
