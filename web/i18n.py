"""Vietnamese first, with an English switch. The language comes from ?lang=, then the `lang` cookie.

The words themselves are in the gettext catalogues (kernel/locale, see kernel/i18n.py).
MESSAGES stays only as the inbox of new ``"key": {"vi": …, "en": …}`` entries written before the
catalogues existed: `python scripts/messages.py from-dicts` moves them into the .po files, and a test
fails while any is left here.
"""

from __future__ import annotations

from collections.abc import Callable

from babel import Locale, negotiate_locale
from fastapi import Request

from kernel.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalogue, gettext

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "api_language_of", "language_of", "translator"]

MESSAGES: dict[str, dict[str, str]] = {}


def _with_staff_words() -> None:
    from web.i18n_staff import STAFF_MESSAGES

    MESSAGES.update(STAFF_MESSAGES)


_with_staff_words()


def language_of(request: Request) -> str:
    """The pages' language: ?lang=, then the cookie, then Vietnamese (whatever the browser prefers)."""
    wanted = request.query_params.get("lang") or request.cookies.get("lang") or DEFAULT_LANGUAGE
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE


def api_language_of(request: Request) -> str:
    """The API's language: ?lang=, the cookie, then the client's Accept-Language, then Vietnamese."""
    wanted = request.query_params.get("lang") or request.cookies.get("lang")
    if wanted in LANGUAGES:
        return str(wanted)
    return _accepted(request.headers.get("accept-language", ""))


def _accepted(header: str) -> str:
    preferred = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",") if part.strip()]
    try:
        chosen = negotiate_locale(preferred, list(LANGUAGES), sep="_")
    except ValueError:
        return DEFAULT_LANGUAGE
    return Locale.parse(chosen).language if chosen else DEFAULT_LANGUAGE


def translator(language: str) -> Callable[[str], str]:
    def translate(key: str) -> str:
        if key not in catalogue(DEFAULT_LANGUAGE) and key in MESSAGES:  # not converted yet
            entry = MESSAGES[key]
            return entry.get(language) or entry[DEFAULT_LANGUAGE]
        return gettext(key, language)

    return translate
