"""A fake Overpass API speaking its wire format: POST /api/interpreter with the query in the form field
``data``; the answer is Overpass JSON (version, generator, osm3s, elements) where ``out geom`` puts each
member way's geometry on the relation. Unknown syntax gets 400 with an HTML error page, as Overpass does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

QUERY = re.compile(r"^\[out:json\]\[timeout:\d+\];relation\(id:([\d,]+)\);out geom;$")


@dataclass
class OverpassState:
    relations: dict[int, dict[str, Any]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    busy: bool = False


def way(role: str, *points: tuple[float, float]) -> dict[str, Any]:
    """A relation member as ``out geom`` writes it; points are (lon, lat)."""
    return {
        "type": "way",
        "ref": abs(hash(points)) % 10**9,
        "role": role,
        "geometry": [{"lat": lat, "lon": lon} for lon, lat in points],
    }


def relation(ident: int, name: str, *members: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "relation",
        "id": ident,
        "members": [*members, {"type": "node", "ref": 1, "role": "admin_centre", "lat": 0.0, "lon": 0.0}],
        "tags": {"admin_level": "6", "boundary": "administrative", "name": name, "type": "boundary"},
    }


def build_app(state: OverpassState) -> Starlette:
    async def interpreter(request: Request) -> Response:
        form = await request.form()
        text = str(form.get("data", ""))
        state.queries.append(text)
        if state.busy:
            return HTMLResponse("<p>Too many requests</p>", status_code=429)
        match = QUERY.match(text)
        if match is None:
            return HTMLResponse("<p><strong>Error</strong>: line 1: parse error</p>", status_code=400)
        wanted = [int(i) for i in match.group(1).split(",")]
        return JSONResponse(
            {
                "version": 0.6,
                "generator": "Overpass API 0.7.62 (fake)",
                "osm3s": {"timestamp_osm_base": "2026-11-28T08:00:00Z", "copyright": "ODbL"},
                "elements": [state.relations[i] for i in wanted if i in state.relations],
            }
        )

    return Starlette(routes=[Route("/api/interpreter", interpreter, methods=["POST"])])
