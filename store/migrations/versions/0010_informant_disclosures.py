"""Every disclosure of informants' identities: who read them, for which case, and why.

Revision ID: 0010_informant_disclosures
Revises: 0009_readiness
Create Date: 2026-12-06

Append-only: the service may add a disclosure and read them, never change or remove one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit

revision: str = "0010_informant_disclosures"
down_revision: str | Sequence[str] | None = "0009_readiness"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "informant_disclosures",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("receipts", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column(
            "disclosed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_informant_disclosures"),
    )
    op.create_index("ix_informant_disclosures_case_id", "informant_disclosures", ["case_id"])
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                EXECUTE 'GRANT SELECT, INSERT ON informant_disclosures TO {APP_ROLE}';
                EXECUTE format('GRANT USAGE ON SEQUENCE %s TO {APP_ROLE}',
                               pg_get_serial_sequence('informant_disclosures', 'id'));
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    op.drop_table("informant_disclosures")
