"""pgfeatures: live events announced by NOTIFY; ticket search through unaccent and trigram indexes

Revision ID: 0016_pgfeatures
Revises: 0015_observability
Create Date: 2026-11-28 05:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_pgfeatures"
down_revision: str | None = "0015_observability"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = "code || ' ' || title || ' ' || description || ' ' || coalesce(address_text, '')"

# The payload rides along when it fits (NOTIFY refuses 8000 bytes and more); otherwise the listener
# reads the row. The notification is queued with the transaction and delivered only if it commits.
LIVE_NOTIFY = """
CREATE FUNCTION civicdesk_live_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('civicdesk_live', json_build_object(
        'id', NEW.id, 'topic', NEW.topic, 'kind', NEW.kind,
        'payload', CASE WHEN octet_length(NEW.payload::text) <= 7000 THEN NEW.payload END)::text);
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(LIVE_NOTIFY)
    op.execute(
        "CREATE TRIGGER live_event_notify AFTER INSERT ON live_event"
        " FOR EACH ROW EXECUTE FUNCTION civicdesk_live_notify()"
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    # unaccent() alone is only STABLE (it reads the search path); naming the dictionary makes a
    # function that indexes and generated columns may use. unaccent maps đ/Đ to d.
    op.execute(
        "CREATE FUNCTION civicdesk_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
        " RETURN lower(public.unaccent('public.unaccent'::regdictionary, $1))"
    )
    op.execute("ALTER TABLE ticket DROP COLUMN search_text")
    op.execute(
        f"ALTER TABLE ticket ADD COLUMN search_text text GENERATED ALWAYS AS (civicdesk_fold({SEARCHED}))"
        " STORED NOT NULL"
    )
    op.execute("CREATE INDEX ix_ticket_search_text_trgm ON ticket USING gin (search_text gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_ticket_search_text_trgm")
    op.execute("ALTER TABLE ticket DROP COLUMN search_text")
    op.execute("ALTER TABLE ticket ADD COLUMN search_text text NOT NULL DEFAULT ''")
    op.execute(f"UPDATE ticket SET search_text = civicdesk_fold({SEARCHED})")
    op.execute("ALTER TABLE ticket ALTER COLUMN search_text DROP DEFAULT")
    op.execute("DROP FUNCTION civicdesk_fold(text)")
    op.execute("DROP TRIGGER live_event_notify ON live_event")
    op.execute("DROP FUNCTION civicdesk_live_notify()")
