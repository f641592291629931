"""A backup and restore drill with the real tools: PostgreSQL 15, barman-cloud and an S3 API (moto).

The settings come from what the ``Database`` component renders: the
``ObjectStore`` (destination path, compression, parallelism, retention) and
the ``Cluster`` (server name, ``archive_timeout``). They are turned into
barman-cloud command lines the way the Barman Cloud plugin does. The one
substitution is the endpoint: moto on loopback instead of Object Storage.

PostgreSQL refuses to run as root, so when the tests run as root its
processes, and the barman-cloud runs whose files it must own, run as the
``postgres`` user: from PostgreSQL's own directory, in a scratch directory
outside the repository (which may be private to root), archiving through a
barman-cloud that user can reach (``scripts/install-tools`` sees to that).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from infra.ops.synth.runner import Synthesis
from tests.processes import free_port, serving
from tests.tools import TOOLS_DIR, postgres_tool, tool

BARMAN_BIN = TOOLS_DIR / "barman" / "bin"
REGION = "ru-central1"
# The Barman Cloud plugin's flags for the ObjectStore's compression names.
COMPRESSION_FLAGS = {
    "gzip": "--gzip",
    "bzip2": "--bzip2",
    "xz": "--xz",
    "snappy": "--snappy",
    "lz4": "--lz4",
    "zstd": "--zstd",
}
RETENTION_UNITS = {"d": "DAYS", "w": "WEEKS", "m": "MONTHS"}


def barman(name: str) -> Path:
    path = BARMAN_BIN / name
    if not path.is_file():
        raise AssertionError(f"{name} is not installed at {path}: run 'make tools'")
    return path.resolve()


def _as_root() -> bool:
    return os.geteuid() == 0


def _as_postgres() -> dict[str, Any]:
    return {"user": "postgres", "group": "postgres"} if _as_root() else {}


def _open_to_everyone(path: Path) -> bool:
    """Whether any user may pass through every directory above ``path``."""
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)


def _scratch_directory() -> Path:
    """A new directory for the servers' data and sockets, the postgres user's when running as root."""
    if not _as_root():
        return Path(tempfile.mkdtemp(prefix="samokoder-drill-"))
    base = Path(tempfile.gettempdir())
    if not _open_to_everyone(base / "x"):
        base = Path("/tmp")  # TMPDIR may be as private as the repository
    root = Path(tempfile.mkdtemp(prefix="samokoder-drill-", dir=base))
    shutil.chown(root, "postgres", "postgres")
    return root


def _archiver_can_run(program: Path) -> None:
    """PostgreSQL runs archive_command as its own user: as root, fail now rather than time out later."""
    if _as_root() and not _open_to_everyone(program):
        raise AssertionError(
            f"the postgres user cannot reach {program}: run scripts/install-tools as root"
            " (it puts barman-cloud where that user can run it when the repository is private)"
        )


def rendered_settings(synthesis: Synthesis) -> BarmanSettings:
    """The settings of the stack's cluster that bootstraps with initdb (not a restore's)."""
    (store,) = synthesis.of_type("kubernetes:barmancloud.cnpg.io/v1:ObjectStore")
    cluster = next(
        r
        for r in synthesis.of_type("kubernetes:postgresql.cnpg.io/v1:Cluster")
        if "initdb" in r.inputs["spec"]["bootstrap"]
    )
    return BarmanSettings.rendered(store.inputs, cluster.inputs)


def retention_days(synthesis: Synthesis) -> int:
    (store,) = synthesis.of_type("kubernetes:barmancloud.cnpg.io/v1:ObjectStore")
    return int(store.inputs["spec"]["retentionPolicy"].removesuffix("d"))


@dataclass(frozen=True)
class BarmanSettings:
    """What the plugin would pass to barman-cloud for one cluster."""

    destination: str
    server_name: str
    wal_flags: tuple[str, ...]
    backup_flags: tuple[str, ...]
    retention_policy: str
    archive_timeout: str

    @property
    def bucket(self) -> str:
        return self.destination.removeprefix("s3://").split("/", 1)[0]

    @classmethod
    def rendered(cls, object_store: Mapping[str, Any], cluster: Mapping[str, Any]) -> BarmanSettings:
        """From an ObjectStore and the Cluster that archives through it, as the component renders them."""
        config = object_store["spec"]["configuration"]
        wal, data = config.get("wal", {}), config.get("data", {})
        wal_flags = [COMPRESSION_FLAGS[wal["compression"]]] if wal.get("compression") else []
        backup_flags = [COMPRESSION_FLAGS[data["compression"]]] if data.get("compression") else []
        if data.get("jobs"):
            backup_flags += ["--jobs", str(int(data["jobs"]))]  # numbers reach the mocks as floats
        amount, unit = (
            object_store["spec"]["retentionPolicy"][:-1],
            object_store["spec"]["retentionPolicy"][-1],
        )
        (plugin,) = cluster["spec"]["plugins"]
        return cls(
            destination=config["destinationPath"],
            # The plugin's default server name is the cluster's name.
            server_name=plugin["parameters"].get("serverName", cluster["metadata"]["name"]),
            wal_flags=tuple(wal_flags),
            backup_flags=tuple(backup_flags),
            retention_policy=f"RECOVERY WINDOW OF {amount} {RETENTION_UNITS[unit]}",
            archive_timeout=cluster["spec"]["postgresql"]["parameters"]["archive_timeout"],
        )


@dataclass(frozen=True)
class ObjectStorage:
    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        # moto accepts any key; the region is the one the credentials Secret carries.
        return {
            "AWS_ACCESS_KEY_ID": "drill",
            "AWS_SECRET_ACCESS_KEY": "drill-secret",  # pragma: allowlist secret
            "AWS_DEFAULT_REGION": REGION,
        }

    def cloud_args(self) -> list[str]:
        return ["--cloud-provider", "aws-s3", "--endpoint-url", self.endpoint]

    def client(self) -> Any:
        # A session of its own: drills of several stacks run in threads side by side.
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def create_bucket(self, bucket: str) -> None:
        """A versioned bucket, as the component's is."""
        s3 = self.client()
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    def objects(self, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item for page in pages for item in page.get("Contents", [])]

    def stored_bytes(self, bucket: str) -> int:
        return sum(int(item["Size"]) for item in self.objects(bucket))


@contextmanager
def object_storage(workdir: Path) -> Iterator[ObjectStorage]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                return True
        except OSError:
            return False

    moto = Path(sys.executable).parent / "moto_server"
    with serving([str(moto), "-H", "127.0.0.1", "-p", str(port)], workdir / "moto.log", ready):
        yield ObjectStorage(endpoint)


class Postgres:
    """One PostgreSQL 15 server in its own directory, listening on a Unix socket only."""

    def __init__(self, root: Path, name: str, env: Mapping[str, str]) -> None:
        self.data = root / name
        self.socket_dir = root
        self.port = free_port()
        self.log = root / f"{name}.log"
        self.env = dict(env)

    def _run(self, command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            list(command),
            capture_output=True,
            text=True,
            env=self.env,
            check=False,
            **_as_postgres(),
            **kwargs,
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, command))} failed:\n{result.stdout}{result.stderr}")
        return result

    def init(self) -> None:
        initdb = str(postgres_tool("initdb"))
        self._run([initdb, "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8"])

    def start(self, settings: Mapping[str, str]) -> None:
        options = [f"-p {self.port}", f"-k {self.socket_dir}", "-c listen_addresses=''"]
        options += [f"-c {key}={value}" for key, value in settings.items()]
        self._run(
            [
                str(postgres_tool("pg_ctl")),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "120",
                "-o",
                " ".join(options),
                "start",
            ]
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([str(postgres_tool("pg_ctl")), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def sql(self, statement: str, database: str = "samokoder") -> str:
        result = self._run(
            [
                str(postgres_tool("psql")),
                "-XAtq",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                statement,
            ]
        )
        return result.stdout.strip()

    def wait_until(self, statement: str, expected: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.sql(statement, "postgres") == expected:
                    return
            except AssertionError:
                pass  # not accepting connections yet
            if time.monotonic() > deadline:
                raise AssertionError(f"{statement!r} never returned {expected!r}:\n{self.log.read_text()}")
            time.sleep(0.2)


def archive_command(storage: ObjectStorage, settings: BarmanSettings) -> str:
    args = [str(barman("barman-cloud-wal-archive")), *storage.cloud_args(), *settings.wal_flags]
    return " ".join([*args, settings.destination, settings.server_name, "%p"])


def restore_command(storage: ObjectStorage, settings: BarmanSettings) -> str:
    args = [str(barman("barman-cloud-wal-restore")), *storage.cloud_args()]
    return " ".join([*args, settings.destination, settings.server_name, "%f", "%p"])


@dataclass
class Drill:
    """The running source database, its object store and the commands the plugin would run."""

    root: Path
    storage: ObjectStorage
    settings: BarmanSettings
    source: Postgres
    # Every server started, so that the drill stops them all.
    servers: list[Postgres]
    # The environment every program starts with (plus the object store's credentials).
    env: Mapping[str, str]

    def barman_cloud(
        self, name: str, *args: str, fake_time: str | None = None, as_postgres: bool = False
    ) -> str:
        command = [str(barman(name)), *self.storage.cloud_args(), *args]
        if fake_time is not None:
            command = [str(tool("faketime")), "-f", fake_time, *command]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env={**self.env, **self.storage.env},
            check=False,
            **(_as_postgres() if as_postgres else {}),
        )
        if result.returncode != 0:
            raise AssertionError(f"{name} failed:\n{result.stdout}{result.stderr}")
        return str(result.stdout)

    def base_backup(self) -> str:
        """A base backup as the plugin takes it; returns its id."""
        before = set(self.backup_ids())
        self.barman_cloud(
            "barman-cloud-backup",
            *self.settings.backup_flags,
            "--immediate-checkpoint",
            "-h",
            str(self.source.socket_dir),
            "-p",
            str(self.source.port),
            "-U",
            "postgres",
            self.settings.destination,
            self.settings.server_name,
        )
        (new,) = set(self.backup_ids()) - before
        return new

    def backups(self) -> list[dict[str, Any]]:
        listing = self.barman_cloud(
            "barman-cloud-backup-list",
            "--format",
            "json",
            self.settings.destination,
            self.settings.server_name,
        )
        backups: list[dict[str, Any]] = json.loads(listing)["backups_list"]
        return backups

    def backup_ids(self) -> list[str]:
        return [backup["backup_id"] for backup in self.backups()]

    def wal_names(self) -> list[str]:
        prefix = self.settings.destination.removeprefix(f"s3://{self.settings.bucket}/").rstrip("/")
        objects = self.storage.objects(self.settings.bucket, f"{prefix}/{self.settings.server_name}/wals/")
        return sorted(str(item["Key"]).rsplit("/", 1)[1] for item in objects)

    def switch_and_archive(self, timeout: float = 120) -> None:
        """Close the current WAL segment and wait until it is in the object store."""
        segment = self.source.sql("SELECT pg_walfile_name(pg_switch_wal())")
        self.source.wait_until(f"SELECT last_archived_wal >= '{segment}' FROM pg_stat_archiver", "t", timeout)

    def apply_retention(self, fake_time: str) -> None:
        self.barman_cloud(
            "barman-cloud-backup-delete",
            "--retention-policy",
            self.settings.retention_policy,
            self.settings.destination,
            self.settings.server_name,
            fake_time=fake_time,
        )

    def restore(
        self,
        name: str,
        backup_id: str,
        target_time: datetime | None,
        settings: Mapping[str, str] | None = None,
    ) -> Postgres:
        """A new server from ``backup_id`` plus archived WAL, up to ``target_time`` or the end.

        ``settings`` are more server settings for the copy (the rehearsal's logging).
        """
        restored = self.download(name, backup_id)
        self.recover(restored, target_time, settings)
        return restored

    def download(self, name: str, backup_id: str) -> Postgres:
        """The first half of a restore: ``backup_id``'s files copied into a new server's directory."""
        restored = Postgres(self.root, name, {**self.env, **self.storage.env})
        self.servers.append(restored)
        self.barman_cloud(
            "barman-cloud-restore",
            self.settings.destination,
            self.settings.server_name,
            backup_id,
            str(restored.data),
            as_postgres=True,
        )
        return restored

    def recover(
        self, restored: Postgres, target_time: datetime | None, settings: Mapping[str, str] | None
    ) -> None:
        """The second half: start ``restored``, replay archived WAL and wait until it is promoted."""
        (restored.data / "recovery.signal").touch()
        settings = {
            **(settings or {}),
            "restore_command": f"'{restore_command(self.storage, self.settings)}'",
            "recovery_target_action": "promote",
            # The copy must never write to the source's archive.
            "archive_mode": "off",
        }
        if target_time is not None:
            settings["recovery_target_time"] = f"'{target_time.isoformat()}'"
        restored.start(settings)
        restored.wait_until("SELECT pg_is_in_recovery()", "f")


@contextmanager
def drill(
    settings: BarmanSettings, storage: ObjectStorage | None = None, env: Mapping[str, str] | None = None
) -> Iterator[Drill]:
    """A source database archiving WAL to a fresh versioned bucket; everything stops at the end.

    The bucket is made in ``storage`` (an S3 API several drills share), or in
    an S3 API of the drill's own; ``env`` is the environment the programs
    start with (the current one by default).
    """
    env = dict(os.environ if env is None else env)
    _archiver_can_run(barman("barman-cloud-wal-archive"))
    root = _scratch_directory()
    servers: list[Postgres] = []
    try:
        with contextlib.ExitStack() as running:
            if storage is None:
                storage = running.enter_context(object_storage(root))
            storage.create_bucket(settings.bucket)
            source = Postgres(root, "source", {**env, **storage.env})
            servers.append(source)
            source.init()
            source.start(
                {
                    "wal_level": "replica",
                    "archive_mode": "on",
                    "archive_command": f"'{archive_command(storage, settings)}'",
                    "archive_timeout": settings.archive_timeout,
                }
            )
            source.sql("CREATE DATABASE samokoder", "postgres")
            yield Drill(root, storage, settings, source, servers, env)
    finally:
        for server in servers:
            with contextlib.suppress(AssertionError):  # already gone; the directory goes next
                server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class Rehearsal:
    """What one drill observed: the rows written and found, the backups kept, the times taken."""

    before_backup: frozenset[int]
    before_target: frozenset[int]
    after_target: frozenset[int]
    found_at_target: frozenset[int]
    found_at_latest: frozenset[int]
    first_backup: str
    second_backup: str
    kept_inside_window: tuple[str, ...]
    kept_past_window: tuple[str, ...]
    wal_before_retention: tuple[str, ...]
    wal_after_retention: tuple[str, ...]
    second_backup_begin_wal: str
    # The database when the first backup ran, and at the end (three batches).
    backed_up_bytes: int
    database_bytes: int
    stored_bytes: int
    backup_seconds: float
    restore_seconds: float


ROW_BYTES = 512


def _write(db: Postgres, batch: str, rows: int) -> frozenset[int]:
    ids = db.sql(
        f"INSERT INTO events (batch, payload) SELECT '{batch}', repeat(md5(g::text), {ROW_BYTES // 32}) "
        f"FROM generate_series(1, {rows}) AS g RETURNING id"
    )
    return frozenset(int(i) for i in ids.split())


def _ids(db: Postgres) -> frozenset[int]:
    return frozenset(int(i) for i in db.sql("SELECT id FROM events").split())


def _size(db: Postgres) -> int:
    return int(db.sql("SELECT pg_database_size('samokoder')"))


def _now(db: Postgres) -> datetime:
    text = db.sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')")
    return datetime.fromisoformat(f"{text}+00:00")


def rehearse(
    settings: BarmanSettings,
    rows: int,
    retention_days: int,
    storage: ObjectStorage | None = None,
    env: Mapping[str, str] | None = None,
) -> Rehearsal:
    """Write rows, back up, write more, restore to a point between and to the end, apply retention."""
    with drill(settings, storage, env) as d:
        db = d.source
        db.sql("CREATE TABLE events (id bigserial PRIMARY KEY, batch text NOT NULL, payload text NOT NULL)")
        before_backup = _write(db, "before-backup", rows)
        backed_up_bytes = _size(db)
        started = time.monotonic()
        first = d.base_backup()
        backup_seconds = time.monotonic() - started
        before_target = _write(db, "before-target", rows)
        target = _now(db)
        time.sleep(0.5)  # commits after the target carry a later timestamp
        after_target = _write(db, "after-target", rows)
        d.switch_and_archive()

        started = time.monotonic()
        at_target = d.restore("at-target", first, target)
        restore_seconds = time.monotonic() - started
        found_at_target = _ids(at_target)
        at_target.stop()
        at_latest = d.restore("at-latest", first, None)
        found_at_latest = _ids(at_latest)
        at_latest.stop()

        second = d.base_backup()
        d.switch_and_archive()
        database_bytes = _size(db)
        stored_bytes = d.storage.stored_bytes(settings.bucket)
        wal_before = tuple(d.wal_names())
        # A day before the window closes over both backups, nothing may go;
        # three days after, the first backup and the WAL only it needs are obsolete.
        d.apply_retention(f"+{retention_days - 1}d")
        kept_inside = tuple(d.backup_ids())
        d.apply_retention(f"+{retention_days + 3}d")
        kept_past = tuple(d.backup_ids())
        (second_info,) = (b for b in d.backups() if b["backup_id"] == second)
        return Rehearsal(
            before_backup=before_backup,
            before_target=before_target,
            after_target=after_target,
            found_at_target=found_at_target,
            found_at_latest=found_at_latest,
            first_backup=first,
            second_backup=second,
            kept_inside_window=kept_inside,
            kept_past_window=kept_past,
            wal_before_retention=wal_before,
            wal_after_retention=tuple(d.wal_names()),
            second_backup_begin_wal=str(second_info["begin_wal"]),
            backed_up_bytes=backed_up_bytes,
            database_bytes=database_bytes,
            stored_bytes=stored_bytes,
            backup_seconds=backup_seconds,
            restore_seconds=restore_seconds,
        )
