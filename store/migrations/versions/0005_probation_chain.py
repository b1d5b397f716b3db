"""Probation events join the audit trail: hash-chained, append-only, in the checkpoints.

Revision ID: 0005_probation_chain
Revises: 0004_accounts
Create Date: 2026-11-28

What it does, in order:

1. ``probation_events`` gets its chain (``chain_index``, ``prev_hash``, ``hash``), per
   probation, with the one recipe of ``audit.chain``. Events written before this migration are
   chained here, per probation in seq order (the order the workflow numbered them); only then
   do the columns become NOT NULL.
2. Triggers refuse UPDATE, DELETE and TRUNCATE on ``probation_events`` for every role, the
   owner included (the function ``audit_refuse_change`` of 0002_audit). The service's role
   ``appointments_app`` was only ever granted SELECT and INSERT on it (0003_probation); the
   other rights are revoked all the same, should anyone have granted them by hand.
3. ``audit_checkpoints`` gets ``version`` (1 for every checkpoint signed so far, which covered
   the cases' chains only and still verifies as signed) and ``probation_heads`` (the heads of
   the probations' chains, which checkpoints of version 2 sign too). ``version`` has no
   default afterwards: whoever signs must say which.

Downgrading drops the probation chain and the checkpoints' new columns: checkpoints of
version 2 signed meanwhile no longer verify after that (their probation heads are gone).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from audit.chain import PROBATION_CHAIN, link_chain

revision: str = "0005_probation_chain"
down_revision: str | Sequence[str] | None = "0004_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit
TABLE = "probation_events"
BACKFILL_BATCH = 1000


def _chain_existing_events() -> None:
    """Hash the events written before the chain existed, probation by probation, in seq
    order."""
    # What the hash covers, as the table has it (chain_index is what this gives out).
    columns = [n for n in PROBATION_CHAIN.field_names() if n != "chain_index"]
    select = sa.text(
        f"SELECT id, {', '.join(columns)} FROM {TABLE} ORDER BY probation_id, seq"
    ).columns(payload=postgresql.JSONB(), occurred_at=sa.DateTime(timezone=True))
    bind = op.get_bind()
    rows = bind.execute(select).mappings()
    update = sa.text(
        f"UPDATE {TABLE} SET chain_index = :chain_index, prev_hash = :prev_hash, hash = :hash "
        "WHERE id = :id"
    )
    links = [
        {"id": row["id"], "chain_index": fields.chain_index, "prev_hash": prev, "hash": digest}
        for row, fields, prev, digest in link_chain(rows, PROBATION_CHAIN)
    ]
    for start in range(0, len(links), BACKFILL_BATCH):
        bind.execute(update, links[start : start + BACKFILL_BATCH])


def upgrade() -> None:
    # 1. The chain. Nullable until the existing events are chained.
    op.add_column(TABLE, sa.Column("chain_index", sa.Integer(), nullable=True))
    op.add_column(TABLE, sa.Column("prev_hash", sa.Text(), nullable=True))
    op.add_column(TABLE, sa.Column("hash", sa.Text(), nullable=True))
    _chain_existing_events()
    for column in ("chain_index", "prev_hash", "hash"):
        op.alter_column(TABLE, column, nullable=False)
    op.create_index(
        "ix_probation_events_probation_id_chain_index",
        TABLE,
        ["probation_id", "chain_index"],
        unique=True,
    )
    op.create_check_constraint(
        op.f("ck_probation_events_chain_index_positive"), TABLE, "chain_index >= 1"
    )
    op.create_check_constraint(
        op.f("ck_probation_events_hash_is_sha256_hex"), TABLE, "hash ~ '^[0-9a-f]{64}$'"
    )
    op.create_check_constraint(
        op.f("ck_probation_events_prev_hash_is_sha256_hex"), TABLE, "prev_hash ~ '^[0-9a-f]{64}$'"
    )

    # 2. Append-only, whoever asks; and no right to change it for the service's role.
    op.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
    )
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON {TABLE} FROM {APP_ROLE}';
                EXECUTE 'GRANT SELECT, INSERT ON {TABLE} TO {APP_ROLE}';
            END IF;
        END
        $$
        """
    )

    # 3. Checkpoints of version 2 sign the probations' heads too. Adding columns fires no row
    # trigger: the checkpoints signed so far stay as they were, now marked version 1.
    op.add_column(
        "audit_checkpoints",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.alter_column("audit_checkpoints", "version", server_default=None)
    op.add_column(
        "audit_checkpoints",
        sa.Column(
            "probation_heads",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("audit_checkpoints", "probation_heads")
    op.drop_column("audit_checkpoints", "version")
    op.execute(f"DROP TRIGGER {TABLE}_no_truncate ON {TABLE}")
    op.execute(f"DROP TRIGGER {TABLE}_append_only ON {TABLE}")
    for name in (
        op.f("ck_probation_events_prev_hash_is_sha256_hex"),
        op.f("ck_probation_events_hash_is_sha256_hex"),
        op.f("ck_probation_events_chain_index_positive"),
    ):
        op.drop_constraint(name, TABLE, type_="check")
    op.drop_index("ix_probation_events_probation_id_chain_index", table_name=TABLE)
    for column in ("hash", "prev_hash", "chain_index"):
        op.drop_column(TABLE, column)
