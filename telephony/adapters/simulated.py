"""The PBX port's simulated adapter: the listener is a client of the simulated PBX's model
(`telephony.simulator.PbxModel`) in the same process, with no socket. The model plays the same event
sequences and gives the same answers as it does over TCP to the AMI adapter (`AmiPeer`); only the
transport differs. Answers are matched to actions by ActionID as panoramisk matches them: a list action
until its ``…Complete`` event, an ``Originate`` with ``Async`` until its ``OriginateResponse``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from telephony.ports import Event, EventHandler
from telephony.simulator import Packet, PbxModel

log = logging.getLogger(__name__)

FINAL_RESPONSES = {"Success", "Error", "Fail", "Failure"}


class _Answer:
    """The messages that answer one action, gathered until the action is complete."""

    def __init__(self, action: Mapping[str, str]) -> None:
        self.action = action
        self.messages: list[Event] = []
        self.future: asyncio.Future[list[Event]] = asyncio.get_running_loop().create_future()

    def _multi(self) -> bool:
        first = self.messages[0]
        message = first.get("Message", "").lower()
        return (
            first.get("EventList") == "start"
            or "will follow" in message
            or (message.endswith("successfully queued") and self.action.get("Async", "false") != "false")
        )

    def add(self, message: Event) -> None:
        self.messages.append(message)
        if self.future.done():
            return
        if not self._multi():
            self.future.set_result(self.messages)
        elif len(self.messages) > 1 and (
            message.get("Event", "").endswith("Complete") or message.get("Response") in FINAL_RESPONSES
        ):
            self.future.set_result(self.messages)

    @property
    def done(self) -> bool:
        return self.future.done()


class _Link:
    """One login to the model: it delivers the model's packets to the adapter as dicts."""

    def __init__(self, pbx: SimulatedPbx) -> None:
        self.pbx = pbx
        self.logged_in = False
        self.closed = False

    def deliver(self, packet: Packet) -> None:
        if not self.closed:
            self.pbx.receive(dict(packet))

    async def drain(self) -> None:
        if self.closed:
            raise ConnectionResetError("the simulated link is closed")

    def abort(self) -> None:
        if not self.closed:
            self.closed = True
            self.pbx.lost(self)

    def hang_up(self) -> None:
        self.abort()


class SimulatedPbx:
    """The PBX port on a `PbxModel` in this process: log in, hear its events, send it actions."""

    def __init__(self, model: PbxModel, username: str = "civicdesk", secret: str = "s3cret") -> None:  # noqa: S107
        self.model, self.username, self.secret = model, username, secret
        self.reconnect_delay = 1.0
        self._handlers: list[EventHandler] = []
        self._answers: dict[str, _Answer] = {}
        self._ids = itertools.count(1)
        self._link: _Link | None = None
        self._on_login: Callable[[], None] = lambda: None
        self._on_disconnect: Callable[[object], None] = lambda _reason: None
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    def connect(self, on_login: Callable[[], None], on_disconnect: Callable[[object], None]) -> None:
        self._on_login, self._on_disconnect = on_login, on_disconnect
        self._closing = False
        self._spawn(self._log_in())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _log_in(self) -> None:
        if self._closing:
            return
        link = self._link = _Link(self)
        self.model.clients.append(link)
        answer = await self.send({"Action": "Login", "Username": self.username, "Secret": self.secret})
        if link.closed:
            return
        if answer[0].get("Response") == "Success":
            self._on_login()
        else:  # as the AMI adapter does with a refused login: the link closes, the next try comes later
            log.error("simulated PBX: login refused; check CIVICDESK_AMI_USERNAME and CIVICDESK_AMI_SECRET")
            self.model.clients.remove(link)
            link.abort()

    @property
    def connected(self) -> bool:
        return self._link is not None and not self._link.closed

    async def send(self, action: Mapping[str, str]) -> list[Event]:
        link = self._link
        if link is None or link.closed:
            raise ConnectionError("no link to the simulated PBX")
        request = dict(action)
        request.setdefault("ActionID", f"simulated-{next(self._ids)}")
        answer = self._answers[request["ActionID"]] = _Answer(request)
        await self.model.respond(link, request)
        return await answer.future

    def receive(self, message: Event) -> None:
        answer = self._answers.get(message.get("ActionID", ""))
        if answer is not None and not answer.done:
            answer.add(message)
            if answer.done:
                self._answers.pop(message["ActionID"], None)
            return
        if "Event" in message:
            for handler in self._handlers:
                handler(message)

    def lost(self, link: _Link) -> None:
        if link is not self._link:
            return
        if link in self.model.clients:
            self.model.clients.remove(link)
        self._answers.clear()  # as over TCP, what was asked on a lost link is never answered
        if self._closing:
            return
        loop = asyncio.get_running_loop()
        loop.call_soon(self._on_disconnect, None)
        loop.call_later(self.reconnect_delay, lambda: self._spawn(self._log_in()))

    def drop(self) -> None:
        if self._link is not None:
            self._link.abort()

    def close(self) -> None:
        self._closing = True
        if self._link is not None:
            self._link.abort()
