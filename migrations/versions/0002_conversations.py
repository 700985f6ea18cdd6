"""Conversations: conversations, turns, ratings, tickets, handoffs.

Revision ID: 0002_conversations
Revises: 0001_knowledge_base
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_conversations"
down_revision: str | None = "0001_knowledge_base"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def _conversation_fk() -> sa.Column:
    return sa.Column(
        "conversation_id", sa.Integer(), sa.ForeignKey("conversations.id"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "conversations",
        _id(),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("entry_point", sa.String(128), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_conversations_user", "conversations", ["channel", "user_id", "closed_at"])
    op.create_table(
        "turns",
        _id(),
        _conversation_fk(),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("reply_to", sa.Integer(), nullable=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_turns_conversation_id", "turns", ["conversation_id"])
    op.create_index("ix_turns_external", "turns", ["conversation_id", "external_id"])
    op.create_index("ix_turns_reply_to", "turns", ["reply_to"])
    op.create_table(
        "ratings",
        _id(),
        _conversation_fk(),
        sa.Column("turn_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.String(128), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_ratings_conversation_id", "ratings", ["conversation_id"])
    op.create_index("ix_ratings_entry_id", "ratings", ["entry_id"])
    op.create_table(
        "tickets",
        _id(),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        _conversation_fk(),
        sa.Column("matter", sa.Text(), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("phone_consent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_tickets_conversation_id", "tickets", ["conversation_id"])
    op.create_table(
        "handoffs",
        _id(),
        _conversation_fk(),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("staff", sa.String(64), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])


def downgrade() -> None:
    for table in ("handoffs", "tickets", "ratings", "turns", "conversations"):
        op.drop_table(table)
