"""/staff/admin: users and roles, reference data, routing rules, SLA policies and calendar, channels,
reply templates, dead letters with replay, the audit log. Changes go through the admin API."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from channels import service as channel_service
from channels import templates
from kernel.timeutil import utcnow
from notifications import service as notifications
from routing import rules as routing_rules
from sla import policies
from sla import service as sla_service
from tickets import audit
from tickets.staff import Role, users_by_name
from web.deps import CredentialsDep, SessionDep
from web.i18n import language_of
from web.pages.staff.common import AdminUser, render_staff
from web.pages.staff.reference import reference_lists

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/admin", response_class=HTMLResponse)
def admin(
    request: Request, user: AdminUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    return render_staff(
        request,
        "staff/admin.html",
        user,
        credentials,
        users=users_by_name(session),
        roles=[r.value for r in Role],
        rules=routing_rules.all_rules(session),
        policies=policies.overrides(session),
        exceptions=sla_service.calendar_exceptions(session),
        reply_templates=templates.previews(session),
        reply_templates_en=templates.previews(session, language="en"),
        fallback_order=",".join(notifications.fallback_order(session)),
        notify_costs=notifications.costs(session, since=utcnow() - timedelta(days=30), until=utcnow()),
        dead_letters=channel_service.dead_letters(session, limit=100),
        outbox=channel_service.outbox_counts(session),
        audit_entries=audit.recent(session, limit=100),
        **reference_lists(session, language_of(request)),
    )
