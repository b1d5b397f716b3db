"""Assignment and substitutes (认领、指派与代理).

``cases`` gains the awaited step, its responsible role and its assignee (None: the role's
queue), written by ``record_event`` with every event, so "my tasks" reads the listing instead
of asking each case. The service's role already updates ``cases`` (0002_audit): nothing new
to grant there.

``substitutes``: a person names who acts for them from one day to another (代理), or an
administrator does it for them. A row is never deleted; ending it early sets ``ended_at``
and ``ended_by`` once, so the record keeps who covered whom, when, and who said so.

Revision ID: 0014_assignment
Revises: 0013_attachments
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit

revision: str = "0014_assignment"
down_revision: str | Sequence[str] | None = "0013_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_COLUMNS = ("awaited_step", "awaited_role", "assignee")


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


def upgrade() -> None:
    for column in CASE_COLUMNS:
        op.add_column("cases", sa.Column(column, sa.Text(), nullable=True))
    op.create_index("ix_cases_assignee", "cases", ["assignee"])
    op.create_index("ix_cases_awaited_role", "cases", ["awaited_role"])
    op.create_table(
        "substitutes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("substitute", sa.Text(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column(
            "set_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.Text(), nullable=True),
        sa.CheckConstraint("from_date <= to_date", name=op.f("ck_substitutes_period")),
        sa.CheckConstraint("person <> substitute", name=op.f("ck_substitutes_not_self")),
        sa.PrimaryKeyConstraint("id", name="pk_substitutes"),
    )
    op.create_index("ix_substitutes_substitute", "substitutes", ["substitute"])
    op.create_index("ix_substitutes_person", "substitutes", ["person"])
    _if_the_role_exists(
        f"'GRANT SELECT, INSERT, UPDATE ON substitutes TO {APP_ROLE}'",
        f"format('GRANT USAGE ON SEQUENCE %s TO {APP_ROLE}', "
        "pg_get_serial_sequence('substitutes', 'id'))",
    )


def downgrade() -> None:
    _if_the_role_exists(f"'REVOKE ALL ON substitutes FROM {APP_ROLE}'")
    op.drop_table("substitutes")
    op.drop_index("ix_cases_awaited_role", table_name="cases")
    op.drop_index("ix_cases_assignee", table_name="cases")
    for column in reversed(CASE_COLUMNS):
        op.drop_column("cases", column)
