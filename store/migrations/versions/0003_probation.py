"""Probations, their history, and the mail outbox.

Revision ID: 0003_probation
Revises: 0002_audit
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit

revision: str = "0003_probation"
down_revision: str | Sequence[str] | None = "0002_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One row per appointee on probation, kept at the state of its newest event (last_seq).
    # No foreign key to cases: probations brought in at deployment have no case here.
    op.create_table(
        "probations",
        sa.Column("probation_id", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("post", sa.Text(), nullable=False),
        sa.Column("former_rank", sa.Text(), server_default="", nullable=False),
        sa.Column("former_post", sa.Text(), server_default="", nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("review_status", sa.Text(), nullable=False),
        sa.Column("review_due_on", sa.Date(), nullable=True),
        sa.Column(
            "review_overdue", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("rank_restored", sa.Text(), server_default="", nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("imported", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("probation_id", name="pk_probations"),
        sa.UniqueConstraint("case_id", "person_id", name="uq_probations_case_id_person_id"),
    )
    op.create_index("ix_probations_status", "probations", ["status"])
    op.create_index("ix_probations_ends_on", "probations", ["ends_on"])

    # The history; UNIQUE (probation_id, seq) makes recording idempotent.
    op.create_table(
        "probation_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("probation_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_name", sa.Text(), nullable=False),
        sa.Column("actor_role", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_probation_events"),
        sa.ForeignKeyConstraint(
            ["probation_id"],
            ["probations.probation_id"],
            name="fk_probation_events_probation_id_probations",
        ),
        sa.UniqueConstraint("probation_id", "seq", name="uq_probation_events_probation_id_seq"),
    )

    # Every mail, written before it is sent; UNIQUE (source, seq, recipient) is what keeps a
    # retried activity from mailing twice.
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("recipient_role", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("source", "seq", "recipient", name="uq_outbox_source_seq_recipient"),
    )
    op.create_index("ix_outbox_status", "outbox", ["status"])

    # What the service's role may do: the history is appended to, never changed; the listing
    # row and the outbox row are updated as things happen. (Dropping the tables in
    # downgrade drops these grants with them.)
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                EXECUTE 'GRANT SELECT, INSERT ON probation_events TO {APP_ROLE}';
                EXECUTE 'GRANT SELECT, INSERT, UPDATE ON probations, outbox TO {APP_ROLE}';
                EXECUTE format('GRANT USAGE ON SEQUENCE %s, %s TO {APP_ROLE}',
                    pg_get_serial_sequence('probation_events', 'id'),
                    pg_get_serial_sequence('outbox', 'id'));
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("probation_events")
    op.drop_table("probations")
