"""Connector credentials at rest: sealed with a key derived from the installation's secret key
(Fernet: AES in CBC with an HMAC, from `cryptography`), so a database dump or backup alone does not
give away a city system's password or token. They are written, used by the puller, and never shown."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from kernel.errors import Invalid
from kernel.settings import get_settings

PURPOSE = b"civicdesk/ioc-connector-credentials"


def _fernet() -> Fernet:
    digest = hashlib.sha256(PURPOSE + get_settings().secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise Invalid(
            "the stored credential cannot be read (the installation's secret key changed): enter it again"
        ) from exc
