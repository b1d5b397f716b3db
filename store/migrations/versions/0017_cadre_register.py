"""The cadre register (干部名册).

(Filled by the change that needs it.)

Revision ID: 0017_cadre_register
Revises: 0016_report_summary
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0017_cadre_register"
down_revision: str | Sequence[str] | None = "0016_report_summary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
