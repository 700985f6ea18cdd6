"""WeChat channel: inbox (deduplication), outbox, followers.

Revision ID: 0003_wechat
Revises: 0002_conversations
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_wechat"
down_revision: str | None = "0002_conversations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wechat_inbox",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("delivery", sa.String(16), nullable=True),
        sa.Column("messages", sa.JSON(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("inbound", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_wechat_inbox_created", "wechat_inbox", ["created_at"])
    op.create_table(
        "wechat_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_wechat_outbox_openid", "wechat_outbox", ["openid"])
    op.create_index("ix_wechat_outbox_conversation_id", "wechat_outbox", ["conversation_id"])
    op.create_index("ix_wechat_outbox_due", "wechat_outbox", ["status", "next_attempt_at"])
    op.create_table(
        "wechat_followers",
        sa.Column("openid", sa.String(64), primary_key=True),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("entry_point", sa.String(128), nullable=True),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("last_inbound_at", TIMESTAMP, nullable=True),
        sa.Column("sent_since_inbound", sa.Integer(), nullable=False),
        sa.Column("pickup_key", sa.String(160), nullable=True),
        sa.Column("subscribed_at", TIMESTAMP, nullable=True),
        sa.Column("unsubscribed_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    for table in ("wechat_followers", "wechat_outbox", "wechat_inbox"):
        op.drop_table(table)
