"""The PBX port's real adapter: Asterisk's Manager Interface over TCP with panoramisk.

`Utf8AMIProtocol` decodes UTF-8 across TCP reads: panoramisk 1.4 decodes every chunk on its own with
errors ignored, so a Vietnamese caller name split between two reads loses its letters ('Nguyễn' → 'Nguyn').
This protocol keeps an incremental decoder and otherwise frames packets as panoramisk does (blank-line
separated `Key: Value` lines).
"""

from __future__ import annotations

import asyncio
import codecs
import logging
from collections.abc import Callable, Mapping
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from telephony.ports import Event, EventHandler

log = logging.getLogger(__name__)

EOL = "\r\n"
BANNER = "Asterisk Call Manager/"
NEVER = 10**9  # seconds: panoramisk's own ping, and reconnecting after close


class Utf8AMIProtocol(AMIProtocol):  # type: ignore[misc]
    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._buffer = ""

    def data_received(self, data: bytes) -> None:
        text = self._buffer + self._decoder.decode(data)
        if getattr(self, "version", None) is None and text.startswith(BANNER):
            banner, separator, text = text.partition(EOL)
            if not separator:
                self._buffer = banner
                return
            self.version = banner[len(BANNER) :].strip()
        *packets, self._buffer = text.split(EOL + EOL)
        for packet in packets:
            message = Message.from_line(packet.strip())
            if message is not None:
                self.handle_message(message)


class RefusingManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager, except that a refused login closes the link, so that it is reported and tried
    again later like any lost link (panoramisk would keep the useless link open, silently)."""

    def login(self, future: Any) -> bool:
        authenticated = bool(super().login(future))
        if not authenticated and self.protocol is not None:
            log.error("AMI: login refused; check CIVICDESK_AMI_USERNAME and CIVICDESK_AMI_SECRET")
            self.protocol.transport.close()
        return authenticated


class AmiPbx:
    """The PBX port over Asterisk's Manager Interface, with panoramisk. panoramisk's own ping is
    switched off: its answer is ignored, so the listener pings itself and calls `drop` on silence."""

    def __init__(self, host: str, port: int, username: str, secret: str) -> None:
        self.host, self.port, self.username, self.secret = host, port, username, secret
        self.manager: RefusingManager | None = None
        self._handlers: list[EventHandler] = []
        self._reconnect_delay = 1.0

    @property
    def reconnect_delay(self) -> float:
        return self._reconnect_delay

    @reconnect_delay.setter
    def reconnect_delay(self, seconds: float) -> None:
        self._reconnect_delay = seconds
        if self.manager is not None:
            self.manager.reconnect_timeout = seconds

    def subscribe(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    def connect(self, on_login: Callable[[], None], on_disconnect: Callable[[object], None]) -> None:
        self.manager = RefusingManager(
            host=self.host,
            port=self.port,
            username=self.username,
            secret=self.secret,
            events="on",
            ping_delay=NEVER,
            ping_interval=NEVER,
            reconnect_timeout=self._reconnect_delay,
            protocol_factory=Utf8AMIProtocol,
            on_login=lambda _manager: on_login(),
            on_disconnect=lambda _manager, exc: on_disconnect(exc),
            loop=asyncio.get_running_loop(),
        )
        self.manager.register_event("*", self._dispatch)
        self.manager.connect()

    def _dispatch(self, _manager: Manager, message: Event) -> None:
        for handler in self._handlers:
            handler(message)

    @property
    def connected(self) -> bool:
        protocol = self.manager.protocol if self.manager is not None else None
        return protocol is not None and not protocol.closed

    async def send(self, action: Mapping[str, str]) -> list[Event]:
        if self.manager is None or not self.connected:
            raise ConnectionError("no AMI link")
        answer = await self.manager.send_action(dict(action))
        return list(answer) if isinstance(answer, list) else [answer]

    def drop(self) -> None:
        if self.manager is not None and self.manager.protocol is not None:
            self.manager.protocol.transport.abort()

    def close(self) -> None:
        if self.manager is not None:
            self.manager.reconnect_timeout = NEVER
            self.manager.close()
