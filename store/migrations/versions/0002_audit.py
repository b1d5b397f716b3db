"""The audit trail: hash-chained, append-only case_events, signed checkpoints, the app role.

Revision ID: 0002_audit
Revises: 0001
Create Date: 2026-11-25

What it does, in order:

1. ``case_events`` gets its chain (``chain_index``, ``prev_hash``, ``hash``) and ``person_ids``.
   Events written before this migration are chained here, per case in the order they were
   written (by ``id``), with the one recipe of ``audit.chain``; only then do the columns
   become NOT NULL and the log append-only.
2. ``audit_checkpoints``: signed statements of every chain's head.
3. Triggers refuse UPDATE, DELETE and TRUNCATE on both tables, for every role including the
   owner. Only a superuser can get round them (by disabling them), which the signed
   checkpoints expose.
4. The group role ``appointments_app`` (NOLOGIN; created once per server, shared by every
   database on it) gets exactly what the service needs: the log and the checkpoints can be read
   and appended to, never changed. The service connects as a login role that is a member.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from audit.chain import GENESIS, ChainFields, event_hash, person_ids

revision: str = "0002_audit"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "appointments_app"  # audit.APP_ROLE; spelled out so this file never changes meaning
APPEND_ONLY_TABLES = ("case_events", "audit_checkpoints")
BACKFILL_BATCH = 1000


def _chain_existing_events() -> None:
    """Hash the events written before the chain existed, case by case, oldest first."""
    events = sa.table(
        "case_events",
        sa.column("id", sa.BigInteger()),
        sa.column("case_id", sa.Text()),
        sa.column("seq", sa.Integer()),
        sa.column("kind", sa.Text()),
        sa.column("stage", sa.Text()),
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("actor_name", sa.Text()),
        sa.column("actor_role", sa.Text()),
        sa.column("summary", sa.Text()),
        sa.column("payload", postgresql.JSONB()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(events).order_by(events.c.case_id, events.c.id)).mappings()
    update = sa.text(
        "UPDATE case_events SET chain_index = :chain_index, prev_hash = :prev_hash, "
        "hash = :hash, person_ids = :person_ids WHERE id = :id"
    ).bindparams(sa.bindparam("person_ids", type_=postgresql.ARRAY(sa.Text())))
    batch: list[dict[str, object]] = []
    case_id, index, prev = None, 0, GENESIS
    for row in rows:
        if row["case_id"] != case_id:
            case_id, index, prev = row["case_id"], 0, GENESIS
        index += 1
        fields = ChainFields(
            case_id=row["case_id"],
            seq=row["seq"],
            chain_index=index,
            kind=row["kind"],
            stage=row["stage"],
            occurred_at=row["occurred_at"],
            actor_name=row["actor_name"],
            actor_role=row["actor_role"],
            summary=row["summary"],
            payload=row["payload"],
        )
        digest = event_hash(prev, fields)
        batch.append(
            {
                "id": row["id"],
                "chain_index": index,
                "prev_hash": prev,
                "hash": digest,
                "person_ids": person_ids(row["payload"]),
            }
        )
        prev = digest
        if len(batch) >= BACKFILL_BATCH:
            bind.execute(update, batch)
            batch = []
    if batch:
        bind.execute(update, batch)


def upgrade() -> None:
    # 1. The chain. Nullable until the existing events are chained.
    op.add_column("case_events", sa.Column("chain_index", sa.Integer(), nullable=True))
    op.add_column("case_events", sa.Column("prev_hash", sa.Text(), nullable=True))
    op.add_column("case_events", sa.Column("hash", sa.Text(), nullable=True))
    op.add_column(
        "case_events",
        sa.Column(
            "person_ids",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    _chain_existing_events()
    for column in ("chain_index", "prev_hash", "hash"):
        op.alter_column("case_events", column, nullable=False)
    op.create_index(
        "ix_case_events_case_id_chain_index",
        "case_events",
        ["case_id", "chain_index"],
        unique=True,
    )
    op.create_check_constraint(
        op.f("ck_case_events_chain_index_positive"), "case_events", "chain_index >= 1"
    )
    op.create_check_constraint(
        op.f("ck_case_events_hash_is_sha256_hex"), "case_events", "hash ~ '^[0-9a-f]{64}$'"
    )
    op.create_check_constraint(
        op.f("ck_case_events_prev_hash_is_sha256_hex"),
        "case_events",
        "prev_hash ~ '^[0-9a-f]{64}$'",
    )

    # Auditors' searches; each ends in (occurred_at, id), the order of keyset pagination.
    op.create_index(
        "ix_case_events_person_ids", "case_events", ["person_ids"], postgresql_using="gin"
    )
    op.create_index("ix_case_events_occurred_at_id", "case_events", ["occurred_at", "id"])
    op.create_index(
        "ix_case_events_actor_name_occurred_at_id",
        "case_events",
        ["actor_name", "occurred_at", "id"],
    )
    op.create_index(
        "ix_case_events_stage_occurred_at_id", "case_events", ["stage", "occurred_at", "id"]
    )
    op.create_index(
        "ix_case_events_kind_occurred_at_id", "case_events", ["kind", "occurred_at", "id"]
    )

    # 2. Signed checkpoints over the heads of every chain.
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merkle_root", sa.Text(), nullable=False),
        sa.Column("case_heads", postgresql.JSONB(), nullable=False),
        sa.Column("event_count", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_checkpoints"),
    )

    # 3. Append-only, whoever asks. Row triggers for UPDATE and DELETE, a statement trigger
    # for TRUNCATE (which fires no row triggers).
    op.execute(
        """
        CREATE FUNCTION audit_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% on % refused: the audit trail is append-only', TG_OP, TG_TABLE_NAME
                USING HINT = 'A correction is recorded as a new event; history is never changed.',
                      ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )

    # 4. The application's role. Several databases on one server (tests, staging) may create
    # it at the same moment: the loser of that race finds it there, which is fine.
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                BEGIN
                    CREATE ROLE {APP_ROLE} NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;
                END;
            END IF;
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO {APP_ROLE}', current_schema());
            EXECUTE format('GRANT USAGE ON SEQUENCE %s, %s, %s TO {APP_ROLE}',
                pg_get_serial_sequence('case_events', 'id'),
                pg_get_serial_sequence('inbox', 'id'),
                pg_get_serial_sequence('audit_checkpoints', 'id'));
        END
        $$
        """
    )
    op.execute(f"GRANT SELECT, INSERT ON case_events, audit_checkpoints TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON cases, inbox TO {APP_ROLE}")


def downgrade() -> None:
    # The role stays: it belongs to the server, and other databases on it may use it.
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                EXECUTE 'REVOKE ALL ON cases, inbox, case_events FROM {APP_ROLE}';
                EXECUTE format('REVOKE ALL ON SEQUENCE %s, %s FROM {APP_ROLE}',
                    pg_get_serial_sequence('case_events', 'id'),
                    pg_get_serial_sequence('inbox', 'id'));
                EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {APP_ROLE}', current_schema());
            END IF;
        END
        $$
        """
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION audit_refuse_change()")
    op.drop_table("audit_checkpoints")
    for name in (
        "ix_case_events_kind_occurred_at_id",
        "ix_case_events_stage_occurred_at_id",
        "ix_case_events_actor_name_occurred_at_id",
        "ix_case_events_occurred_at_id",
        "ix_case_events_person_ids",
    ):
        op.drop_index(name, table_name="case_events")
    for name in (
        op.f("ck_case_events_prev_hash_is_sha256_hex"),
        op.f("ck_case_events_hash_is_sha256_hex"),
        op.f("ck_case_events_chain_index_positive"),
    ):
        op.drop_constraint(name, "case_events", type_="check")
    op.drop_index("ix_case_events_case_id_chain_index", table_name="case_events")
    for column in ("person_ids", "hash", "prev_hash", "chain_index"):
        op.drop_column("case_events", column)
