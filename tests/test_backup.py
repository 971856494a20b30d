"""`civicdesk backup` then `civicdesk restore` into a fresh empty PostgreSQL database and an empty store
gives back every ticket, timeline event and attachment; bad archives are one clear line, exit code 2."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from PIL import Image
from s3_fake import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from civicdesk import cli
from kernel import migrations
from kernel.db import engine_for, make_engine, unit_of_work
from kernel.migrations import alembic_config
from kernel.settings import get_settings
from tickets import service
from tickets.attachments import store_attachment
from tickets.models import Attachment, EventKind, Status, Ticket, TicketEvent
from tickets.reference import seed_reference
from tickets.service import SYSTEM, NewTicket
from tickets.storage import default_store


@dataclass(frozen=True)
class Site:
    """One CivicDesk installation: a database and where its attachments live (as environment)."""

    database_url: str
    storage_env: dict[str, str]


UseSite = Callable[[Site], None]


def png(colour: tuple[int, int, int], size: tuple[int, int] = (16, 12)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def fresh_database(new_database: Callable[[], str]) -> Iterator[Callable[[], str]]:
    """Empty databases on the test server on demand (conftest drops them); the engines the commands
    opened through the settings are closed at the end of the test."""
    made: list[str] = []

    def make() -> str:
        made.append(new_database())
        return made[-1]

    yield make
    for url in made:
        engine_for(url).dispose()
    engine_for.cache_clear()


@pytest.fixture
def use_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[UseSite]:
    def use(site: Site) -> None:
        monkeypatch.setenv("CIVICDESK_DATABASE_URL", site.database_url)
        for name in ("STORAGE", "ATTACHMENT_DIR", "S3_BUCKET", "S3_ENDPOINT_URL"):
            monkeypatch.delenv(f"CIVICDESK_{name}", raising=False)
        for name, value in site.storage_env.items():
            monkeypatch.setenv(f"CIVICDESK_{name}", value)
        for name, value in {"S3_REGION": REGION, "S3_ACCESS_KEY_ID": ACCESS_KEY}.items():
            monkeypatch.setenv(f"CIVICDESK_{name}", value)
        monkeypatch.setenv("CIVICDESK_S3_SECRET_ACCESS_KEY", SECRET_KEY)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def fill(engine: Engine) -> None:
    """Tickets with several timeline events and photos; one photo shared by two tickets."""
    shared = png((10, 200, 10))
    with unit_of_work(engine) as session:
        for number in range(5):
            ticket = service.create_ticket(
                session, NewTicket(description=f"Ổ gà số {number} trên đường Thống Nhất"), actor=SYSTEM
            )
            assert ticket.id is not None
            service.add_comment(session, ticket.id, text=f"ghi chú {number}", public=False, actor=SYSTEM)
            if number % 2:
                service.transition(session, ticket.id, Status.TRIAGED, actor=SYSTEM)
            for data in (png((number * 40, 0, 0)), shared):
                photo = store_attachment(session, data=data, original_name="anh.png", ticket_id=ticket.id)
                service.record_event(session, ticket, EventKind.ATTACHMENT_ADDED, attachment_id=photo.id)


def everything(engine: Engine) -> dict[str, object]:
    """What must come back: every ticket, every event, every attachment row with its bytes."""
    store = default_store()
    with unit_of_work(engine) as session:
        tickets = session.exec(select(Ticket).order_by(Ticket.id)).all()  # type: ignore[arg-type]
        events = session.exec(select(TicketEvent).order_by(TicketEvent.id)).all()  # type: ignore[arg-type]
        attachments = session.exec(select(Attachment).order_by(Attachment.id)).all()  # type: ignore[arg-type]
        return {
            "tickets": [t.model_dump() for t in tickets],
            "events": [e.model_dump() for e in events],
            "attachments": [a.model_dump() for a in attachments],
            "bytes": [store.get(a.storage_key) for a in attachments],
        }


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def storage_env(kind: str, request: pytest.FixtureRequest, folder: Path) -> dict[str, str]:
    """An empty store of that kind: a new folder, or a new bucket on the loopback S3 server."""
    if kind == "local":
        return {"ATTACHMENT_DIR": str(folder)}
    server: S3Server = request.getfixturevalue("s3_server")
    return {"STORAGE": "s3", "S3_ENDPOINT_URL": server.endpoint_url, "S3_BUCKET": server.new_bucket()}


@pytest.mark.parametrize(
    ("source_kind", "target_kind"), [("local", "local"), ("s3", "local"), ("local", "s3")]
)
def test_backup_then_restore_into_an_empty_database_gives_everything_back(
    fresh_database: Callable[[], str],
    use_site: UseSite,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    source_kind: str,
    target_kind: str,
) -> None:
    source_files = storage_env(source_kind, request, tmp_path / "source-files")
    source = Site(fresh_database(), source_files)
    use_site(source)
    source_engine = make_engine(source.database_url)
    migrations.upgrade(source_engine)
    with unit_of_work(source_engine) as session:
        seed_reference(session)
    fill(source_engine)
    before = everything(source_engine)
    source_engine.dispose()
    archive = tmp_path / "civicdesk.tar.gz"

    made = run("backup", str(archive))
    assert made.exit_code == 0, made.output
    assert "5 phản ánh (tickets)" in made.output and "10 tệp đính kèm (attachments)" in made.output

    target_files = storage_env(target_kind, request, tmp_path / "restored")
    target = Site(fresh_database(), target_files)
    use_site(target)
    restored = run("restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "6 tệp vào" in restored.output  # 10 photos, 6 distinct files (one shared by every ticket)
    target_engine = make_engine(target.database_url)
    assert everything(target_engine) == before
    assert migrations.current_heads(target_engine) == {
        ScriptDirectory.from_config(alembic_config()).get_current_head()
    }
    with unit_of_work(target_engine) as session:  # the sequences continue after the restored ids
        newer = service.create_ticket(session, NewTicket(description="Sau khôi phục: đèn hỏng"), actor=SYSTEM)
        assert newer.id == 6
    target_engine.dispose()


def test_restore_refuses_a_database_with_data_unless_forced(
    fresh_database: Callable[[], str], use_site: UseSite, tmp_path: Path
) -> None:
    site = Site(fresh_database(), {"ATTACHMENT_DIR": str(tmp_path / "files")})
    use_site(site)
    engine = make_engine(site.database_url)
    migrations.upgrade(engine)
    fill(engine)
    archive = tmp_path / "b.tar.gz"
    assert run("backup", str(archive)).exit_code == 0
    with unit_of_work(engine) as session:
        service.create_ticket(session, NewTicket(description="Phản ánh sau bản sao lưu"), actor=SYSTEM)

    refused = run("restore", str(archive))
    assert refused.exit_code == 2
    assert "--force" in refused.output and "Traceback" not in refused.output
    forced = run("restore", "--force", str(archive))
    assert forced.exit_code == 0, forced.output
    with unit_of_work(engine) as session:
        descriptions = session.exec(select(Ticket.description)).all()
    assert len(descriptions) == 5 and "Phản ánh sau bản sao lưu" not in descriptions
    engine.dispose()


def tar_gz(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def manifest(**changes: object) -> bytes:
    base: dict[str, object] = {
        "format": "civicdesk-backup",
        "version": 1,
        "created_at": "2026-11-28T05:00:00Z",
        "civicdesk_version": "0.1.0",
        "alembic_revision": "0014",
        "storage": "var/attachments",
        "tables": [],
        "attachments": 0,
    }
    return json.dumps(base | changes).encode()


BAD_ARCHIVES = {
    "not-an-archive": b"this is a note, not a backup",
    "truncated": gzip.compress(b"x" * 10)[:-6],
    "no-manifest": tar_gz({"db/ticket.copy": b""}),
    "wrong-format": tar_gz({"manifest.json": manifest(format="somebody-else")}),
    "from-the-future": tar_gz({"manifest.json": manifest(version=99)}),
    "unknown-schema": tar_gz({"manifest.json": manifest(alembic_revision="29991231_9999_future")}),
    "manifest-not-json": tar_gz({"manifest.json": b"{not json"}),
}


@pytest.mark.parametrize("kind", sorted(BAD_ARCHIVES))
def test_bad_archives_are_one_clear_line_and_exit_2(
    kind: str, postgres_url: str, use_site: UseSite, tmp_path: Path
) -> None:
    use_site(Site(postgres_url, {"ATTACHMENT_DIR": str(tmp_path / "files")}))
    archive = tmp_path / f"{kind}.tar.gz"
    archive.write_bytes(BAD_ARCHIVES[kind])
    result = run("restore", str(archive))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.count("Error:") == 1
    assert isinstance(result.exception, SystemExit)


def test_a_missing_backup_file_and_an_existing_target_are_refused(
    postgres_url: str, use_site: UseSite, tmp_path: Path
) -> None:
    use_site(Site(postgres_url, {"ATTACHMENT_DIR": str(tmp_path / "files")}))
    missing = run("restore", str(tmp_path / "nowhere.tar.gz"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    taken = tmp_path / "taken.tar.gz"
    taken.write_bytes(b"keep me")
    refused = run("backup", str(taken))
    assert refused.exit_code == 2 and "đã tồn tại" in refused.output
    assert taken.read_bytes() == b"keep me"


def test_a_backup_of_an_older_schema_restores_into_a_database_at_the_newest(
    fresh_database: Callable[[], str], use_site: UseSite, tmp_path: Path
) -> None:
    """The empty target is taken down to the backup's revision, loaded, then migrated up again."""
    older = "0013"  # its tables are fixed: later migrations never change what this revision made
    source = Site(fresh_database(), {"ATTACHMENT_DIR": str(tmp_path / "a")})
    use_site(source)
    engine = make_engine(source.database_url)
    migrations.upgrade(engine, older)
    with engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO ticket (code, tracking_token, title, description, search_text, priority, status,
                origin_channel, hidden_from_public, city_level, legal_process, created_at, updated_at)
            VALUES ('PR-2025-000001', 'tok-old-1', 'Đèn hỏng', 'Đèn đường hỏng', 'den duong hong', 'normal',
                'new', 'web', false, false, false, now(), now())
            """)
        )
        conn.execute(
            text(
                "INSERT INTO ticket_event (ticket_id, kind, actor_type, public, data, created_at)"
                " SELECT id, 'created', 'system', true, '{}', now() FROM ticket"
            )
        )
    engine.dispose()
    archive = tmp_path / "older.tar.gz"
    assert run("backup", str(archive)).exit_code == 0

    target = Site(fresh_database(), {"ATTACHMENT_DIR": str(tmp_path / "b")})
    use_site(target)
    target_engine = make_engine(target.database_url)
    migrations.upgrade(target_engine)  # the operator ran `civicdesk db upgrade` first
    restored = run("restore", str(archive))
    assert restored.exit_code == 0, restored.output
    newest = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert migrations.current_heads(target_engine) == {newest}
    with unit_of_work(target_engine) as session:
        assert session.exec(select(Ticket.code)).all() == ["PR-2025-000001"]
        assert session.exec(select(TicketEvent.kind)).all() == ["created"]
    target_engine.dispose()


def test_rows_the_database_cannot_take_are_one_clear_line(
    fresh_database: Callable[[], str], use_site: UseSite, tmp_path: Path
) -> None:
    use_site(Site(fresh_database(), {"ATTACHMENT_DIR": str(tmp_path / "f")}))
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    table = {"name": "ticket", "columns": ["id", "code"], "rows": 1}
    archive = tmp_path / "garbage.tar.gz"
    archive.write_bytes(
        tar_gz(
            {
                "manifest.json": manifest(alembic_revision=head, tables=[table]),
                "db/ticket.copy": b"not-a-number\tPR-1\n",
            }
        )
    )
    result = run("restore", str(archive))
    assert result.exit_code == 2, result.output
    assert "không nạp được bảng ticket" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"}, "CIVICDESK_DATABASE_URL"),
        ({"STORAGE": "s3"}, "CIVICDESK_S3_BUCKET"),
    ],
)
def test_a_setup_problem_is_one_line_saying_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: dict[str, str], message: str
) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(f"CIVICDESK_{name}", value)
    get_settings.cache_clear()
    try:
        result = run("backup", str(tmp_path / "b.tar.gz"))
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        engine_for.cache_clear()
    assert result.exit_code == 2 and message in result.output
    assert result.output.count("\n") == 1 and not (tmp_path / "b.tar.gz").exists()
