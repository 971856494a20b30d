"""/staff/admin/city: the city profile in force (kernel/city.py) and the file it was read from, so an
administrator can see what the system believes about the city without reading TOML. Read-only: the
profile is a file the operator deploys (checked by `civicdesk check-profile`), not a table."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kernel import city
from web.deps import CredentialsDep, SessionDep
from web.i18n import language_of
from web.pages.staff.common import AdminUser, render_staff
from web.pages.staff.reference import reference_lists

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/admin/city", response_class=HTMLResponse)
def city_admin(
    request: Request, user: AdminUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    path = city.profile_path()
    return render_staff(
        request,
        "staff/admin_city.html",
        user,
        credentials,
        profile=city.city_profile(),
        source=path.resolve(),
        shipped=path == city.SHIPPED_PROFILE,
        in_force=in_force(),
        **reference_lists(session, language_of(request)),
    )


def in_force() -> dict[str, tuple[object, bool]]:
    """The facts a setting may override: the value used, and whether a setting (not the profile) set it."""
    profile = city.city_profile()
    values: dict[str, tuple[object, object]] = {
        "timezone": (city.timezone_name(), profile.timezone),
        "hotline": (city.hotline_display(), profile.hotline_display),
        "confidence_threshold": (city.confidence_threshold(), profile.routing.confidence_threshold),
        "sensitive_threshold": (city.sensitive_threshold(), profile.routing.sensitive_threshold),
        "sensitive_departments": (
            sorted(city.sensitive_departments()),
            sorted(profile.routing.sensitive_departments),
        ),
    }
    return {name: (used, used != own) for name, (used, own) in values.items()}
