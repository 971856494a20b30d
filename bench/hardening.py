"""What the hardening of issue 16 costs: the security-header middleware per response, and re-encoding a
picture on its way out of a staff download (`web/files.py`), by size."""

from __future__ import annotations

import asyncio
import io
import statistics
import time
from typing import Any

from PIL import Image

from bench.report import write_section
from tickets.photos import clean_photo
from web.headers import SecurityHeaders

RESPONSES = 50_000
SIZES = [(1600, 1200), (4000, 3000), (7300, 5400)]  # 2, 12 and 39 megapixels (the limit is 40)


async def _plain(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _per_response(app: Any) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(_: dict[str, Any]) -> None:
        return None

    started = time.perf_counter()
    for _ in range(RESPONSES):
        await app({"type": "http", "path": "/staff/console", "scheme": "https"}, receive, send)
    return (time.perf_counter() - started) / RESPONSES * 1e6


def _reencode_ms(width: int, height: int) -> tuple[int, float]:
    out = io.BytesIO()
    Image.effect_noise((width, height), 40).convert("RGB").save(out, "JPEG", quality=90)
    data = out.getvalue()
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        clean_photo(data)
        runs.append((time.perf_counter() - started) * 1000)
    return len(data), statistics.median(runs)


def main() -> None:
    bare = asyncio.run(_per_response(_plain))
    wrapped = asyncio.run(_per_response(SecurityHeaders(_plain)))
    rows = []
    for width, height in SIZES:
        size, ms = _reencode_ms(width, height)
        rows.append(
            f"| {width}×{height} ({width * height / 1e6:.0f} MP) | {size / 1024:,.0f} KiB | {ms:,.0f} ms |"
        )
    write_section(
        "hardening",
        "Hardening: security headers and re-encoded downloads",
        f"""`bench/hardening.py`. The header middleware on a bare ASGI response ({RESPONSES:,} responses,
HTTPS, a staff path): {bare:.1f} µs without, {wrapped:.1f} µs with (+{wrapped - bare:.1f} µs per response).

Re-encoding a JPEG on its way out of `GET /api/v1/attachments/{{id}}` (noise pictures, the worst case for
the encoder; median of 3):

| picture | file | re-encode |
|---|---:|---:|
{chr(10).join(rows)}""",
    )
    print(f"headers +{wrapped - bare:.1f} µs per response; " + "; ".join(rows))


if __name__ == "__main__":
    main()
