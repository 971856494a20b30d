"""hardening: when an outbound message was claimed, so the sweep can reclaim one whose worker died

Revision ID: 0019_hardening
Revises: 0018_sessions
Create Date: 2026-11-28 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.timeutil

revision: str = "0019_hardening"
down_revision: str | None = "0018_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "outbound_message",
        sa.Column("claimed_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("outbound_message", "claimed_at")
