"""Plugs the hotline into the ticket core: a ticket filed on the phone joins the caller's recent call,
and a caller's calls follow them when two records of one person are merged (and back on undo)."""

from __future__ import annotations

from telephony import calls
from telephony.models import Call
from tickets.merges import follows_citizen
from tickets.service import on_ticket_created

on_ticket_created(calls.link_recent_call)
follows_citizen(Call)
