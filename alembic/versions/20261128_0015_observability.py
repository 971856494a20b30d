"""observability: component heartbeats and Celery task figures

Revision ID: 0015_observability
Revises: 0014
Create Date: 2026-11-28 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import kernel.timeutil
from alembic import op

revision: str = "0015_observability"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_heartbeat",
        sa.Column("component", sa.String(length=32), nullable=False),
        sa.Column("beat_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("component", name=op.f("pk_service_heartbeat")),
    )
    op.create_table(
        "task_stat",
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("le", sa.String(length=16), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("seconds_sum", sa.Float(), nullable=False),
        sa.Column("updated_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("task", "outcome", "le", name=op.f("pk_task_stat")),
    )


def downgrade() -> None:
    op.drop_table("task_stat")
    op.drop_table("service_heartbeat")
