"""The PBX port: what the telephony listener needs from a PBX, whichever one is behind it.

A PBX link logs in, delivers the PBX's events (AMI events as ``Key: Value`` mappings) to whoever
subscribed, answers an action with its response and, for list actions (``EventList: start`` … ``…Complete``)
and ``Originate`` with ``Async``, the events that complete it, and reconnects by itself after the link drops,
after ``reconnect_delay`` seconds. Two adapters implement it (`telephony.adapters`): Asterisk over AMI
(panoramisk) and the simulated PBX in process; `pbx_for(settings)` picks one by ``CIVICDESK_PBX_MODE``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

Event = Mapping[str, str]
EventHandler = Callable[[Event], None]


class Pbx(Protocol):
    reconnect_delay: float  # seconds before the next attempt after the link drops

    def subscribe(self, handler: EventHandler) -> None:
        """Call ``handler`` with every event that does not answer an action of ours."""

    def connect(self, on_login: Callable[[], None], on_disconnect: Callable[[object], None]) -> None:
        """Start connecting from the running event loop; ``on_login`` after every successful login,
        ``on_disconnect(reason)`` after every lost link (not after `close`). A refused login closes the
        link: ``on_disconnect`` again, and another try after ``reconnect_delay``."""

    @property
    def connected(self) -> bool:
        """Whether a link is up now (logged in or logging in)."""

    async def send(self, action: Mapping[str, str]) -> list[Event]:
        """The action's response, then the events that complete it; waits as long as the PBX takes
        (the caller bounds it with a timeout). OSError when there is no link."""

    def drop(self) -> None:
        """Cut the link at once (it stopped answering): it reconnects as after any lost link."""

    def close(self) -> None:
        """Log off for good: no reconnecting, no `on_disconnect`."""
