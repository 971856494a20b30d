"""open311: what a client sent that the ticket has no place for (its address_id and media_url)

Revision ID: 0020_open311
Revises: 0019_hardening
Create Date: 2026-11-28 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_open311"
down_revision: str | None = "0019_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open311_request",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), primary_key=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("open311_client.id"), nullable=False),
        sa.Column("address_id", sa.String(200), nullable=True),
        sa.Column("media_url", sa.String(2000), nullable=True),
    )
    op.create_index("ix_open311_request_client_id", "open311_request", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_open311_request_client_id", table_name="open311_request")
    op.drop_table("open311_request")
