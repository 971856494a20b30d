"""Private files (staff downloads of attachments) leave as downloads, never as pages: saved, not
rendered, with the type we read from their content, pictures re-encoded, and kept by no cache."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from fastapi.responses import Response, StreamingResponse

from kernel.errors import Invalid
from tickets.models import Attachment
from tickets.photos import clean_photo, is_photo
from tickets.storage import FileStore

# Even opened in a tab by hand, nothing in the file may run or load anything.
FILE_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"
OPAQUE = "application/octet-stream"


def disposition(attachment: Attachment, mime_type: str) -> str:
    """`attachment` with an ASCII name any browser takes and the original name in RFC 5987 form."""
    extension = mimetypes.guess_extension(mime_type) or ""
    fallback = f"tep-{attachment.id}{extension}"
    original = (attachment.original_name or "").strip()
    if not original:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(original, safe='')}"


def _headers(attachment: Attachment, mime_type: str) -> dict[str, str]:
    return {
        "Content-Disposition": disposition(attachment, mime_type),
        "Cache-Control": "no-store",
        "Content-Security-Policy": FILE_POLICY,
        "X-Content-Type-Options": "nosniff",
    }


def private_file(attachment: Attachment, store: FileStore) -> Response:
    mime_type = attachment.mime_type or OPAQUE
    if not mime_type.startswith("image/"):
        return StreamingResponse(
            store.open(attachment.storage_key), media_type=mime_type, headers=_headers(attachment, mime_type)
        )
    data = store.get(attachment.storage_key)
    try:
        # what came in before photos were cleaned on upload (a JPEG/HTML polyglot, a GIF comment)
        # leaves only as the picture itself
        clean = clean_photo(data).data if is_photo(data) else None
    except Invalid:
        clean = None
    if clean is None:  # a picture we cannot re-encode (HEIC): opaque bytes, to save, never to render
        return Response(data, media_type=OPAQUE, headers=_headers(attachment, OPAQUE))
    return Response(clean, media_type=mime_type, headers=_headers(attachment, mime_type))
