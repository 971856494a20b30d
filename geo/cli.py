"""`civicdesk geo import FILE.geojson | fetch-osm | status`: the ward boundaries the map and the pins use."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import httpx

from geo import boundaries, codes, overpass
from kernel.db import unit_of_work


class GeoProblem(click.ClickException):
    exit_code = 2


@click.group("geo")
def geo_group() -> None:
    """Ward boundaries (ranh giới phường) for map pins and the map."""


@geo_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--licence", required=True, help="The licence the file is published under (shown on the map).")
@click.option("--attribution", required=True, help="The attribution text the licence asks for.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="The date of the GSO codes or names in it.")
def import_command(file: Path, licence: str, attribution: str, as_of: datetime | None) -> None:
    """Load FILE (a GeoJSON FeatureCollection, one feature per ward) in place of the current boundaries."""
    day = as_of.date() if as_of else None
    with unit_of_work() as session:
        try:
            found = boundaries.read_geojson(file, ward_codes=boundaries.known_wards(session), as_of=day)
        except boundaries.GeoFileError as exc:
            raise GeoProblem(f"{file}: {exc.message}") from exc
        count = boundaries.save(session, found, source=file.name, licence=licence, attribution=attribution)
    click.echo(f"ward boundaries: {count} imported from {file.name} ({licence}; {attribution})")


@geo_group.command("fetch-osm")
@click.option("--endpoint", default=overpass.DEFAULT_ENDPOINT, show_default=True, help="Overpass API URL.")
def fetch_osm_command(endpoint: str) -> None:
    """Fetch the listed OpenStreetMap relations of the wards through Overpass (needs internet)."""
    relations = codes.osm_relations()
    try:
        with httpx.Client(headers={"User-Agent": "civicdesk-geo (ward boundaries)"}) as client:
            document = overpass.fetch(client, endpoint, list(relations))
    except overpass.OverpassError as exc:
        raise GeoProblem(str(exc)) from exc
    with unit_of_work() as session:
        try:
            found = boundaries.parse_features(document, ward_codes=boundaries.known_wards(session))
        except boundaries.GeoFileError as exc:
            raise GeoProblem(f"Overpass: {exc.message}") from exc
        count = boundaries.save(
            session,
            found,
            source=f"OpenStreetMap via {endpoint}",
            licence=overpass.OSM_LICENCE,
            attribution=overpass.OSM_ATTRIBUTION,
        )
    missing = sorted(set(relations.values()) - {b.ward for b in found})
    click.echo(f"ward boundaries: {count} of {len(relations)} fetched from OpenStreetMap")
    if missing:
        click.echo(f"not returned by Overpass: {', '.join(missing)}")


@geo_group.command("status")
def status_command() -> None:
    """Which boundaries are loaded, from where, under which licence."""
    with unit_of_work() as session:
        current = boundaries.current(session)
    if current is None:
        click.echo("no ward boundaries: pins use the nearest ward centre (approximate)")
        return
    click.echo(f"{len(current.boundaries)} ward boundaries from {current.source}")
    click.echo(f"licence: {current.licence}; attribution: {current.attribution}")
    for boundary in current.boundaries:
        held = [c for c in codes.ward_codes() if c.ward == boundary.ward]
        gso = ", ".join(f"{c.gso_code} until {c.valid_to or 'now'}" for c in held) or "no GSO code"
        click.echo(f"  {boundary.ward}: GSO {gso}")
