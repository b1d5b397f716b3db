"""Chain kinds (审计链类别): what each ``cases`` row lists.

A chain of the case kind is locked through its ``cases`` row, so the audit chains that are not
appointment cases have one too: the cadre register's (``cadre-register``) and the cadre
workflows' (``capability:<campaign>``, ``capability:<campaign>:<person>``,
``double-evaluation:<evaluation>``, ``removal:<evaluation>:<person>``,
``rotation-batch:<batch>``). Until now those rows
passed for withdrawn appointment cases. ``cases.chain`` says what each row is: ``appointment``
for a case (the default, so every recording written before it needs no change), else the
kind of audit chain (``workflows.types.ChainKind``; the database refuses any other word). The
rows already there are set by their ids, as ``workflows.ids.chain_kind_of`` reads them, and
only where the row is one of those chains' listings (its reason says so). The case list reads
one kind, nearest deadline first: an index on (chain, next_deadline, case_id).

The reports' summary (0016) counts appointment cases only, as the reports' SQL over the log
does (``store.reports``): each view that joins ``cases`` joins the appointment cases alone.
The views are created again (empty; the first reader refreshes them), with their indexes and
the service's grant as 0016 made them; the refresh function finds them by name.

Revision ID: 0018_chain_kinds
Revises: 0017_cadre_register
Create Date: 2026-12-07
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0018_chain_kinds"
down_revision: str | Sequence[str] | None = "0017_cadre_register"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit
APPOINTMENT = "appointment"
# the kind of each audit chain that is not a case, by its id (a LIKE pattern; the retest's
# and the removal's ids hold two keys, the campaign's one: keys escape ":")
KINDS_BY_ID = (
    ("cadre_register", "cadre-register"),
    ("capability_retest", "capability:%:%"),
    ("capability_campaign", "capability:%"),
    ("double_evaluation", "double-evaluation:%"),
    ("removal", "removal:%"),
    ("rotation_batch", "rotation-batch:%"),
)
KINDS = (APPOINTMENT, *(kind for kind, _ in KINDS_BY_ID))
# what the listing row of such a chain said of itself (``store.register_audit``,
# ``workflows.cadre_records.chain_listing``)
NOT_A_CASE = "%的审计链，不是任用案件"
INDEX = "ix_cases_chain_next_deadline"
# the join of 0016's views to the listing, which now takes appointment cases only
JOIN = re.compile(r"JOIN cases AS c ON c\.case_id = (\w+)\.case_id")


def _report_summary() -> ModuleType:
    """Migration 0016, whose views these are (migrations are never edited: its text is the
    views as it made them)."""
    path = Path(__file__).with_name("0016_report_summary.py")
    spec = importlib.util.spec_from_file_location("report_summary_0016", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _appointments_only(view: str, query: str) -> str:
    joined = JOIN.subn(rf"\g<0> AND c.chain = '{APPOINTMENT}'", query)
    # every view of 0016 that reads the listing joins it once; the durations read the stays
    assert joined[1] == (0 if view == "report_stage_durations" else 1), view
    return joined[0]


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


def _create_views(views: dict[str, str], summary: ModuleType) -> None:
    """The views as 0016 created them (with ``views``' queries), empty, indexed, granted."""
    for view, query in views.items():
        op.execute(f"CREATE MATERIALIZED VIEW {view} AS {query} WITH NO DATA")
        op.execute(f"CREATE UNIQUE INDEX ux_{view} ON {view} ({', '.join(summary.UNIQUE[view])})")
        for columns in summary.FILTERS[view]:
            op.execute(
                f"CREATE INDEX ix_{view}_{'_'.join(columns)} ON {view} ({', '.join(columns)})"
            )
    _if_the_role_exists(f"'GRANT SELECT ON {', '.join(views)} TO {APP_ROLE}'")


def _drop_views(views: dict[str, str]) -> None:
    for view in reversed(views):
        op.execute(f"DROP MATERIALIZED VIEW {view}")


def upgrade() -> None:
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    op.add_column(
        "cases",
        sa.Column("chain", sa.Text(), server_default=APPOINTMENT, nullable=False),
    )
    op.create_check_constraint(op.f("ck_cases_chain_kind"), "cases", f"chain IN ({kinds})")
    by_id = "\n".join(f"WHEN case_id LIKE '{like}' THEN '{kind}'" for kind, like in KINDS_BY_ID)
    any_id = " OR ".join(f"case_id LIKE '{like}'" for _, like in KINDS_BY_ID)
    op.execute(
        f"""
        UPDATE cases SET chain = CASE {by_id} END
        WHERE ({any_id}) AND outcome_reason LIKE '{NOT_A_CASE}'
        """
    )
    op.create_index(INDEX, "cases", ["chain", "next_deadline", "case_id"])
    summary = _report_summary()
    _drop_views(summary.VIEWS)
    _create_views(
        {view: _appointments_only(view, query) for view, query in summary.VIEWS.items()}, summary
    )


def downgrade() -> None:
    summary = _report_summary()
    _drop_views(summary.VIEWS)
    _create_views(summary.VIEWS, summary)
    op.drop_index(INDEX, table_name="cases")
    op.drop_constraint(op.f("ck_cases_chain_kind"), "cases", type_="check")
    op.drop_column("cases", "chain")
