"""The project's own schematic map of the wards, drawn as SVG with no tile server.

We have no surveyed boundaries, so each of the 16 pre-2024 units is the Voronoi cell of its
approximate centre within the city's bounding box; today's wards are the unions of the old units
they took over. Good enough to place reports by ward; not a cadastral map (the page says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from geo.centres import city_bounds, city_centre, unit_centres
from geo.shapes import MultiPolygon
from kernel.settings import get_settings

Point = tuple[float, float]  # (x, y) = (longitude, latitude)


def _clip(polygon: list[Point], keep_closer_to: Point, other: Point) -> list[Point]:
    """Keep the part of the polygon closer to one centre than to another (one Voronoi half-plane)."""
    (ax, ay), (bx, by) = keep_closer_to, other
    nx, ny = bx - ax, by - ay
    mid = ((ax + bx) / 2, (ay + by) / 2)

    def side(p: Point) -> float:
        return (p[0] - mid[0]) * nx + (p[1] - mid[1]) * ny

    result: list[Point] = []
    for i, current in enumerate(polygon):
        previous = polygon[i - 1]
        s_cur, s_prev = side(current), side(previous)
        if s_cur <= 0:
            if s_prev > 0:
                result.append(_cross(previous, current, s_prev, s_cur))
            result.append(current)
        elif s_prev <= 0:
            result.append(_cross(previous, current, s_prev, s_cur))
    return result


def _cross(p: Point, q: Point, sp: float, sq: float) -> Point:
    t = sp / (sp - sq)
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


@cache
def voronoi_cells() -> dict[str, list[Point]]:
    """Computed once per process (it is a function of constants; a map drew it twice per /reports view,
    a sixth of the page's time): callers read the cells and never change them."""
    south, west, north, east = city_bounds()
    box: list[Point] = [(west, south), (east, south), (east, north), (west, north)]
    cells = {}
    for code, (lat, lon) in unit_centres().items():
        cell = box
        for other, (olat, olon) in unit_centres().items():
            if other != code:
                cell = _clip(cell, (lon, lat), (olon, olat))
        cells[code] = cell
    return cells


@dataclass(frozen=True)
class SvgMap:
    width: int = 640
    height: int = 600

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        south, west, north, east = city_bounds()
        x = (lon - west) / (east - west) * self.width
        y = (north - lat) / (north - south) * self.height
        return round(x, 1), round(y, 1)

    def path(self, cell: list[Point]) -> str:
        points = [self.xy(lat, lon) for lon, lat in cell]
        return "M" + " L".join(f"{x},{y}" for x, y in points) + " Z"

    def shape_path(self, shape: MultiPolygon) -> str:
        """Every ring of an imported boundary in one path; drawn with fill-rule evenodd, holes stay open."""
        return " ".join(self.path(ring) for polygon in shape for ring in polygon)


def map_frame() -> dict[str, str]:
    """What the Leaflet maps need, as the container's data-* attributes (the CSP allows no inline script):
    the tile URL template (empty: offline) and its credit, the city's centre and bounds, and where the
    ward outlines and centres are read."""
    settings = get_settings()
    south, west, north, east = city_bounds()
    return {
        "tiles": settings.map_tile_url,
        "attribution": settings.map_tile_attribution if settings.map_tile_url else "",
        "centre": "{},{}".format(*city_centre()),
        "bounds": f"{south},{west},{north},{east}",
        "boundaries": "/api/v1/geo/boundaries",
        "centres": "/api/v1/geo/centres",
    }
