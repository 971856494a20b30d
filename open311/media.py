"""A request's `media_url`: the photo is fetched once at intake, within a time and size limit, checked
and cleaned like a web upload, and stored on the ticket, so reading it back never depends on the
client's server staying up. Addresses inside our own network are refused (a client could otherwise make
us fetch from the city's internal services)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import httpx

from kernel.errors import Invalid
from kernel.settings import get_settings
from tickets.photos import CleanPhoto, clean_photo, is_photo

MAX_REDIRECTS = 3


def fetch_photo(url: str, *, transport: httpx.BaseTransport | None = None) -> CleanPhoto:
    """The photo at `url`, re-encoded without metadata; Invalid (a 400 in Open311) with the reason when
    it cannot be fetched, is too large or is not a photo."""
    settings = get_settings()
    limit = settings.attachment_max_bytes
    with httpx.Client(timeout=settings.open311_media_timeout_seconds, transport=transport) as http:
        data = _download(http, url, limit, settings.open311_media_allow_private)
    if not is_photo(data):
        raise Invalid("media_url is not a photo: send the address of a JPEG, PNG, WebP or GIF picture")
    try:
        return clean_photo(data)
    except Invalid as problem:
        raise Invalid(f"media_url: {problem.message}") from problem


def _download(http: httpx.Client, url: str, limit: int, allow_private: bool) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        _check_address(url, allow_private)
        try:
            with http.stream("GET", url, follow_redirects=False) as answer:
                if answer.is_redirect and "location" in answer.headers:
                    url = urljoin(url, answer.headers["location"])
                    continue
                if answer.status_code != 200:
                    raise Invalid(
                        f"media_url answered HTTP {answer.status_code}; give an address that serves the photo"
                    )
                return _read_at_most(answer, limit)
        except httpx.HTTPError as exc:
            raise Invalid(
                f"media_url could not be fetched ({type(exc).__name__}); check the address"
            ) from exc
    raise Invalid(f"media_url redirects more than {MAX_REDIRECTS} times")


def _read_at_most(answer: httpx.Response, limit: int) -> bytes:
    declared = answer.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Invalid(f"media_url is {int(declared)} bytes; the limit is {limit} bytes")
    data = bytearray()
    for chunk in answer.iter_bytes():
        data += chunk
        if len(data) > limit:
            raise Invalid(f"media_url is larger than the limit of {limit} bytes")
    return bytes(data)


def _check_address(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("media_url must be an http or https address")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise Invalid(f"media_url: the host {parts.hostname} cannot be found") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise Invalid("media_url points into a private network; give a public address")
