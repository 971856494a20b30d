"""sessions: server-side staff sign-ins, per-address sign-in backoff, no account lockout

Revision ID: 0018_sessions
Revises: 0017_privacy
Create Date: 2026-11-28 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import kernel.timeutil
from alembic import op

revision: str = "0018_sessions"
down_revision: str | None = "0017_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_staff_session_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
    )
    op.create_index(op.f("ix_staff_session_user_id"), "staff_session", ["user_id"], unique=False)
    op.create_table(
        "rate_limit_backoff",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_until", kernel.timeutil.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_backoff")),
    )
    # accounts are no longer locked by wrong passwords (anyone could lock anyone out)
    op.drop_column("user", "locked_until")
    op.drop_column("user", "failed_logins")


def downgrade() -> None:
    op.add_column("user", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("user", sa.Column("locked_until", kernel.timeutil.UTCDateTime(timezone=True), nullable=True))
    op.drop_table("rate_limit_backoff")
    op.drop_index(op.f("ix_staff_session_user_id"), table_name="staff_session")
    op.drop_table("staff_session")
