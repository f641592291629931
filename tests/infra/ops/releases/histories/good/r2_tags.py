"""A release that adds a nullable column: the running release never sees it."""

import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"


def upgrade() -> None:
    op.add_column("projects", sa.Column("tags", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("projects", "tags")
