"""The reports' summary (报表汇总): what the reports aggregate, kept precomputed.

Each report of ``store.reports`` cuts every case's log into stays, waits or awaited steps
with a window over ``case_events``: seconds over 100,000 cases. These materialized views
hold the result of that cut, one row per stay or wait, or counts by day and unit,
with the columns the reports' filters select on (the unit, the day it began) indexed; the
reports then only group and take percentiles (``store.report_summary``). Each view's query
is the one its report runs over the log, so that freshly refreshed they give the same
figures (``tests/store/test_report_summary.py`` checks it on the same events):

- ``report_stays``: each ended stay in a stage (entered by ``opened`` or ``transition``,
  left at the case's next such event, in ``seq`` order), with its case's method and unit;
- ``report_waits``: each awaited step answered and followed by another (a ``deadline``
  event to the last ``input`` before the case's next ``deadline``, ``transition`` or
  ``closed``), with the role its first reminder names (NULL: none; the reader falls back to
  its policy's responsible role for the step);
- ``report_deadline_days``: how many steps were awaited (a ``deadline`` event) each day
  (Beijing's) in each unit, by step, and how many of them went overdue (the case's next
  deadline-or-overdue event is an ``overdue`` one);
- ``report_day_counts``: how many ``opened``, ``closed`` and ``escalation`` events each day
  (Beijing's) in each unit;
- ``report_stage_durations``: the stays' medians and 90th percentiles by method and by unit
  over the whole log, the unfiltered page's costliest table (a filtered one reads the stays);
- ``report_summary_as_of``: one row, when the views were last refreshed.

Nothing writes to them but ``report_summary_refresh()``: recording an event costs what it
cost before (no trigger). The function refreshes every view (CONCURRENTLY once populated,
so readers are never blocked), and the as-of row last; it runs with the rights of the
views' owner (SECURITY DEFINER), since only an owner may refresh a view, and the service's
role may call it and read the views, nothing else. Its caller takes the advisory lock that
keeps refreshes one at a time and runs it in one REPEATABLE READ transaction, so every view
and the as-of row see the same snapshot. The views are created empty (a migration over a
large log stays quick): the first reader refreshes them.

Revision ID: 0016_report_summary
Revises: 0015_extension_requests
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016_report_summary"
down_revision: str | Sequence[str] | None = "0015_extension_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit
FIRST_REMINDER = '$.alarms[*] ? (@.kind == "reminder")'
SECONDS_PER_DAY = 86400
BEIJING = "Asia/Shanghai"


def days(interval: str) -> str:
    """An interval in days as the reports' percentiles take it: ``percentile_cont`` orders
    double precision, so the numeric days of the log's SQL are cast to it there; the view
    keeps the cast value (the same values, bit for bit, and quicker to sort)."""
    return f"(extract(epoch FROM {interval}) / {SECONDS_PER_DAY})::double precision"


VIEWS: dict[str, str] = {
    "report_stays": f"""
        SELECT s.case_id, s.seq, c.method, c.unit, s.stage, s.entered_at,
               {days("s.left_at - s.entered_at")} AS days
        FROM (
            SELECT case_id, seq, stage, occurred_at AS entered_at,
                   lead(occurred_at) OVER (PARTITION BY case_id ORDER BY seq) AS left_at
            FROM case_events
            WHERE kind IN ('opened', 'transition', 'closed')
        ) AS s
        JOIN cases AS c ON c.case_id = s.case_id
        WHERE s.left_at IS NOT NULL
    """,
    "report_waits": f"""
        WITH marks AS (
            SELECT case_id, kind, occurred_at,
                   CASE WHEN kind = 'deadline'
                        THEN split_part(payload ->> 'step', ':', 1) END AS step,
                   CASE WHEN kind = 'deadline'
                        THEN jsonb_path_query_first(payload, '{FIRST_REMINDER}') ->> 'role'
                   END AS reminded,
                   sum(CASE WHEN kind = 'input' THEN 0 ELSE 1 END)
                       OVER (PARTITION BY case_id ORDER BY seq) AS span
            FROM case_events
            WHERE kind IN ('deadline', 'transition', 'closed', 'input')
        ), spans AS (
            SELECT case_id, span,
                   min(occurred_at) FILTER (WHERE kind = 'deadline') AS set_at,
                   max(occurred_at) FILTER (WHERE kind = 'input') AS answered_at,
                   -- one deadline at most per span: it opens the span
                   max(step) AS step,
                   max(reminded) AS reminded,
                   max(span) OVER (PARTITION BY case_id) AS last
            FROM marks
            GROUP BY case_id, span
        )
        SELECT s.case_id, s.span, c.unit, s.step, s.reminded, s.set_at,
               {days("s.answered_at - s.set_at")} AS days
        FROM spans AS s
        JOIN cases AS c ON c.case_id = s.case_id
        WHERE s.set_at IS NOT NULL AND s.answered_at IS NOT NULL AND s.span < s.last
    """,
    "report_deadline_days": f"""
        SELECT (m.occurred_at AT TIME ZONE '{BEIJING}')::date AS day, c.unit, m.step,
               count(*) AS awaited, count(*) FILTER (WHERE m.next_kind = 'overdue') AS overdue
        FROM (
            SELECT case_id, seq, kind, occurred_at,
                   split_part(payload ->> 'step', ':', 1) AS step,
                   lead(kind) OVER (PARTITION BY case_id ORDER BY seq) AS next_kind
            FROM case_events
            WHERE kind IN ('deadline', 'overdue')
        ) AS m
        JOIN cases AS c ON c.case_id = m.case_id
        WHERE m.kind = 'deadline'
        GROUP BY 1, 2, 3
    """,
    "report_day_counts": f"""
        SELECT (e.occurred_at AT TIME ZONE '{BEIJING}')::date AS day, c.unit, e.kind,
               count(*) AS events
        FROM case_events AS e
        JOIN cases AS c ON c.case_id = e.case_id
        WHERE e.kind IN ('opened', 'closed', 'escalation')
        GROUP BY 1, 2, 3
    """,
    # the unfiltered page's costliest table, whole: refreshed after the stays it reads
    "report_stage_durations": """
        SELECT CASE WHEN grouping(method) = 1 THEN 'unit' ELSE 'method' END AS grouping,
               coalesce(method, unit) AS "group", stage, count(*) AS stays,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median_days,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY days) AS p90_days
        FROM report_stays
        GROUP BY GROUPING SETS ((method, stage), (unit, stage))
    """,
}
# every view needs a unique index to be refreshed CONCURRENTLY; the others serve the filters
UNIQUE = {
    "report_stays": ("case_id", "seq"),
    "report_waits": ("case_id", "span"),
    "report_deadline_days": ("day", "unit", "step"),
    "report_day_counts": ("day", "unit", "kind"),
    "report_stage_durations": ("grouping", '"group"', "stage"),
}
FILTERS = {
    "report_stays": (("unit", "entered_at"), ("entered_at",)),
    "report_waits": (("unit", "set_at"), ("set_at",)),
    "report_deadline_days": (("unit", "day"),),
    "report_day_counts": (("unit", "day"),),
    "report_stage_durations": (),
}
AS_OF = "report_summary_as_of"
REFRESH = "report_summary_refresh"


def _if_the_role_exists(*statements: str) -> None:
    body = "\n".join(f"EXECUTE {s};" for s in statements)
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                {body}
            END IF;
        END
        $$
        """
    )


def _refresh_one(view: str) -> str:
    return f"""
        IF (SELECT ispopulated FROM pg_matviews
            WHERE schemaname = current_schema() AND matviewname = '{view}') THEN
            REFRESH MATERIALIZED VIEW CONCURRENTLY {view};
        ELSE
            REFRESH MATERIALIZED VIEW {view};
        END IF;"""


def upgrade() -> None:
    for view, query in VIEWS.items():
        op.execute(f"CREATE MATERIALIZED VIEW {view} AS {query} WITH NO DATA")
        op.execute(f"CREATE UNIQUE INDEX ux_{view} ON {view} ({', '.join(UNIQUE[view])})")
        for columns in FILTERS[view]:
            op.execute(
                f"CREATE INDEX ix_{view}_{'_'.join(columns)} ON {view} ({', '.join(columns)})"
            )
    op.execute(f"CREATE MATERIALIZED VIEW {AS_OF} AS SELECT now() AS refreshed_at WITH NO DATA")
    body = "".join(_refresh_one(view) for view in VIEWS)
    op.execute(
        f"""
        CREATE FUNCTION {REFRESH}() RETURNS timestamptz
        LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
        BEGIN
            {body}
            REFRESH MATERIALIZED VIEW {AS_OF};
            RETURN (SELECT refreshed_at FROM {AS_OF});
        END
        $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {REFRESH}() FROM PUBLIC")
    names = ", ".join([*VIEWS, AS_OF])
    _if_the_role_exists(
        f"'GRANT SELECT ON {names} TO {APP_ROLE}'",
        f"'GRANT EXECUTE ON FUNCTION {REFRESH}() TO {APP_ROLE}'",
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {REFRESH}()")
    op.execute(f"DROP MATERIALIZED VIEW {AS_OF}")
    for view in reversed(VIEWS):
        op.execute(f"DROP MATERIALIZED VIEW {view}")
