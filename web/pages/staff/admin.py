"""/staff/admin: users and roles, reference data, routing rules, SLA policies and calendar, channels,
reply templates, dead letters with replay, the audit log. Changes go through the admin API."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func
from sqlmodel import col, select

from channels import service as channel_service
from channels import templates
from channels.models import OutboundMessage
from civicdesk.timeutil import utcnow
from notifications import service as notifications
from routing.models import RoutingRule
from sla.models import CalendarException, SlaPolicy
from tickets import audit
from tickets.staff import Role, User
from web.deps import CredentialsDep, SessionDep
from web.i18n import language_of
from web.pages.staff.common import AdminUser, render_staff
from web.pages.staff.reference import reference_lists

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/admin", response_class=HTMLResponse)
def admin(
    request: Request, user: AdminUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    outbox = dict(
        session.exec(select(OutboundMessage.state, func.count()).group_by(col(OutboundMessage.state))).all()
    )
    return render_staff(
        request,
        "staff/admin.html",
        user,
        credentials,
        users=list(session.exec(select(User).order_by(User.username)).all()),
        roles=[r.value for r in Role],
        rules=list(session.exec(select(RoutingRule).order_by(col(RoutingRule.position))).all()),
        policies=list(session.exec(select(SlaPolicy).order_by(SlaPolicy.scope, SlaPolicy.code)).all()),
        exceptions=list(session.exec(select(CalendarException).order_by(col(CalendarException.day))).all()),
        reply_templates=templates.previews(session),
        reply_templates_en=templates.previews(session, language="en"),
        fallback_order=",".join(notifications.fallback_order(session)),
        notify_costs=notifications.costs(session, since=utcnow() - timedelta(days=30), until=utcnow()),
        dead_letters=channel_service.dead_letters(session, limit=100),
        outbox=outbox,
        audit_entries=audit.recent(session, limit=100),
        **reference_lists(session, language_of(request)),
    )
