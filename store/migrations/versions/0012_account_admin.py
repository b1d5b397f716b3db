"""Accounts managed from the console's settings page: the service may now create accounts,
change their roles, passwords and tokens, and disable them; every such change is kept in
``account_changes``, which the service may add to and read, never change.

Revision ID: 0012_account_admin
Revises: 0011_calendar_years
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit

revision: str = "0012_account_admin"
down_revision: str | Sequence[str] | None = "0011_calendar_years"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
    # Who changed which account, how, and when: one row per change, never updated.
    op.create_table(
        "account_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("account_name", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_by_role", sa.Text(), nullable=False),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_changes"),
    )
    op.create_index("ix_account_changes_changed_at", "account_changes", ["changed_at"])
    # An administrator changes accounts from the console, which the service serves: it may
    # now add and change accounts and tokens (deleting none: a history names them).
    _if_the_role_exists(
        f"'GRANT INSERT, UPDATE ON accounts, api_tokens TO {APP_ROLE}'",
        f"'GRANT SELECT, INSERT ON account_changes TO {APP_ROLE}'",
        f"format('GRANT USAGE ON SEQUENCE %s, %s, %s TO {APP_ROLE}', "
        "pg_get_serial_sequence('accounts', 'id'), "
        "pg_get_serial_sequence('api_tokens', 'id'), "
        "pg_get_serial_sequence('account_changes', 'id'))",
    )


def downgrade() -> None:
    _if_the_role_exists(
        f"'REVOKE INSERT, UPDATE ON accounts, api_tokens FROM {APP_ROLE}'",
        f"format('REVOKE USAGE ON SEQUENCE %s, %s FROM {APP_ROLE}', "
        "pg_get_serial_sequence('accounts', 'id'), "
        "pg_get_serial_sequence('api_tokens', 'id'))",
    )
    op.drop_table("account_changes")
