"""Ward boundaries from OpenStreetMap through the Overpass API (`relation(id:…);out geom;`, JSON output),
turned into a GeoJSON FeatureCollection: each relation's member ways joined into closed rings, inner rings
placed in the outer ring that holds them. OSM data is ODbL: the attribution goes with it."""

from __future__ import annotations

from typing import Any

import httpx

from geo.shapes import Point, Ring, in_ring

DEFAULT_ENDPOINT = "https://overpass-api.de/api/interpreter"
OSM_LICENCE = "Open Database License (ODbL) 1.0"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
TIMEOUT_SECONDS = 90


class OverpassError(RuntimeError):
    """Overpass could not give the boundaries; the message says why, in Vietnamese."""


def query(relation_ids: list[int]) -> str:
    ids = ",".join(str(i) for i in sorted(relation_ids))
    return f"[out:json][timeout:{TIMEOUT_SECONDS}];relation(id:{ids});out geom;"


def fetch(client: httpx.Client, endpoint: str, relation_ids: list[int]) -> dict[str, Any]:
    try:
        response = client.post(endpoint, data={"data": query(relation_ids)}, timeout=TIMEOUT_SECONDS + 30)
    except httpx.HTTPError as exc:
        raise OverpassError(f"không kết nối được Overpass ({endpoint}): {exc}") from exc
    if response.status_code == 429:
        raise OverpassError("Overpass đang quá tải (429 Too Many Requests): thử lại sau ít phút")
    if response.status_code != 200:
        raise OverpassError(f"Overpass trả lời {response.status_code}: {response.text[:200]}")
    try:
        document = response.json()
    except ValueError as exc:
        raise OverpassError("Overpass không trả về JSON") from exc
    if document.get("remark"):  # a timeout or memory error arrives as 200 with a remark
        raise OverpassError(f"Overpass báo lỗi: {document['remark']}")
    return feature_collection(document)


def feature_collection(document: dict[str, Any]) -> dict[str, Any]:
    features = [
        _feature(element) for element in document.get("elements", []) if element.get("type") == "relation"
    ]
    if not features:
        raise OverpassError("Overpass không trả về quan hệ (relation) nào")
    return {"type": "FeatureCollection", "features": features}


def _feature(relation: dict[str, Any]) -> dict[str, Any]:
    ident = relation["id"]
    ways: dict[str, list[list[Point]]] = {"outer": [], "inner": []}
    for member in relation.get("members", []):
        if member.get("type") == "way" and member.get("role") in ways and member.get("geometry"):
            ways[member["role"]].append([(p["lon"], p["lat"]) for p in member["geometry"] if p])
    outers = _rings(ways["outer"], ident)
    if not outers:
        raise OverpassError(f"quan hệ {ident} không có đường biên ngoài (outer)")
    polygons: list[list[Ring]] = [[outer] for outer in outers]
    for inner in _rings(ways["inner"], ident):
        holder = next((p for p in polygons if in_ring(inner[0], p[0])), None)
        if holder is not None:
            holder.append(inner)
    return {
        "type": "Feature",
        "id": f"relation/{ident}",
        "properties": {"osm_relation_id": ident, "name": relation.get("tags", {}).get("name")},
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[[list(p) for p in ring] for ring in polygon] for polygon in polygons],
        },
    }


def _rings(ways: list[list[Point]], ident: int) -> list[Ring]:
    """Join ways end to end (either direction) until each ring closes."""
    pending = [way for way in ways if len(way) >= 2]
    rings: list[Ring] = []
    while pending:
        ring = list(pending.pop(0))
        while ring[0] != ring[-1]:
            joined = _next_way(pending, ring[-1])
            if joined is None:
                raise OverpassError(f"quan hệ {ident}: đường biên không khép kín")
            ring.extend(joined[1:])
        rings.append(ring)
    return rings


def _next_way(pending: list[list[Point]], end: Point) -> list[Point] | None:
    for index, way in enumerate(pending):
        if way[0] == end:
            return pending.pop(index)
        if way[-1] == end:
            return list(reversed(pending.pop(index)))
    return None
