"""Extension requests (延期申请).

``extension_requests``: a person who acts on a case's awaited step asks for so many more
working days, with a reason; an approver the policy names grants or refuses it. The row
keeps the step it was filed for (its key and the day it began) and the deadline it had then;
an approval adds the deadline it moved to.

A request is never deleted, and its decision is written once: approved, refused (with a
reason), withdrawn by the person who filed it, or lapsed because the step moved on, each
with who decided and when. The database holds to that itself: a trigger refuses DELETE and
TRUNCATE, any change of a decided row, and any change of what was asked; at most one request
per case waits for a decision.

Revision ID: 0015_extension_requests
Revises: 0014_assignment
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit
TABLE = "extension_requests"
DECISIONS = ("approved", "refused", "withdrawn", "lapsed")
# what was asked, which no decision may change
ASKED = (
    "id",
    "case_id",
    "step",
    "step_started_on",
    "deadline_before",
    "working_days",
    "reason",
    "requested_by",
    "requested_role",
    "requested_at",
)

revision: str = "0015_extension_requests"
down_revision: str | Sequence[str] | None = "0014_assignment"
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
    decisions = ", ".join(f"'{d}'" for d in DECISIONS)
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("step_started_on", sa.Date(), nullable=False),
        sa.Column("deadline_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("requested_role", sa.Text(), nullable=False),
        sa.Column(
            "requested_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_role", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("deadline_after", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("working_days >= 1", name=op.f("ck_extension_requests_working_days")),
        sa.CheckConstraint(
            f"decision IS NULL OR decision IN ({decisions})",
            name=op.f("ck_extension_requests_decision_kind"),
        ),
        sa.CheckConstraint(
            "(decision IS NULL) = (decided_at IS NULL) AND (decision IS NULL) = "
            "(decided_by IS NULL)",
            name=op.f("ck_extension_requests_decided_with_who_and_when"),
        ),
        sa.CheckConstraint(
            "decision IS DISTINCT FROM 'refused' OR decision_reason <> ''",
            name=op.f("ck_extension_requests_refusal_has_reason"),
        ),
        sa.CheckConstraint(
            "deadline_after IS NULL OR decision = 'approved'",
            name=op.f("ck_extension_requests_only_approval_moves_deadline"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name="fk_extension_requests_case_id_cases"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_extension_requests"),
    )
    op.create_index("ix_extension_requests_case_id", TABLE, ["case_id"])
    # one request per case waits for a decision at a time
    op.create_index(
        "ix_extension_requests_one_pending",
        TABLE,
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("decision IS NULL"),
    )
    asked_changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in ASKED)
    op.execute(
        f"""
        CREATE FUNCTION extension_request_decided_once() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'UPDATE' THEN
                RAISE EXCEPTION 'extension requests are never deleted (%)', TG_OP;
            END IF;
            IF OLD.decision IS NOT NULL THEN
                RAISE EXCEPTION 'extension request % was decided already', OLD.id;
            END IF;
            IF {asked_changed} THEN
                RAISE EXCEPTION 'what extension request % asked for cannot change', OLD.id;
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_decided_once BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION extension_request_decided_once()"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION extension_request_decided_once()"
    )
    _if_the_role_exists(
        f"'GRANT SELECT, INSERT, UPDATE ON {TABLE} TO {APP_ROLE}'",
        f"format('GRANT USAGE ON SEQUENCE %s TO {APP_ROLE}', "
        f"pg_get_serial_sequence('{TABLE}', 'id'))",
    )


def downgrade() -> None:
    _if_the_role_exists(f"'REVOKE ALL ON {TABLE} FROM {APP_ROLE}'")
    op.execute(f"DROP TRIGGER {TABLE}_no_truncate ON {TABLE}")
    op.execute(f"DROP TRIGGER {TABLE}_decided_once ON {TABLE}")
    op.drop_table(TABLE)
    op.execute("DROP FUNCTION extension_request_decided_once()")
