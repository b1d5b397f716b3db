"""The objection intake: what the public board takes in, before the case is touched.

Revision ID: 0007_objection_intake
Revises: 0006_console
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit

revision: str = "0007_objection_intake"
down_revision: str | Sequence[str] | None = "0006_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "objection_intake",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("notice_published_on", sa.Date(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.Text(), nullable=False),
        sa.Column("salt", sa.Text(), nullable=False),
        sa.Column("commitment", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("copies", sa.Integer(), server_default="1", nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_objection_intake"),
        sa.UniqueConstraint("receipt", name="uq_objection_intake_receipt"),
        sa.UniqueConstraint(
            "case_id",
            "notice_published_on",
            "person_id",
            "text_sha256",
            name="uq_objection_intake_same_text",
        ),
    )
    op.create_index("ix_objection_intake_case_id", "objection_intake", ["case_id"])
    # The board takes objections in and marks them delivered; nobody deletes one.
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                EXECUTE 'GRANT SELECT, INSERT, UPDATE ON objection_intake TO {APP_ROLE}';
                EXECUTE format('GRANT USAGE ON SEQUENCE %s TO {APP_ROLE}',
                               pg_get_serial_sequence('objection_intake', 'id'));
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    op.drop_table("objection_intake")
