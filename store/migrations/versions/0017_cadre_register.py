"""The cadre register (干部名册).

``register_versions`` keeps every version of every person's record, whole; a change is a new
version with who made it, when and why, and an event in the register's hash chain (whose seq
the row keeps). The rotation scans' findings (``rotation_scans``, ``rotation_listings``) and
the department's decisions on them (``rotation_decisions``) are kept alongside. All four are
append-only, like the audit trail (the triggers of 0002_audit refuse UPDATE, DELETE and
TRUNCATE): the service may add to them and read them, never change or remove a row.

Revision ID: 0017_cadre_register
Revises: 0016_report_summary
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017_cadre_register"
down_revision: str | Sequence[str] | None = "0016_report_summary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit
TABLES = ("register_versions", "rotation_scans", "rotation_listings", "rotation_decisions")
WITH_IDENTITY = ("register_versions", "rotation_listings", "rotation_decisions")


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
    op.create_table(
        "register_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("record", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("sections", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_role", sa.Text(), nullable=False),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_register_versions"),
        sa.UniqueConstraint("person_id", "version", name="uq_register_versions_person_id_version"),
    )
    op.create_index("ix_register_versions_name", "register_versions", ["name"])
    op.create_table(
        "rotation_scans",
        sa.Column("scan_id", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("threshold_years", sa.Integer(), nullable=False),
        sa.Column("scanned", sa.Integer(), nullable=False),
        sa.Column("due", sa.Integer(), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("scan_id", name="pk_rotation_scans"),
    )
    op.create_index("ix_rotation_scans_as_of", "rotation_scans", ["as_of"])
    op.create_table(
        "rotation_listings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("scan_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("register_version", sa.Integer(), nullable=False),
        sa.Column("township", sa.Text(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rotation_listings"),
        sa.UniqueConstraint("scan_id", "person_id", name="uq_rotation_listings_scan_id_person_id"),
    )
    op.create_table(
        "rotation_decisions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("scan_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("decided_role", sa.Text(), nullable=False),
        sa.Column(
            "decided_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rotation_decisions"),
    )
    op.create_index(
        "ix_rotation_decisions_scan_id_person_id",
        "rotation_decisions",
        ["scan_id", "person_id"],
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )
    _if_the_role_exists(
        f"'GRANT SELECT, INSERT ON {', '.join(TABLES)} TO {APP_ROLE}'",
        *(
            f"format('GRANT USAGE ON SEQUENCE %s TO {APP_ROLE}', "
            f"pg_get_serial_sequence('{table}', 'id'))"
            for table in WITH_IDENTITY
        ),
    )


def downgrade() -> None:
    _if_the_role_exists(f"'REVOKE ALL ON {', '.join(TABLES)} FROM {APP_ROLE}'")
    for table in reversed(TABLES):
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.drop_table(table)
