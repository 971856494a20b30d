"""Shared page plumbing: templates with the translator, language cookie, client address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from civicdesk.timeutil import VN_TZ
from web.i18n import language_of, translator

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))


def _local_time(value: Any, fmt: str = "%H:%M %d/%m/%Y") -> str:
    return value.astimezone(VN_TZ).strftime(fmt) if value else ""


def _number(value: int) -> str:
    """1 234: thousands apart by a narrow no-break space, read the same in Vietnamese and English."""
    return f"{value:,}".replace(",", "\u202f")


TEMPLATES.env.filters["local"] = _local_time
TEMPLATES.env.filters["number"] = _number


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    language = language_of(request)
    response = TEMPLATES.TemplateResponse(
        request, template, {"t": translator(language), "lang": language, **context}, status_code=status_code
    )
    if request.query_params.get("lang") == language:
        response.set_cookie("lang", language, max_age=365 * 86400, samesite="lax", httponly=True)
    return response
