"""The migration rehearsal's steps, run by the release's own image against a copy of the database.

Standard library only: it runs as ``python -c`` in the api image (as the backup wait does), and
under the tests' Python against a local copy. It reads the copy's revisions, then runs the
release's Alembic: ``upgrade heads``, ``downgrade`` back to each revision the copy had, and
``upgrade heads`` again. Each step prints one JSON line (name, start and end in epoch seconds,
exit code, the end of its output) for the judge (infra/ops/releases/rehearsal.py); the first
failed step ends the run with its exit code.

The copy keeps the source's roles and passwords (a physical restore), so the app's own
credentials reach it; only the host differs. Environment: DATABASE_USER, DATABASE_PASSWORD,
DATABASE_NAME (the app Secret's keys), REHEARSAL_HOST and REHEARSAL_PORT (the copy), ALEMBIC and
ALEMBIC_CONFIG (the app's, infra/app_contract.py).
"""

import json
import os
import subprocess
import sys
import time
from urllib.parse import quote

OUTPUT_TAIL = 2000


def database_url(env: dict[str, str]) -> str:
    user, password = quote(env["DATABASE_USER"], safe=""), quote(env["DATABASE_PASSWORD"], safe="")
    scheme = "postgresql+asyncpg"  # the app's engine (alembic/env.py:76-88 at the pinned commit)
    host, port, name = env["REHEARSAL_HOST"], env.get("REHEARSAL_PORT", "5432"), env["DATABASE_NAME"]
    if host.startswith("/"):  # a Unix socket directory (the tests' local copy)
        return f"{scheme}://{user}:{password}@/{name}?host={quote(host, safe='/')}&port={port}"
    return f"{scheme}://{user}:{password}@{host}:{port}/{name}"


def alembic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [env.get("ALEMBIC", "alembic"), "-c", env.get("ALEMBIC_CONFIG", "alembic.ini"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def step(env: dict[str, str], name: str, *args: str) -> int:
    start = time.time()
    run = alembic(env, *args)
    line = {
        "rehearsal": name,
        "args": list(args),
        "start": start,
        "end": time.time(),
        "rc": run.returncode,
        "output": (run.stdout + run.stderr)[-OUTPUT_TAIL:],
    }
    print(json.dumps(line), flush=True)
    return run.returncode


def main() -> int:
    env = {**os.environ, "SAMOKODER_DATABASE_URL": database_url(dict(os.environ))}
    current = alembic(env, "current")
    if current.returncode != 0:
        print(json.dumps({"rehearsal": "current", "rc": current.returncode, "output": current.stderr}))
        return current.returncode
    # `alembic current` prints "<revision> (head)" per branch; an empty schema prints nothing.
    running = [line.split()[0] for line in current.stdout.splitlines() if line.strip()] or ["base"]
    print(json.dumps({"rehearsal": "running", "revisions": running}), flush=True)
    steps = [("upgrade", ("upgrade", "heads"))]
    steps += [("downgrade", ("downgrade", revision)) for revision in running]
    steps += [("upgrade-again", ("upgrade", "heads"))]
    for name, args in steps:
        code = step(env, name, *args)
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
