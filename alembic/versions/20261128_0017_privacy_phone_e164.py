"""privacy: phone identities stored in E.164

Revision ID: 0017_privacy
Revises: 0016_pgfeatures
Create Date: 2026-11-28 06:40:00

Phone identities were kept in national form ("0912345678"); they are now E.164 ("+84912345678"), the
form tickets.citizens.normalize_phone gives. A value phonenumbers cannot read as a valid number (an
old 11-digit mobile number, say) is left as it was.
"""

from collections.abc import Callable, Sequence

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision: str = "0017_privacy"
down_revision: str | None = "0016_pgfeatures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

identity = sa.table("channel_identity", sa.column("id", sa.Integer), sa.column("kind"), sa.column("value"))


def _e164(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _national(value: str) -> str | None:
    return "0" + value[3:] if value.startswith("+84") else None


def _convert(convert: Callable[[str], str | None]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(identity.c.id, identity.c.value).where(identity.c.kind == "phone")).all()
    taken = {value for _, value in rows}
    for row_id, value in rows:
        new = convert(value)
        if new and new != value and new not in taken:
            bind.execute(identity.update().where(identity.c.id == row_id).values(value=new))
            taken.add(new)


def upgrade() -> None:
    _convert(_e164)


def downgrade() -> None:
    _convert(_national)
