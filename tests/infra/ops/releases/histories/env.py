"""The rehearsal tests' Alembic environment, as the app's runs online: the URL from
SAMOKODER_DATABASE_URL through SQLAlchemy's async engine and asyncpg (AlexeyPevz/Samokoder a349989,
alembic/env.py:76-88), whose extended protocol the server logs as "execute <name>: <SQL>"."""

import asyncio
import os
from typing import Any

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine


def migrate(connection: Any) -> None:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def main() -> None:
    engine = create_async_engine(os.environ["SAMOKODER_DATABASE_URL"])
    async with engine.connect() as connection:
        await connection.run_sync(migrate)
    await engine.dispose()


asyncio.run(main())
