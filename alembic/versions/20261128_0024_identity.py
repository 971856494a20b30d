"""identity: verified identifiers, merges that can be undone, confirmation links, Messenger threads
opened by a private reply

Revision ID: 0024_identity
Revises: 0023_place
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.timeutil

revision: str = "0024_identity"
down_revision: str | None = "0023_place"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = kernel.timeutil.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("citizen", sa.Column("merged_into_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_citizen_merged_into_id_citizen"), "citizen", "citizen", ["merged_into_id"], ["id"]
    )
    op.add_column("channel_identity", sa.Column("verified_by", sa.String(length=24), nullable=True))
    op.add_column("channel_identity", sa.Column("verified_at", UTC, nullable=True))
    # a channel's own user id is vouched for by the provider; phones and e-mails stored so far were typed
    op.execute(
        "UPDATE channel_identity SET verified_by = 'provider', verified_at = created_at"
        " WHERE kind IN ('zalo', 'facebook')"
    )
    op.drop_constraint("uq_channel_identity_kind_value", "channel_identity", type_="unique")
    op.create_unique_constraint(
        op.f("uq_channel_identity_citizen_id_kind_value"), "channel_identity", ["citizen_id", "kind", "value"]
    )
    op.create_index(
        "uq_channel_identity_verified",
        "channel_identity",
        ["kind", "value"],
        unique=True,
        postgresql_where=sa.text("verified_by IS NOT NULL"),
    )
    op.create_index("ix_channel_identity_kind_value", "channel_identity", ["kind", "value"])
    _create_merge_table()
    op.create_table(
        "identity_confirmation",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["channel_identity.id"],
            name=op.f("fk_identity_confirmation_identity_id_channel_identity"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_identity_confirmation_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_identity_confirmation")),
    )
    op.create_index(
        op.f("ix_identity_confirmation_identity_id"), "identity_confirmation", ["identity_id"], unique=False
    )
    op.create_table(
        "messenger_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("psid", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_messenger_thread_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messenger_thread")),
        sa.UniqueConstraint("psid", "ticket_id", name=op.f("uq_messenger_thread_psid_ticket_id")),
    )
    op.create_index(op.f("ix_messenger_thread_psid"), "messenger_thread", ["psid"], unique=False)
    op.create_index(op.f("ix_messenger_thread_ticket_id"), "messenger_thread", ["ticket_id"], unique=False)


def _create_merge_table() -> None:
    op.create_table(
        "citizen_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("ticket_ids", sa.JSON(), nullable=False),
        sa.Column("message_ids", sa.JSON(), nullable=False),
        sa.Column("identity_ids", sa.JSON(), nullable=False),
        sa.Column("other_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("undone_at", UTC, nullable=True),
        sa.Column("undone_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["citizen.id"], name=op.f("fk_citizen_merge_source_id_citizen")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["citizen.id"], name=op.f("fk_citizen_merge_target_id_citizen")
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user.id"], name=op.f("fk_citizen_merge_actor_user_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_user_id"], ["user.id"], name=op.f("fk_citizen_merge_undone_by_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_merge")),
    )
    op.create_index(op.f("ix_citizen_merge_source_id"), "citizen_merge", ["source_id"], unique=False)
    op.create_index(op.f("ix_citizen_merge_target_id"), "citizen_merge", ["target_id"], unique=False)


def downgrade() -> None:
    op.drop_table("messenger_thread")
    op.drop_table("identity_confirmation")
    op.drop_table("citizen_merge")
    op.drop_index("ix_channel_identity_kind_value", table_name="channel_identity")
    op.drop_index("uq_channel_identity_verified", table_name="channel_identity")
    op.drop_constraint(op.f("uq_channel_identity_citizen_id_kind_value"), "channel_identity", type_="unique")
    # an unverified value held by several people keeps only its oldest holder's row
    op.execute(
        "DELETE FROM channel_identity a USING channel_identity b"
        " WHERE a.kind = b.kind AND a.value = b.value AND a.id > b.id"
    )
    op.create_unique_constraint("uq_channel_identity_kind_value", "channel_identity", ["kind", "value"])
    op.drop_column("channel_identity", "verified_at")
    op.drop_column("channel_identity", "verified_by")
    op.drop_constraint(op.f("fk_citizen_merged_into_id_citizen"), "citizen", type_="foreignkey")
    op.drop_column("citizen", "merged_into_id")
