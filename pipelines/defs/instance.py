"""The deployment's Dagster instance for a rebuild: Dagster's own SQLite storage, the same files in the
same folders as `dagster dev` reads (DAGSTER_HOME/history), written more cheaply.

Dagster's SQLite storages open a new engine for every write and close it after (NullPool): each of a
run's ~120 events then creates the shard's write-ahead log, commits with an fsync, checkpoints the log
back into the database with more fsyncs and deletes it — ≈ 25 ms an event on this machine's disk, 3 s
of a 10k-row city's rebuild. Here each database keeps one engine (its connection stays open: the log is
checkpointed now and then, not at every event) and commits with `synchronous=NORMAL`, SQLite's setting
for a write-ahead log: a power cut may lose the last events written, never the database. The rows
written are Dagster's own; only how often the disk is flushed differs. A database created new (the
instance's first run, and every run's own shard) is written without any flush and flushed once when
it is complete: ≈ 260 flushes less for a new instance.

A rebuild uses these classes when the instance's dagster.yaml names no storage of its own (an operator's
Postgres, say, is used as configured). A multiprocess run's step processes rebuild the same instance
from its reference (module and class names below).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as db
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine

STORAGE_KEYS = ("storage", "run_storage", "event_log_storage", "schedule_storage")
KEPT_SHARDS = 4  # engines kept open: the index and the run shards written last (a run writes one)


def _engine(conn_string: str) -> Engine:
    """One engine for a database file, its connections committing without an fsync per transaction."""
    engine = db.create_engine(conn_string, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    db.event.listen(engine, "connect", _normal)
    return engine


_creating: list[bool] = []  # not empty while _created_unsynced runs


def _normal(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute(f"PRAGMA synchronous={'OFF' if _creating else 'NORMAL'}")


def _off(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


@contextmanager
def _created_unsynced(files: list[Path], engines: Callable[[], list[Engine]]) -> Iterator[None]:
    """Databases created inside (every SQLite engine of the process, for that while) are written without
    a flush per statement, then each file and its folder flushed once, and the connections opened
    meanwhile closed (`engines`: those that may hold one). Files that already exist are written as
    usual."""
    if all(f.exists() for f in files):
        yield
        return
    db.event.listen(Engine, "connect", _off)
    _creating.append(True)
    try:
        yield
    finally:
        _creating.pop()
        db.event.remove(Engine, "connect", _off)
        for engine in engines():
            engine.dispose()  # its next connections commit as _normal says
    _flush([p for f in files for p in (f, f.with_name(f.name + "-wal")) if p.exists()])


def _flush(paths: list[Path]) -> None:
    for path in [*paths, *{p.parent for p in paths}]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _db_file(base_dir: str, name: str) -> Path:
    return Path(base_dir).resolve() / f"{name}.db"


class RunLogEventStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log (a database per run and an index), one open engine per database."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, str]
    ) -> RunLogEventStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:  # as Dagster's: one writer of this storage at a time
            engine = self._engines.get(shard)
            if engine is None:
                engine = _engine(self.conn_string_for_shard(shard))
                if shard not in self._initialized_dbs:
                    with _created_unsynced([Path(self.path_for_shard(shard))], lambda: [engine]):
                        self._initdb(engine)
                    self._initialized_dbs.add(shard)
                self._engines[shard] = engine
                while len(self._engines) > KEPT_SHARDS:
                    self._engines.popitem(last=False)[1].dispose()
            self._engines.move_to_end(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def engines(self) -> list[Engine]:
        return list(self._engines.values())

    def dispose(self) -> None:
        super().dispose()
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()


class RunLogRunStorage(SqliteRunStorage):
    """Dagster's SQLite run storage (runs.db), one open engine."""

    def __init__(self, conn_string: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(conn_string, inst_data)
        self._engine: Engine | None = None

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, str]
    ) -> RunLogRunStorage:
        return cls.from_local(inst_data=inst_data, **config_value)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        if self._engine is None:
            self._engine = _engine(self._conn_string)
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class RunLogStorage(DagsterSqliteStorage):
    """DagsterSqliteStorage (`storage: sqlite` in dagster.yaml, Dagster's default) with the storages
    above: the same databases under base_dir."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self.base_dir = base_dir
        runs, events, schedules = (
            _runs_directory(base_dir),
            _event_logs_directory(base_dir),
            _schedule_directory(base_dir),
        )
        files = [_db_file(runs, "runs"), _db_file(events, INDEX_SHARD_NAME), _db_file(schedules, "schedules")]
        with _created_unsynced(files, self._engines):
            self._run_storage = RunLogRunStorage.from_local(runs)
            self._event_log_storage = RunLogEventStorage(events)
            self._schedule_storage = SqliteScheduleStorage.from_local(schedules)
        self._inst_data = inst_data

    def _engines(self) -> list[Engine]:
        run, events = getattr(self, "_run_storage", None), getattr(self, "_event_log_storage", None)
        return [*(events.engines() if events else []), *([run._engine] if run and run._engine else [])]

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, str]
    ) -> RunLogStorage:
        return cls(inst_data=inst_data, **config_value)


def configured_storage(home: Path) -> bool:
    """Whether home's dagster.yaml names a storage (then it is used as it is)."""
    path = Path(home) / "dagster.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, yaml.YAMLError):
        return True  # Dagster reports what is wrong with it: leave the file to Dagster
    return isinstance(config, dict) and any(config.get(key) for key in STORAGE_KEYS)


def rebuild_instance(home: Path) -> dg.DagsterInstance:
    """The instance of DAGSTER_HOME `home` (its dagster.yaml), on the storage above unless the file names
    one."""
    if configured_storage(home):
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    storage = {"module": __name__, "class": RunLogStorage.__name__, "config": {"base_dir": str(home)}}
    ref = InstanceRef.from_dir(str(home), overrides={"storage": {"custom": storage}})
    return dg.DagsterInstance.from_ref(ref)
