"""Optional error tracking by DSN (Sentry or a compatible server such as GlitchTip).

Nothing is sent about the people who write to the city: no default PII, no request bodies, no local
variables, and phone numbers, e-mails and long ids masked in every message that leaves.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration

from kernel.settings import Settings, get_settings
from tickets.privacy import mask_personal_data

_DROPPED_REQUEST_PARTS = ("data", "cookies", "query_string", "env")


def init_error_tracking(component: str, settings: Settings | None = None) -> bool:
    """Start reporting unhandled errors when ``CIVICDESK_SENTRY_DSN`` is set; True when it did."""
    settings = settings or get_settings()
    if not settings.sentry_dsn:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment,
        # send_default_pii is left at its default, False (newer SDKs warn when it is passed at all)
        max_request_body_size="never",
        include_local_variables=False,
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        integrations=[StarletteIntegration(), FastApiIntegration(), CeleryIntegration()],
    )
    sentry_sdk.set_tag("component", component)
    return True


def scrub_event(event: Any, _hint: Any) -> Any:
    request = event.get("request") or {}
    for part in _DROPPED_REQUEST_PARTS:
        request.pop(part, None)
    if "url" in request:
        request["url"] = mask_personal_data(str(request["url"]))
    for exception in (event.get("exception") or {}).get("values") or []:
        if exception.get("value"):
            exception["value"] = mask_personal_data(str(exception["value"]))
    message = event.get("logentry") or {}
    for key in ("message", "formatted"):
        if message.get(key):
            message[key] = mask_personal_data(str(message[key]))
    message.pop("params", None)
    for breadcrumb in (event.get("breadcrumbs") or {}).get("values") or []:
        scrub_breadcrumb(breadcrumb, None)
    return event


def scrub_breadcrumb(crumb: Any, _hint: Any) -> Any:
    if crumb.get("message"):
        crumb["message"] = mask_personal_data(str(crumb["message"]))
    crumb.pop("data", None)
    return crumb
