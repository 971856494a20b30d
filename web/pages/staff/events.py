"""/staff/events: server-sent events for the staff pages (screen pops, queue and ticket changes).

Events come from the process's one LISTEN connection (kernel/live_listener.py) as they commit. A
browser that reconnects sends Last-Event-ID and first gets what it missed, read from the live-event
table; an event read there and then also notified is sent once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from kernel import live, live_listener
from kernel.live_listener import Listener
from tickets import permissions
from tickets.live_updates import TICKETS_TOPIC
from tickets.staff import User
from web.deps import CurrentUser, Engine

router = APIRouter(prefix="/staff", include_in_schema=False)

HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 600  # then the browser reconnects, and the sign-in is checked again


def topics_for(user: User) -> list[str]:
    topics = [live.agent_topic(user.id or 0), TICKETS_TOPIC]
    if permissions.can_open(user, "console") or permissions.can_open(user, "boards"):
        topics.append("queue")
    return topics


def _last_event_id(request: Request) -> int | None:
    value = request.headers.get("last-event-id", "")
    return int(value) if value.isdigit() else None


async def stream(
    listener: Listener, engine: Engine, topics: list[str], after_id: int | None
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_SECONDS
    async with listener.subscribe(topics) as subscription:
        yield "retry: 2000\n\n"
        replayed: set[int] = set()
        if after_id is not None:
            for message in await live_listener.replay(engine, topics, after_id):
                replayed.add(message.id)
                yield message.server_sent
        while loop.time() < deadline and not subscription.ended:
            batch = await subscription.next_batch(timeout=min(HEARTBEAT_SECONDS, deadline - loop.time()))
            fresh = "".join(message.server_sent for message in batch if message.id not in replayed)
            if fresh:
                yield fresh
            elif not batch and not subscription.ended:
                yield ": still here\n\n"


@router.get("/events")
async def events(request: Request, user: CurrentUser) -> StreamingResponse:
    # the generator ends when the browser goes away: Starlette cancels it on disconnect
    listener: Listener = request.app.state.live_listener
    return StreamingResponse(
        stream(listener, request.app.state.engine, topics_for(user), _last_event_id(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
