"""Errors on the people's pages become pages in their language, not JSON; the API keeps JSON."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse

from kernel.i18n import localize
from web.i18n import language_of, translator
from web.pages.common import render

JSON_PREFIXES = ("/api/", "/docs", "/openapi.json", "/redoc", "/webhooks/", "/open311/")
STAFF_PREFIX = "/staff"


def wants_page(request: Request) -> bool:
    return not request.url.path.startswith(JSON_PREFIXES)


def page_for(request: Request, status_code: int, message: str) -> HTMLResponse:
    language = language_of(request)
    t = translator(language)
    message = localize(message, language)
    if status_code == 404:
        # the same plain answer for a made-up, expired or mistyped link: nothing to learn from it
        title, message = t("not_found_title"), t("not_found")
    elif status_code == 429:
        title, message = t("too_many_title"), t("too_many")
    else:
        title = t("problem_title")
    return _error_page(request, status_code, title, message)


def invalid_form_page(request: Request, exc: RequestValidationError) -> HTMLResponse:
    t = translator(language_of(request))
    fields = sorted({str(error["loc"][-1]) for error in exc.errors() if error.get("loc")})
    message = t("invalid_fields") + " " + ", ".join(_field_label(t, name) for name in fields)
    return _error_page(request, 400, t("problem_title"), message)


def _field_label(t: Callable[[str], str], name: str) -> str:
    """A field's name for people; a field without a label is "an entry", never its code."""
    label = t("field_" + name)
    return t("field_unknown") if label == "field_" + name else label


def _error_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    """Staff keep their own layout (and a way back to the page they were on); citizens keep theirs."""
    if request.url.path.startswith(STAFF_PREFIX):
        return render(
            request,
            "staff/error.html",
            status_code=status_code,
            title=title,
            message=message,
            back=request.url.path if status_code in (400, 422) else None,
        )
    return render(request, "public/error.html", status_code=status_code, title=title, message=message)
