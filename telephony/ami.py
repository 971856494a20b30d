"""The AMI wire protocol for panoramisk, decoding UTF-8 across TCP reads.

panoramisk 1.4 decodes every chunk on its own with errors ignored, so a Vietnamese caller name split
between two reads loses its letters ('Nguyễn' → 'Nguyn'). This protocol keeps an incremental decoder and
otherwise frames packets as panoramisk does (blank-line separated `Key: Value` lines).
"""

from __future__ import annotations

import codecs
from typing import Any

from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

EOL = "\r\n"
BANNER = "Asterisk Call Manager/"


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
