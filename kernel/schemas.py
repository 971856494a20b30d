"""The base of every response shape: read from a table row or a dataclass by attribute, so a route maps a
service's result to its documented schema in one call, without a hand-written dict."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FromRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)
