"""The calendar years administrators enter in the console, and the differences kept when the
package later brings a year an administrator had entered.

Revision ID: 0011_calendar_years
Revises: 0010_informant_disclosures
Create Date: 2026-12-06

Append-only: a save is a new version of its year; the service may add rows and read them,
never change or remove one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

APP_ROLE = "appointments_app"  # the service's group role, created by 0002_audit

revision: str = "0011_calendar_years"
down_revision: str | Sequence[str] | None = "0010_informant_disclosures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("calendar_years", "calendar_year_diffs")


def _dates(name: str) -> sa.Column[list[object]]:
    return sa.Column(name, postgresql.ARRAY(sa.Date()), nullable=False)


def upgrade() -> None:
    op.create_table(
        "calendar_years",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _dates("holidays"),
        _dates("workdays"),
        sa.Column("holidays_text", sa.Text(), nullable=False),
        sa.Column("workdays_text", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column("entered_role", sa.Text(), nullable=False),
        sa.Column(
            "entered_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_years"),
        sa.UniqueConstraint("year", "version", name="uq_calendar_years_year_version"),
    )
    op.create_table(
        "calendar_year_diffs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("package_version", sa.Text(), nullable=False),
        _dates("holidays_only_entry"),
        _dates("holidays_only_package"),
        _dates("workdays_only_entry"),
        _dates("workdays_only_package"),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_year_diffs"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["calendar_years.id"],
            name="fk_calendar_year_diffs_entry_id_calendar_years",
        ),
        sa.UniqueConstraint(
            "entry_id",
            "package_version",
            name="uq_calendar_year_diffs_entry_id_package_version",
        ),
    )
    for table in TABLES:
        op.execute(
            f"""
            DO $$
            BEGIN
                IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    EXECUTE 'GRANT SELECT, INSERT ON {table} TO {APP_ROLE}';
                    EXECUTE format('GRANT USAGE ON SEQUENCE %s TO {APP_ROLE}',
                                   pg_get_serial_sequence('{table}', 'id'));
                END IF;
            END
            $$
            """
        )


def downgrade() -> None:
    op.drop_table("calendar_year_diffs")
    op.drop_table("calendar_years")
