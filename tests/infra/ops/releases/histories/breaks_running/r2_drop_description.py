"""A release that drops a column the running release still reads and renames one it writes."""

import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"


def upgrade() -> None:
    op.drop_column("projects", "description")
    op.alter_column("projects", "name", new_column_name="title")


def downgrade() -> None:
    op.alter_column("projects", "title", new_column_name="name")
    op.add_column("projects", sa.Column("description", sa.Text))
