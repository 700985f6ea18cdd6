"""Knowledge base: entries and their revisions.

Revision ID: 0001_knowledge_base
Revises:
Create Date: 2025-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_knowledge_base"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The types as they were at this revision: later model changes need a new revision.
ID = sa.String(128)
JSON = sa.JSON(none_as_null=True)
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "entries",
        sa.Column("id", ID, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("questions", JSON, nullable=False),
        sa.Column("keywords", JSON, nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("department", sa.String(200), nullable=True),
        sa.Column("region", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("details", JSON, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_entries_kind", "entries", ["kind"])
    op.create_index("ix_entries_status", "entries", ["status"])
    op.create_table(
        "entry_revisions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("entry_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("snapshot", JSON, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_entry_revisions_entry_id_version",
        "entry_revisions",
        ["entry_id", "version"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_entry_revisions_entry_id_version", table_name="entry_revisions")
    op.drop_table("entry_revisions")
    op.drop_index("ix_entries_status", table_name="entries")
    op.drop_index("ix_entries_kind", table_name="entries")
    op.drop_table("entries")
