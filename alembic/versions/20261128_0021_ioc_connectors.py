"""ioc connectors a city can plug in: credentials (sealed), a JSONPath mapping, alert rules per ward

Revision ID: 0021_ioc_connectors
Revises: 0020_open311
Create Date: 2026-11-28 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_ioc_connectors"
down_revision: str | None = "0020_open311"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ioc_connector", sa.Column("auth_kind", sa.String(16), nullable=False, server_default="none"))
    op.add_column("ioc_connector", sa.Column("auth_name", sa.String(120), nullable=True))
    op.add_column("ioc_connector", sa.Column("auth_secret_sealed", sa.Text(), nullable=True))
    op.add_column("ioc_connector", sa.Column("mapping", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("ioc_alert_rule", sa.Column("dimension", sa.String(64), nullable=True))
    op.alter_column("ioc_connector", "auth_kind", server_default=None)
    op.alter_column("ioc_connector", "mapping", server_default=None)


def downgrade() -> None:
    op.drop_column("ioc_alert_rule", "dimension")
    for column in ("mapping", "auth_secret_sealed", "auth_name", "auth_kind"):
        op.drop_column("ioc_connector", column)
