"""/staff/events: server-sent events for the staff pages (screen pops, queue and ticket changes).

Reads the committed live-event log (civicdesk/live.py) every half second. On PostgreSQL ids can
commit out of order, so each read also looks a few seconds back and skips what was already sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session

from civicdesk import live
from civicdesk.db import unit_of_work
from civicdesk.timeutil import utcnow
from tickets import permissions
from tickets.hooks import TICKETS_TOPIC
from tickets.staff import User
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/staff", include_in_schema=False)

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15
STREAM_SECONDS = 600  # then the browser reconnects, and the sign-in is checked again
LOOK_BACK = timedelta(seconds=5)


def topics_for(user: User) -> list[str]:
    topics = [live.agent_topic(user.id or 0), TICKETS_TOPIC]
    if permissions.can_open(user, "console") or permissions.can_open(user, "boards"):
        topics.append("queue")
    return topics


def _read(engine: Engine, topics: list[str], after_id: int) -> list[live.LiveEvent]:
    with unit_of_work(engine) as session:
        return live.read_since(session, topics, after_id, limit=200, also_since=utcnow() - LOOK_BACK)


def _start_id(session: Session, last_event_id: str | None) -> int:
    if last_event_id and last_event_id.isdigit():
        return int(last_event_id)
    return live.latest_id(session)


async def stream(request: Request, engine: Engine, topics: list[str], after_id: int) -> AsyncIterator[str]:
    sent: dict[int, float] = {}
    loop = asyncio.get_running_loop()
    started = last_beat = loop.time()
    yield "retry: 2000\n\n"
    while not await request.is_disconnected() and loop.time() - started < STREAM_SECONDS:
        for event in await run_in_threadpool(_read, engine, topics, after_id):
            event_id = event.id or 0
            if event_id in sent:
                continue
            sent[event_id] = loop.time()
            after_id = max(after_id, event_id)
            yield f"id: {after_id}\nevent: {event.kind}\ndata: {json.dumps(event.payload)}\n\n"
        if loop.time() - last_beat >= HEARTBEAT_SECONDS:
            last_beat = loop.time()
            yield ": still here\n\n"
        for event_id in [i for i, at in sent.items() if loop.time() - at > 2 * LOOK_BACK.total_seconds()]:
            del sent[event_id]
        await asyncio.sleep(POLL_SECONDS)


@router.get("/events")
def events(request: Request, user: CurrentUser, session: SessionDep) -> StreamingResponse:
    # the request's own session reads the start position: no second connection for one read
    engine: Engine = request.app.state.engine
    start = _start_id(session, request.headers.get("last-event-id"))
    return StreamingResponse(
        stream(request, engine, topics_for(user), start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
