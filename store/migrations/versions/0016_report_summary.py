"""The reports' summary (报表汇总).

(Filled by the change that needs it.)

Revision ID: 0016_report_summary
Revises: 0015_extension_requests
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0016_report_summary"
down_revision: str | Sequence[str] | None = "0015_extension_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
