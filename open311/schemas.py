"""What the Open311 client administration answers (the GeoReport v2 endpoints keep their own wire format,
rendered as JSON or XML by ``open311.xml`` and the web layer)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from kernel.schemas import FromRow


class ClientOut(FromRow):
    """An application allowed to file reports through Open311; its key is never shown again."""

    id: int = Field(description="the client's number")
    name: str = Field(description="the application's name", examples=["Ứng dụng Đà Nẵng Smart City"])
    key_prefix: str = Field(description="the key's first 8 characters, to tell keys apart")
    requests_per_minute: int = Field(description="its rate limit", examples=[60])
    active: bool = Field(description="its key works (false once revoked)")
    created_at: datetime = Field(description="when it was created (UTC)")
    last_used_at: datetime | None = Field(description="when its key was last used (UTC)")


class NewClientOut(ClientOut):
    """A new client with its key, shown this once."""

    api_key: str = Field(description="the key to send as api_key; stored only as a hash")
