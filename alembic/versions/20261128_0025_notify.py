"""notify: the outbox carries every route (event key, quiet-hours schedule, fallbacks, cost), citizens
their language and their choice to stop updates, administrators the fallback order

Revision ID: 0025_notify
Revises: 0024_identity
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.timeutil

revision: str = "0025_notify"
down_revision: str | None = "0024_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbound_message", sa.Column("event_key", sa.String(length=80), nullable=True))
    op.add_column(
        "outbound_message",
        sa.Column("not_before", kernel.timeutil.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "outbound_message", sa.Column("fallbacks", sa.String(length=100), nullable=False, server_default="")
    )
    op.add_column(
        "outbound_message", sa.Column("payload", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
    )
    op.add_column("outbound_message", sa.Column("cost", sa.Integer(), nullable=False, server_default="0"))
    op.create_unique_constraint("uq_outbound_message_event_key", "outbound_message", ["event_key"])
    op.add_column("citizen", sa.Column("language", sa.String(length=8), nullable=True))
    op.add_column(
        "citizen",
        sa.Column("updates_stopped_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "notification_setting",
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("notification_setting")
    op.drop_column("citizen", "updates_stopped_at")
    op.drop_column("citizen", "language")
    op.drop_constraint("uq_outbound_message_event_key", "outbound_message", type_="unique")
    for column in ("cost", "payload", "fallbacks", "not_before", "event_key"):
        op.drop_column("outbound_message", column)
