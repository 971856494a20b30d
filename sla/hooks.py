"""Plugs the SLA clocks into the ticket core's life cycle."""

from __future__ import annotations

from sla import service
from tickets.service import on_event_recorded, on_status_changed, on_ticket_created

on_ticket_created(service.ticket_created)
on_status_changed(service.status_changed)
on_event_recorded(service.event_recorded)
