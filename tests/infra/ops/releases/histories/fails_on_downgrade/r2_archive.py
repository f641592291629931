"""A release whose upgrade is harmless but whose downgrade names a column that never existed."""

import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"


def upgrade() -> None:
    op.add_column("projects", sa.Column("archived_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    op.drop_column("projects", "archived")
