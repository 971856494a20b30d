"""What a channel hands us is cleaned before it is stored: PostgreSQL refuses NUL in text, and control
characters (terminal escapes, bidi overrides aside) only hide or garble what the citizen wrote."""

from __future__ import annotations

import unicodedata

KEPT_CONTROLS = frozenset("\n\t")


def clean_text(value: str) -> str:
    """The text without NUL and other control characters; line breaks and tabs stay, CR LF becomes LF."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(char for char in value if char in KEPT_CONTROLS or unicodedata.category(char) != "Cc")
