"""`civicdesk backup FILE` and `civicdesk restore FILE [--force]` (the work is in civicdesk/backup.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar

import click
from click._termui_impl import ProgressBar
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from civicdesk.backup import Bar, Manifest, read_manifest, restore_backup, write_backup
from kernel.db import get_engine
from kernel.errors import DomainError
from tickets.storage import default_store

T = TypeVar("T")


class BackupProblem(click.ClickException):
    exit_code = 2


def _bars(label: str, length: int) -> AbstractContextManager[Bar]:
    bar: ProgressBar[int] = click.progressbar(length=length, label=label)
    return bar


def _clearly(work: Callable[[], T]) -> T:
    """Refusals and an unreachable database become one line and exit code 2."""
    try:
        return work()
    except DomainError as exc:
        raise BackupProblem(exc.message) from exc
    except ValidationError as exc:  # the settings: e.g. CIVICDESK_STORAGE=s3 without a bucket
        raise BackupProblem(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from exc
    except OperationalError as exc:
        raise BackupProblem(
            "không kết nối được cơ sở dữ liệu; kiểm tra CIVICDESK_DATABASE_URL"
            f" (database unreachable: {str(exc.orig).splitlines()[0]})"
        ) from exc


def _counts(manifest: Manifest) -> str:
    return (
        f"{manifest.rows('ticket')} phản ánh (tickets), {manifest.rows('ticket_event')} sự kiện (events),"
        f" {manifest.rows('attachment')} tệp đính kèm (attachments)"
    )


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Write one archive (.tar.gz) with the database and every attachment."""
    manifest, missing = _clearly(lambda: write_backup(get_engine(), default_store(), file, bars=_bars))
    for key in missing:
        click.echo(f"cảnh báo: kho không còn tệp {key} (warning: file missing from the store)", err=True)
    size = file.stat().st_size
    click.echo(f"{file}: {_counts(manifest)}; {manifest.attachments - len(missing)} tệp, {size} byte")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Empty a database that already has data, then restore.")
def restore_command(file: Path, force: bool) -> None:
    """Restore an archive made by `civicdesk backup` into an empty database and the configured storage."""
    manifest = _clearly(lambda: read_manifest(file))
    made = f"{manifest.created_at:%Y-%m-%d %H:%M} UTC"
    click.echo(f"{file}: bản sao lưu lúc {made}, lược đồ {manifest.alembic_revision} (backup made at {made})")
    restored, files = _clearly(
        lambda: restore_backup(get_engine(), default_store(), file, force=force, bars=_bars)
    )
    click.echo(f"đã khôi phục (restored): {_counts(restored)}; {files} tệp vào {default_store().location}")
