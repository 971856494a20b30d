"""place: the operator's ward boundaries (GeoJSON) with the licence and attribution of their source

Revision ID: 0023_place
Revises: 0022_incidents
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.timeutil

revision: str = "0023_place"
down_revision: str | None = "0022_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ward_boundary",
        sa.Column("ward_code", sa.String(length=48), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("licence", sa.Text(), nullable=False),
        sa.Column("attribution", sa.Text(), nullable=False),
        sa.Column("imported_at", kernel.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ward_code"], ["ward.code"], name=op.f("fk_ward_boundary_ward_code_ward")),
        sa.PrimaryKeyConstraint("ward_code", name=op.f("pk_ward_boundary")),
    )


def downgrade() -> None:
    op.drop_table("ward_boundary")
