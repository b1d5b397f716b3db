"""Checkpoints as a chain, inserted by the signer alone.

Revision ID: 0008_checkpoint_chain
Revises: 0007_objection_intake
Create Date: 2026-12-08

What it does, in order:

1. ``audit_checkpoints`` gets ``previous_digest``: from version 3 on, a checkpoint's ``id`` is
   its number in the chain of checkpoints and ``previous_digest`` the digest of the one before
   it, which its signature covers (``audit.statement``). The checkpoints signed so far keep
   NULL there and verify as signed; the first of version 3 links to the newest of them.
2. The group role ``appointments_signer`` (NOLOGIN; created once per server, like
   ``appointments_app``) may read the logs and the checkpoints and insert checkpoints;
   ``appointments_app`` may no longer insert them. Whoever runs the application's code
   (the board, the API, the case activities) cannot then forge a checkpoint; the checkpoint
   activity and ``appointments audit checkpoint`` connect as a login role in the signer's
   group (the setting AUDIT_SIGNER_DATABASE_URL).

Downgrading drops the column (checkpoints of version 3 no longer verify after that) and gives
the application back its right to insert checkpoints; the signer's role stays, as roles do.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_checkpoint_chain"
down_revision: str | Sequence[str] | None = "0007_objection_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit
SIGNER_ROLE = "appointments_signer"  # audit.SIGNER_ROLE; spelled out so this file never changes
TABLE = "audit_checkpoints"


def upgrade() -> None:
    # 1. The link. Adding a column fires no row trigger: the checkpoints stay as signed.
    op.add_column(TABLE, sa.Column("previous_digest", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_audit_checkpoints_previous_digest_is_sha256_hex"),
        TABLE,
        "previous_digest ~ '^[0-9a-f]{64}$'",
    )

    # 2. The signer's role. Several databases on one server may create it at the same moment:
    # the loser of that race finds it there, which is fine.
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SIGNER_ROLE}') THEN
                BEGIN
                    CREATE ROLE {SIGNER_ROLE} NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;
                END;
            END IF;
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO {SIGNER_ROLE}', current_schema());
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                EXECUTE 'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {TABLE} FROM {APP_ROLE}';
                EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM {APP_ROLE}',
                    pg_get_serial_sequence('{TABLE}', 'id'));
            END IF;
        END
        $$
        """
    )
    op.execute(f"GRANT SELECT ON case_events, probation_events TO {SIGNER_ROLE}")
    op.execute(f"GRANT SELECT, INSERT ON {TABLE} TO {SIGNER_ROLE}")


def downgrade() -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{SIGNER_ROLE}') THEN
                EXECUTE 'REVOKE ALL ON case_events, probation_events, {TABLE} FROM {SIGNER_ROLE}';
                EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {SIGNER_ROLE}', current_schema());
            END IF;
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                EXECUTE 'GRANT INSERT ON {TABLE} TO {APP_ROLE}';
                EXECUTE format('GRANT USAGE ON SEQUENCE %s TO {APP_ROLE}',
                    pg_get_serial_sequence('{TABLE}', 'id'));
            END IF;
        END
        $$
        """
    )
    op.drop_constraint(
        op.f("ck_audit_checkpoints_previous_digest_is_sha256_hex"), TABLE, type_="check"
    )
    op.drop_column(TABLE, "previous_digest")
