"""Web chat: a satisfaction rating remembers the entries its conversation used.

Revision ID: 0004_webchat
Revises: 0003_wechat
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_webchat"
down_revision: str | None = "0003_wechat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ratings") as batch:
        batch.add_column(sa.Column("entry_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("entry_ids")
