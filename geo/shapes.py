"""Plane geometry for ward boundaries: GeoJSON polygons and multipolygons (holes included) and the
even-odd ray-casting test. At the scale of a city, longitude and latitude are as good as a plane."""

from __future__ import annotations

from typing import Any

from kernel.distance import metres_between

Point = tuple[float, float]  # (longitude, latitude), GeoJSON's order
Ring = list[Point]
Polygon = list[Ring]  # the outer ring, then its holes
MultiPolygon = list[Polygon]


class ShapeError(ValueError):
    """A geometry that cannot be a ward boundary; the message says why, in Vietnamese."""


def in_ring(point: Point, ring: Ring) -> bool:
    """Even-odd rule: a ray to the east crosses the ring's edges an odd number of times from inside."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def in_polygon(point: Point, polygon: Polygon) -> bool:
    outer, *holes = polygon
    return in_ring(point, outer) and not any(in_ring(point, hole) for hole in holes)


def contains(shape: MultiPolygon, point: Point) -> bool:
    return any(in_polygon(point, polygon) for polygon in shape)


def metres(first: Point, second: Point) -> float:
    """Distance in metres between two (longitude, latitude) points: the kernel's, in GeoJSON's order."""
    (lon1, lat1), (lon2, lat2) = first, second
    return metres_between((lat1, lon1), (lat2, lon2))


def multipolygon(geometry: Any) -> MultiPolygon:
    """A GeoJSON Polygon or MultiPolygon geometry as a MultiPolygon, checked."""
    if not isinstance(geometry, dict):
        raise ShapeError("thiếu hình học (geometry)")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        return [_polygon(coordinates)]
    if kind == "MultiPolygon" and isinstance(coordinates, list) and coordinates:
        return [_polygon(part) for part in coordinates]
    raise ShapeError(f"hình học phải là Polygon hoặc MultiPolygon, không phải {kind!r}")


def _polygon(rings: Any) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise ShapeError("đa giác không có vòng biên nào")
    return [_ring(ring) for ring in rings]


def _ring(ring: Any) -> Ring:
    if not isinstance(ring, list) or len(ring) < 4:
        raise ShapeError("vòng biên cần ít nhất 4 điểm (điểm đầu lặp lại ở cuối)")
    points = [_point(p) for p in ring]
    if points[0] != points[-1]:
        raise ShapeError("vòng biên không khép kín (điểm cuối phải trùng điểm đầu)")
    return points[:-1]


def _point(value: Any) -> Point:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise ShapeError("toạ độ phải là [kinh độ, vĩ độ]")
    lon, lat = value[0], value[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        raise ShapeError("toạ độ phải là số")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ShapeError(f"toạ độ ngoài phạm vi: [{lon}, {lat}]")
    return float(lon), float(lat)


def as_geojson(shape: MultiPolygon) -> dict[str, Any]:
    return {
        "type": "MultiPolygon",
        "coordinates": [[[*map(list, ring), list(ring[0])] for ring in polygon] for polygon in shape],
    }
