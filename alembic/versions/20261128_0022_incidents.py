"""incidents: reports of one event grouped, told once, resolved together

Revision ID: 0022_incidents
Revises: 0021_ioc_connectors
Create Date: 2026-11-28 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.timeutil

revision: str = "0022_incidents"
down_revision: str | None = "0021_ioc_connectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("category_code", sa.String(48), sa.ForeignKey("category.code"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Integer(), nullable=False),
        sa.Column("public_notice", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("opened_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_by_user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
    )
    op.create_index("ix_incident_open", "incident", ["status", "category_code"])
    op.create_table(
        "incident_member",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("joined_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_incident_member_incident_id", "incident_member", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_incident_member_incident_id", table_name="incident_member")
    op.drop_table("incident_member")
    op.drop_index("ix_incident_open", table_name="incident")
    op.drop_table("incident")
