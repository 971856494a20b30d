"""Attachments: type and size checked, stored once per content hash behind the port in tickets/storage."""

from __future__ import annotations

import hashlib

import filetype
from sqlmodel import Session

from kernel.errors import Invalid
from kernel.i18n import _
from kernel.settings import get_settings
from tickets.models import Attachment
from tickets.storage import FileStore, default_store

# What citizens and staff may attach: photos, voice messages and recordings, documents.
ALLOWED_MIME_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "image/heic",
        "audio/x-wav",
        "audio/wav",
        "audio/mpeg",
        "audio/ogg",
        "audio/mp4",
        "audio/aac",
        "video/mp4",
        "application/pdf",
    }
)
OPAQUE = "application/octet-stream"
PURPOSES = frozenset({"evidence", "before", "after", "voicemail", "recording"})


def sniff_mime_type(data: bytes) -> str | None:
    kind = filetype.guess(data)
    return kind.mime if kind else None


def store_attachment(
    session: Session,
    *,
    data: bytes,
    original_name: str | None = None,
    ticket_id: int | None = None,
    message_id: int | None = None,
    purpose: str = "evidence",
    public: bool = True,
    store: FileStore | None = None,
    as_received: bool = False,
) -> Attachment:
    """Check and store a file; the content decides its type, never the name the sender gave it.

    `as_received`: a recording the city's own PBX made (a voicemail), kept whatever it holds and however
    long it is, since it may be all a caller left; private, and an unknown type is stored as opaque bytes
    (served only as a download)."""
    limit = get_settings().attachment_max_bytes
    if not data:
        raise Invalid(_("Tệp đang trống."), field="file")
    if len(data) > limit and not as_received:
        raise Invalid(
            _("Tệp nặng {size} byte; tối đa {limit} byte.", size=len(data), limit=limit), field="file"
        )
    mime_type = sniff_mime_type(data)
    if as_received:
        public = False
        mime_type = mime_type or OPAQUE
    elif mime_type not in ALLOWED_MIME_TYPES:
        raise Invalid(
            _(
                "Không nhận tệp loại {kind}; hãy gửi ảnh (JPEG, PNG, WebP), tệp âm thanh hoặc PDF.",
                kind=mime_type or "?",
            ),
            field="file",
        )
    if purpose not in PURPOSES:
        raise Invalid(
            _("Mục đích phải là một trong: {known}", known=", ".join(sorted(PURPOSES))), field="purpose"
        )
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest[:2]}/{digest}"
    store = store or default_store()
    if not store.exists(key):
        store.put(key, data)
    attachment = Attachment(
        ticket_id=ticket_id,
        message_id=message_id,
        sha256=digest,
        mime_type=mime_type,
        size_bytes=len(data),
        original_name=(original_name or "")[:255] or None,
        storage_key=key,
        purpose=purpose,
        public=public,
    )
    session.add(attachment)
    session.flush()
    return attachment
