"""Attachments of a case's steps (附件): files stored by their sha256, and each case's list.

``attachments`` holds each distinct file once, keyed by the sha256 of its bytes: the same
bytes uploaded twice, to one case or to two, are one row. ``case_attachments`` lists the
files a case was given, numbered per case (1, 2, ...), with the name the file was uploaded
under, who uploaded it and when. A step's input names its files by sha256, and the step's
event in the hash-chained log carries those names, which is what proves which file a step
relied on; these tables only keep the bytes the names stand for.

Both are append-only, like the audit trail (the triggers of 0002_audit refuse UPDATE, DELETE
and TRUNCATE): the service may add to them and read them, never change or remove a row.

Revision ID: 0013_attachments
Revises: 0012_account_admin
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit
TABLES = ("attachments", "case_attachments")

revision: str = "0013_attachments"
down_revision: str | Sequence[str] | None = "0012_account_admin"
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
    op.create_table(
        "attachments",
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_attachments_sha256_hex")),
        sa.PrimaryKeyConstraint("sha256", name="pk_attachments"),
    )
    op.create_table(
        "case_attachments",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_role", sa.Text(), nullable=False),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name="fk_case_attachments_case_id_cases"
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["attachments.sha256"], name="fk_case_attachments_sha256_attachments"
        ),
        sa.PrimaryKeyConstraint("case_id", "number", name="pk_case_attachments"),
        sa.UniqueConstraint("case_id", "sha256", name="uq_case_attachments_case_id_sha256"),
    )
    # The same refusal as the audit trail's (0002_audit's function).
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )
    _if_the_role_exists(f"'GRANT SELECT, INSERT ON {', '.join(TABLES)} TO {APP_ROLE}'")


def downgrade() -> None:
    _if_the_role_exists(f"'REVOKE ALL ON {', '.join(TABLES)} FROM {APP_ROLE}'")
    for table in reversed(TABLES):
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.drop_table(table)
