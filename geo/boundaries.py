"""The operator's ward boundaries: read from a GeoJSON file (checked feature by feature), kept in
``ward_boundary`` with the set's licence and attribution, and read back for point-in-polygon."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, delete, func, select

from geo import codes
from geo.models import WardBoundary
from geo.shapes import MultiPolygon, ShapeError, as_geojson, multipolygon
from kernel.errors import Invalid
from kernel.timeutil import utcnow
from nlp.location import gazetteer
from nlp.normalise import normalise
from tickets.reference import Ward

CODE_KEYS = ("civicdesk_code", "code")
GSO_KEYS = ("gso_code", "ma_gso", "ref:gso", "ma")
OSM_KEYS = ("osm_relation_id", "@id", "osm_id")
NAME_KEYS = ("name_vi", "name", "ten")


class GeoFileError(Invalid):
    """A boundary file that cannot be imported; nothing is changed."""


@dataclass(frozen=True)
class Boundary:
    ward: str
    shape: MultiPolygon


@dataclass(frozen=True)
class BoundarySet:
    boundaries: tuple[Boundary, ...]
    licence: str
    attribution: str
    source: str


def read_geojson(path: Path, *, ward_codes: set[str], as_of: date | None = None) -> list[Boundary]:
    """Each feature of a FeatureCollection as the unit it outlines; the first problem stops the import."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise GeoFileError(f"không tìm thấy tệp {path}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeoFileError(f"tệp {path.name} không phải GeoJSON hợp lệ (UTF-8): {exc}") from exc
    return parse_features(document, ward_codes=ward_codes, as_of=as_of)


def parse_features(document: Any, *, ward_codes: set[str], as_of: date | None = None) -> list[Boundary]:
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise GeoFileError("tệp phải là một GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise GeoFileError("FeatureCollection không có đối tượng (features) nào")
    found: dict[str, Boundary] = {}
    for number, feature in enumerate(features, start=1):
        try:
            boundary = _boundary(feature, ward_codes, as_of)
        except (ShapeError, GeoFileError) as exc:
            raise GeoFileError(f"đối tượng thứ {number}: {exc}") from exc
        if boundary.ward in found:
            raise GeoFileError(f"đối tượng thứ {number}: phường {boundary.ward} đã có ranh giới trong tệp")
        found[boundary.ward] = boundary
    return list(found.values())


def _boundary(feature: Any, ward_codes: set[str], as_of: date | None) -> Boundary:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise GeoFileError("không phải một GeoJSON Feature")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise GeoFileError("properties phải là một đối tượng")
    ward = _ward_of({**properties, "@id": properties.get("@id") or feature.get("id")}, ward_codes, as_of)
    return Boundary(ward, multipolygon(feature.get("geometry")))


def _ward_of(properties: dict[str, Any], ward_codes: set[str], as_of: date | None) -> str:
    """Our code, a GSO code read on its date, an OSM relation id, or the unit's name — in that order."""
    for key in CODE_KEYS:
        if str(properties.get(key)) in ward_codes:
            return str(properties[key])
    for key in GSO_KEYS:
        if properties.get(key) not in (None, ""):
            return _by_gso(str(properties[key]), as_of)
    for key in OSM_KEYS:
        relation = _relation_id(properties.get(key))
        if relation is not None and relation in codes.osm_relations():
            return codes.osm_relations()[relation]
    for key in NAME_KEYS:
        if isinstance(properties.get(key), str):
            return _by_name(properties[key], as_of)
    raise GeoFileError("không nhận ra phường: cần code, gso_code, osm_relation_id hoặc name trong properties")


def _by_gso(gso: str, as_of: date | None) -> str:
    wards = codes.wards_with_gso(gso, as_of)
    if len(wards) == 1:
        return wards.pop()
    if not wards:
        when = f" vào ngày {as_of.isoformat()}" if as_of else ""
        raise GeoFileError(f"mã GSO {gso} không thuộc phường nào của thành phố{when}")
    raise GeoFileError(
        f"mã GSO {gso} đã dùng cho nhiều phường ({', '.join(sorted(wards))}): "
        "cho biết ngày của bộ mã bằng --as-of"
    )


def _relation_id(value: Any) -> int | None:
    text = str(value or "").removeprefix("relation/").removeprefix("r")
    return int(text) if text.isdigit() else None


def _by_name(name: str, as_of: date | None) -> str:
    key = normalise(name)
    for marker in ("phuong ", "xa ", "thi tran "):
        key = key.removeprefix(marker)
    table = gazetteer()
    candidates = list(table.names.get(key, ()))
    if as_of is not None and len(candidates) > 1:
        candidates = [
            c for c in candidates if _valid(table.units[c].valid_from, table.units[c].valid_to, as_of)
        ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise GeoFileError(f"không có phường nào tên {name!r}")
    raise GeoFileError(
        f"tên {name!r} ứng với nhiều đơn vị ({', '.join(candidates)}): cho biết ngày bằng --as-of"
    )


def _valid(start: date | None, end: date | None, day: date) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


def save(session: Session, boundaries: list[Boundary], *, source: str, licence: str, attribution: str) -> int:
    """One boundary set at a time: an import replaces the previous set, whose licence no longer applies."""
    session.exec(delete(WardBoundary))
    now = utcnow()
    for boundary in boundaries:
        session.add(
            WardBoundary(
                ward_code=boundary.ward,
                geometry=as_geojson(boundary.shape),
                source=source,
                licence=licence,
                attribution=attribution,
                imported_at=now,
            )
        )
    session.flush()
    _cache.clear()
    return len(boundaries)


_cache: dict[tuple[int, Any], BoundarySet | None] = {}


def current(session: Session) -> BoundarySet | None:
    """The imported set, read once per import (a cheap count and timestamp tell when it changed)."""
    count, latest = session.exec(
        select(func.count(), func.max(col(WardBoundary.imported_at))).select_from(WardBoundary)
    ).one()
    key = (int(count), latest)
    if key not in _cache:
        _cache.clear()
        _cache[key] = _load(session) if count else None
    return _cache[key]


def _load(session: Session) -> BoundarySet:
    rows = session.exec(select(WardBoundary).order_by(col(WardBoundary.ward_code))).all()
    return BoundarySet(
        tuple(Boundary(row.ward_code, multipolygon(row.geometry)) for row in rows),
        rows[0].licence,
        rows[0].attribution,
        rows[0].source,
    )


def known_wards(session: Session) -> set[str]:
    return set(session.exec(select(Ward.code)).all())
