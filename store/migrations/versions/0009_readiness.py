"""The service may read which migration its database is at (for its readiness probe).

Revision ID: 0009_readiness
Revises: 0008_checkpoint_chain
Create Date: 2026-12-06

The web service's ``/readyz`` compares ``alembic_version`` with the newest migration it
ships; it connects as a login role in ``appointments_app``, which could not read that table.
Reading it tells nothing but a revision name.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_readiness"
down_revision: str | Sequence[str] | None = "0008_checkpoint_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit


def _if_the_role_exists(statement: str) -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                EXECUTE '{statement}';
            END IF;
        END
        $$
        """
    )


def upgrade() -> None:
    _if_the_role_exists(f"GRANT SELECT ON alembic_version TO {APP_ROLE}")


def downgrade() -> None:
    _if_the_role_exists(f"REVOKE SELECT ON alembic_version FROM {APP_ROLE}")
