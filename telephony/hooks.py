"""Plugs the hotline into the ticket core: a ticket filed on the phone joins the caller's recent call."""

from __future__ import annotations

from telephony import calls
from tickets.service import on_ticket_created

on_ticket_created(calls.link_recent_call)
