"""The rehearsal tests' Alembic environment: the URL from SAMOKODER_DATABASE_URL, as the app's
alembic/env.py reads it (AlexeyPevz/Samokoder a349989, alembic/env.py:59,82), synchronously."""

import os

from alembic import context
from sqlalchemy import create_engine

engine = create_engine(os.environ["SAMOKODER_DATABASE_URL"])
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
