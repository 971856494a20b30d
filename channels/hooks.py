"""Citizens hear back: every ticket event passes to notifications, which decides whether it tells the
citizen (a receipt, the city's question, status changes, the resolution, public replies) and how."""

from __future__ import annotations

from notifications.service import on_event
from tickets.service import on_event_recorded

on_event_recorded(on_event)
