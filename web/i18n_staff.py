"""The staff pages' words, Vietnamese first. Merged into ``web.i18n.MESSAGES``."""

from __future__ import annotations

STAFF_MESSAGES: dict[str, dict[str, str]] = {}
