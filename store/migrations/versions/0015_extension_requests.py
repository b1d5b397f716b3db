"""Extension requests (延期申请).

(Filled by the change that needs it.)

Revision ID: 0015_extension_requests
Revises: 0014_assignment
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0015_extension_requests"
down_revision: str | Sequence[str] | None = "0014_assignment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
