"""`civicdesk backup` / `civicdesk restore`: one .tar.gz holding the database and every attachment.

The database goes in as a logical dump of our own tables through PostgreSQL's COPY (text format), not
pg_dump: pg_dump must be at least as new as the server, its archives do not always load into an older
server, and it is one more binary to find on every host. COPY text reads and writes the same on every
PostgreSQL we support, through the driver we already have. Restore brings an empty database to the
backup's schema revision, loads the rows, resets the sequences, then migrates to the newest schema, so a
backup made by an older release restores into a newer one.

Archive layout, in this order (restore reads it as a stream): ``manifest.json``, ``db/<table>.copy`` for
each table in foreign-key order, ``attachments/<storage key>`` for each stored file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import re
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import psycopg
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from psycopg import sql
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alembic import command
from civicdesk.models import all_metadata
from kernel import migrations
from kernel.errors import DomainError
from kernel.timeutil import utcnow
from tickets.storage import FileStore, MissingFile, checked_key

FORMAT = "civicdesk-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_DIR = "db/"
FILES_DIR = "attachments/"
READ_BYTES = 1024 * 1024
DIGEST = re.compile(r"[0-9a-f]{64}")
ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError)


class BackupError(DomainError):
    """A backup or restore refused with a reason (the CLI prints it and exits with 2)."""


class TableEntry(BaseModel):
    name: str
    columns: list[str]
    rows: int


class Manifest(BaseModel):
    format: Literal["civicdesk-backup"]
    version: int
    created_at: datetime
    civicdesk_version: str
    alembic_revision: str
    storage: str  # where the attachments were read from
    tables: list[TableEntry]
    attachments: int  # files the database lists (a file lost from the store before the backup is absent)

    def rows(self, table: str) -> int:
        return next((entry.rows for entry in self.tables if entry.name == table), 0)


class Bar(Protocol):
    def update(self, n_steps: int) -> None: ...


# A progress bar factory: (label, length) -> a context manager giving something with update(n).
Bars = Callable[[str, int], AbstractContextManager[Bar]]


class _Silent:
    def update(self, n_steps: int) -> None:
        pass


def no_bars(label: str, length: int) -> AbstractContextManager[Bar]:
    return nullcontext(_Silent())


# --- backup ---------------------------------------------------------------------------------------


def write_backup(
    engine: Engine, store: FileStore, target: Path, *, bars: Bars = no_bars
) -> tuple[Manifest, list[str]]:
    """Write the archive to ``target`` (never over an existing file; a failed run leaves nothing).

    Returns the manifest and the keys of files the database lists but the store no longer has.
    """
    if target.exists():
        raise BackupError(f"{target} đã tồn tại; chọn tên khác (already exists; choose another name)")
    if not target.parent.is_dir():
        raise BackupError(f"không có thư mục {target.parent} (no such folder)")
    partial = target.with_name(target.name + ".partial")
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".civicdesk-backup-") as spool:
            manifest, keys = _dump_database(engine, store, Path(spool), bars)
            with tarfile.open(partial, "w:gz") as tar:
                _add_bytes(tar, MANIFEST, manifest.model_dump_json(indent=2).encode())
                for entry in manifest.tables:
                    tar.add(Path(spool) / f"{entry.name}.copy", arcname=f"{DB_DIR}{entry.name}.copy")
                missing = _add_attachments(tar, store, keys, bars)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return manifest, missing


def _dump_database(engine: Engine, store: FileStore, spool: Path, bars: Bars) -> tuple[Manifest, list[str]]:
    with _snapshot(engine) as conn:
        revision = _revision(conn)
        names = _our_tables(conn)
        entries = []
        with bars("cơ sở dữ liệu (database)", len(names)) as bar:
            for name in names:
                entries.append(_dump_table(conn, name, spool / f"{name}.copy"))
                bar.update(1)
        keys = list(conn.execute(text("SELECT DISTINCT storage_key FROM attachment ORDER BY 1")).scalars())
    manifest = Manifest(
        format=FORMAT,
        version=FORMAT_VERSION,
        created_at=utcnow(),
        civicdesk_version=_our_version(),
        alembic_revision=revision,
        storage=store.location,
        tables=entries,
        attachments=len(keys),
    )
    return manifest, keys


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One read-only transaction that sees every table at the same moment."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            yield conn


def _revision(conn: Connection) -> str:
    if not conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar():
        raise BackupError("cơ sở dữ liệu chưa có lược đồ; chạy `civicdesk db upgrade` (no schema yet)")
    heads = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if len(heads) != 1:
        raise BackupError(f"cơ sở dữ liệu có {len(heads)} phiên bản lược đồ {heads}; cần đúng một")
    return str(heads[0])


def _our_tables(conn: Connection) -> list[str]:
    """The tables our migrations made, parents before children (foreign-key order)."""
    present = set(
        conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
    )
    return [table.name for table in all_metadata().sorted_tables if table.name in present]


def _columns(conn: Connection, table: str) -> list[str]:
    """Stored columns in table order; generated columns are left out (COPY FROM cannot write them)."""
    return list(
        conn.execute(
            text(
                "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                " WHERE c.relname = :table AND c.relnamespace = current_schema()::regnamespace"
                " AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum"
            ),
            {"table": table},
        ).scalars()
    )


def _copy_sql(table: str, columns: list[str], direction: Literal["TO STDOUT", "FROM STDIN"]) -> sql.Composed:
    return sql.SQL("COPY {} ({}) " + direction).format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    )


def _cursor(conn: Connection) -> psycopg.Cursor[Any]:
    """The driver's own cursor, inside the transaction SQLAlchemy opened on this connection."""
    driver = cast(psycopg.Connection[Any], conn.connection.driver_connection)
    return driver.cursor()


def _dump_table(conn: Connection, name: str, path: Path) -> TableEntry:
    columns = _columns(conn, name)
    with path.open("wb") as out, _cursor(conn) as cursor:
        with cursor.copy(_copy_sql(name, columns, "TO STDOUT")) as copy:
            for chunk in copy:
                out.write(chunk)
        return TableEntry(name=name, columns=columns, rows=cursor.rowcount)


def _add_attachments(tar: tarfile.TarFile, store: FileStore, keys: list[str], bars: Bars) -> list[str]:
    missing = []
    with bars("tệp đính kèm (attachments)", len(keys)) as bar:
        for key in keys:
            try:
                _add_bytes(tar, FILES_DIR + key, store.get(key))
            except MissingFile:
                missing.append(key)  # said by the command; restore reports how many came back
            bar.update(1)
    return missing


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _our_version() -> str:
    try:
        return version("civicdesk")
    except PackageNotFoundError:
        return "unknown"


# --- restore --------------------------------------------------------------------------------------


def read_manifest(archive: Path) -> Manifest:
    """Only the manifest (the archive's first member): what `restore` would load."""
    with _reading(archive) as tar:
        return _manifest(tar, tar.next())


def restore_backup(
    engine: Engine, store: FileStore, archive: Path, *, force: bool = False, bars: Bars = no_bars
) -> tuple[Manifest, int]:
    """Load the archive into an empty database (or, with force, one emptied first) and the store.

    Returns the manifest and the number of files written to the store.
    """
    with _reading(archive) as tar:
        manifest = _manifest(tar, tar.next())
        script = ScriptDirectory.from_config(migrations.alembic_config())
        _check_revision_known(script, manifest.alembic_revision)
        _empty_database(engine, force=force)
        _migrate_to(engine, script, manifest.alembic_revision)
        rows = sum(entry.rows for entry in manifest.tables)
        with engine.begin() as conn, bars("cơ sở dữ liệu (database rows)", rows) as bar:
            for entry in manifest.tables:
                _load_table(conn, tar, entry, bar)
            _reset_sequences(conn)
        migrations.upgrade(engine)
        files = _restore_attachments(tar, store, manifest, bars)
    return manifest, files


@contextmanager
def _reading(archive: Path) -> Iterator[tarfile.TarFile]:
    """The archive as a stream; a damaged one (truncated, bad checksum, not a tar) is a BackupError."""
    unreadable = f"{archive} không phải bản sao lưu đọc được (not a readable backup)"
    try:
        tar = tarfile.open(archive, "r|*")
    except ARCHIVE_ERRORS as exc:
        raise BackupError(f"{unreadable}: {exc}") from exc
    except OSError as exc:
        raise BackupError(f"không mở được {archive} (cannot open: {exc.strerror or exc})") from exc
    try:
        with tar:
            yield tar
    except ARCHIVE_ERRORS as exc:
        raise BackupError(f"{unreadable}: {exc or type(exc).__name__}") from exc


def _manifest(tar: tarfile.TarFile, member: tarfile.TarInfo | None) -> Manifest:
    if member is None or member.name != MANIFEST:
        raise BackupError(f"tệp không bắt đầu bằng {MANIFEST}; không phải bản sao lưu CivicDesk")
    try:
        manifest = Manifest.model_validate_json(_read(tar, member))
    except ValidationError as exc:
        raise BackupError(f"{MANIFEST} không hợp lệ (invalid manifest): {exc.errors()[0]['msg']}") from exc
    if manifest.version > FORMAT_VERSION:
        raise BackupError(
            f"bản sao lưu định dạng {manifest.version} do CivicDesk mới hơn tạo; cài bản mới hơn để khôi phục"
        )
    return manifest


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:
        raise BackupError(f"{member.name} trong bản sao lưu không phải tệp (not a file)")
    with handle:
        return handle.read()


def _check_revision_known(script: ScriptDirectory, revision: str) -> None:
    try:
        known = script.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"bản sao lưu có lược đồ {revision}, mới hơn bản CivicDesk này; cài bản mới hơn rồi khôi phục"
            " (the backup is from a newer release)"
        )


def _filled_tables(conn: Connection) -> list[str]:
    return [
        name
        for name in _our_tables(conn)
        if conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{name}")')).scalar()  # noqa: S608 - catalog names
    ]


def _empty_database(engine: Engine, *, force: bool) -> None:
    with engine.begin() as conn:
        filled = _filled_tables(conn)
        if not filled:
            return
        if not force:
            shown = ", ".join(filled[:5]) + (f" và {len(filled) - 5} bảng khác" if len(filled) > 5 else "")
            raise BackupError(
                f"cơ sở dữ liệu đích đã có dữ liệu ({shown}); thêm --force để xóa hết rồi khôi phục"
                " (the database is not empty; --force empties it first)"
            )
        names = ", ".join(f'"{name}"' for name in _our_tables(conn))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _migrate_to(engine: Engine, script: ScriptDirectory, revision: str) -> None:
    """The schema the rows were dumped from: up from an empty database, or down from a newer one."""
    current = migrations.current_heads(engine)
    if current == {revision}:
        return
    earlier = {rev.revision for rev in script.iterate_revisions(revision, "base")}
    if current <= earlier:
        migrations.upgrade(engine, revision)
        return
    config = migrations.alembic_config(engine)
    with engine.begin() as connection:  # the database is empty here: nothing is lost going down
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _load_table(conn: Connection, tar: tarfile.TarFile, entry: TableEntry, bar: Bar) -> None:
    member = tar.next()
    if member is None or member.name != f"{DB_DIR}{entry.name}.copy":
        found = member.name if member else "the end"
        raise BackupError(f"bản sao lưu thiếu bảng {entry.name} (found {found} instead): tệp bị hỏng")
    source = tar.extractfile(member)
    if source is None:
        raise BackupError(f"{member.name} trong bản sao lưu không phải tệp (not a file)")
    with source, _cursor(conn) as cursor:
        try:
            with cursor.copy(_copy_sql(entry.name, entry.columns, "FROM STDIN")) as copy:
                while chunk := source.read(READ_BYTES):
                    copy.write(chunk)
                    bar.update(chunk.count(b"\n"))  # COPY text: a line per row, inner newlines escaped
        except psycopg.Error as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BackupError(
                f"không nạp được bảng {entry.name} (cannot load: {reason}): tệp bị hỏng"
            ) from exc
        if cursor.rowcount != entry.rows:
            raise BackupError(
                f"bảng {entry.name}: {cursor.rowcount} dòng, bản kê ghi {entry.rows}: tệp bị hỏng"
            )


def _reset_sequences(conn: Connection) -> None:
    """Ids given after the restore continue after the restored ones."""
    owned = conn.execute(
        text(
            "SELECT c.relname, a.attname, pg_get_serial_sequence(format('%I', c.relname), a.attname)"
            " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
            " AND a.attnum > 0 AND NOT a.attisdropped"
            " AND pg_get_serial_sequence(format('%I', c.relname), a.attname) IS NOT NULL"
        )
    ).all()
    for table, column, sequence in owned:
        highest = f'SELECT MAX("{column}") FROM "{table}"'  # noqa: S608 - names from the catalog
        conn.execute(
            text(f"SELECT setval(:sequence, COALESCE(({highest}), 0) + 1, false)"), {"sequence": sequence}
        )


def _restore_attachments(tar: tarfile.TarFile, store: FileStore, manifest: Manifest, bars: Bars) -> int:
    restored = 0
    with bars("tệp đính kèm (attachments)", manifest.attachments) as bar:
        for member in _remaining(tar):
            if not member.name.startswith(FILES_DIR):
                raise BackupError(f"bản sao lưu có mục lạ {member.name!r}: tệp bị hỏng")
            key = checked_key(member.name.removeprefix(FILES_DIR))
            data = _read(tar, member)
            _check_digest(key, data)
            store.put(key, data)
            restored += 1
            bar.update(1)
    return restored


def _remaining(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while (member := tar.next()) is not None:
        yield member


def _check_digest(key: str, data: bytes) -> None:
    """Files are kept under their SHA-256: a name that is a digest must match the bytes."""
    name = key.rsplit("/", 1)[-1]
    if DIGEST.fullmatch(name) and hashlib.sha256(data).hexdigest() != name:
        raise BackupError(f"tệp {key} trong bản sao lưu không khớp mã băm (checksum mismatch): tệp bị hỏng")
