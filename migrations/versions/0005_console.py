"""Staff console: handoff lifecycle, ticket answers, staff users and sessions, notes,
canned replies and the audit log. Waiting handoffs move from "queued" to "pending".

Revision ID: 0005_console
Revises: 0004_webchat
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_console"
down_revision: str | None = "0004_webchat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def _upgrade_handoffs() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("staff_name", sa.String(64), nullable=True))
        batch.add_column(sa.Column("assigned_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("closed_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("end_reason", sa.String(32), nullable=True))
        batch.create_index("ix_handoffs_status", ["status"])
    op.execute("UPDATE handoffs SET status = 'pending' WHERE status = 'queued'")
    op.execute("UPDATE handoffs SET status = 'resolved' WHERE status = 'closed'")


def _upgrade_tickets() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("answer", sa.Text(), nullable=True))
        batch.add_column(sa.Column("answered_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("answered_at", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("delivery", sa.String(16), nullable=True))
        batch.add_column(sa.Column("delivery_note", sa.Text(), nullable=True))


def _create_staff_tables() -> None:
    op.create_table(
        "staff_users",
        _id(),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "staff_sessions",
        _id(),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])


def _create_console_tables() -> None:
    op.create_table(
        "staff_notes",
        _id(),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversations.id"),
                  nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_staff_notes_conversation_id", "staff_notes", ["conversation_id"])
    op.create_table(
        "canned_replies",
        _id(),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_audit_log_conversation_id", "audit_log", ["conversation_id"])


def upgrade() -> None:
    _upgrade_handoffs()
    _upgrade_tickets()
    _create_staff_tables()
    _create_console_tables()


def downgrade() -> None:
    for table in ("audit_log", "canned_replies", "staff_notes", "staff_sessions", "staff_users"):
        op.drop_table(table)
    with op.batch_alter_table("tickets") as batch:
        for column in ("delivery_note", "delivery", "answered_at", "answered_by", "answer"):
            batch.drop_column(column)
    op.execute("UPDATE handoffs SET status = 'queued' WHERE status = 'pending'")
    op.execute("UPDATE handoffs SET status = 'closed' WHERE status IN ('assigned', 'resolved')")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_index("ix_handoffs_status")
        for column in ("end_reason", "closed_by", "assigned_at", "staff_name"):
            batch.drop_column(column)
