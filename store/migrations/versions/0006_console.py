"""The web console's sign-in: account passwords (scrypt) and login sessions.

Revision ID: 0006_console
Revises: 0005_probation_chain
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit

revision: str = "0006_console"
down_revision: str | Sequence[str] | None = "0005_probation_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # None: the account signs in with API tokens only. Set from the command line.
    op.add_column("accounts", sa.Column("password_hash", sa.Text(), nullable=True))

    # Only the sha256 of the cookie's session key is kept, beside the session's CSRF token.
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("csrf_token", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_console_sessions"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_console_sessions_account_id_accounts"
        ),
        sa.UniqueConstraint("key_hash", name="uq_console_sessions_key_hash"),
    )
    op.create_index("ix_console_sessions_account_id", "console_sessions", ["account_id"])

    # The service opens and ends sessions; it reads passwords but never sets them (the
    # command line does, as the owner).
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                EXECUTE 'GRANT SELECT, INSERT, UPDATE ON console_sessions TO {APP_ROLE}';
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    op.drop_table("console_sessions")
    op.drop_column("accounts", "password_hash")
