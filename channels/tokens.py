"""Zalo's access token, refreshed before it expires. The refresh token works once, so the pair lives in
the database and a refresh happens under a row lock held for the whole HTTP exchange: a second worker
waits, then finds the new pair and uses it instead of refreshing with a spent token."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from channels import zalo
from channels.models import ChannelToken
from kernel.db import unit_of_work
from kernel.errors import Conflict
from kernel.i18n import _
from kernel.settings import get_settings
from kernel.timeutil import utcnow

EARLY = timedelta(minutes=10)


def store_pair(session: Session, access_token: str, refresh_token: str, expires_in_seconds: int) -> None:
    """An administrator's first authorisation (or a re-authorisation after a lock-out)."""
    row = session.get(ChannelToken, zalo.CHANNEL) or ChannelToken(
        channel=zalo.CHANNEL, access_token="", refresh_token="", expires_at=utcnow()
    )
    row.access_token, row.refresh_token = access_token, refresh_token
    row.expires_at = utcnow() + timedelta(seconds=expires_in_seconds)
    row.updated_at = utcnow()
    session.add(row)


def access_token(engine: Engine | None, http: httpx.Client, *, force: bool = False) -> str:
    """A valid access token; refreshes when it is about to expire, or when ``force`` (Zalo said -216)."""
    with unit_of_work(engine) as session:
        row = session.get(ChannelToken, zalo.CHANNEL)
        if row is None:
            raise Conflict(_("Zalo chưa được cấp quyền: quản trị viên cần lưu cặp mã truy cập của OA."))
        if not force and row.expires_at - EARLY > utcnow():
            return row.access_token
    seen = row.access_token
    with unit_of_work(engine) as session:
        locked = session.get(ChannelToken, zalo.CHANNEL, with_for_update=True)
        assert locked is not None
        if locked.access_token != seen and locked.expires_at - EARLY > utcnow():
            return locked.access_token  # another worker refreshed while this one waited for the lock
        settings = get_settings()
        new_access, new_refresh, expires_at = zalo.refresh_pair(
            http,
            settings.zalo_oauth_base,
            app_id=settings.zalo_app_id,
            app_secret=settings.zalo_app_secret,
            refresh_token=locked.refresh_token,
        )  # a ZaloError leaves the stored pair as it was
        locked.access_token, locked.refresh_token, locked.expires_at = new_access, new_refresh, expires_at
        locked.updated_at = utcnow()
        return new_access
