"""Every table, imported once so that the metadata Alembic compares against is complete."""

from __future__ import annotations

from sqlalchemy import MetaData

import channels.models
import geo.models
import incidents.models
import ioc.models
import kernel.live
import kernel.observability.models
import kernel.ratelimit
import open311.models
import routing.models
import sla.models
import telephony.models
import tickets.audit
import tickets.models
import tickets.reference
import tickets.staff
from kernel.db import metadata

MODEL_MODULES = [
    tickets.models,
    tickets.reference,
    tickets.staff,
    tickets.audit,
    kernel.ratelimit,
    kernel.live,
    kernel.observability.models,
    sla.models,
    routing.models,
    channels.models,
    open311.models,
    ioc.models,
    incidents.models,
    telephony.models,
    geo.models,
]


def all_metadata() -> MetaData:
    return metadata
