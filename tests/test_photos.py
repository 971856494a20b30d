from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from civicdesk.errors import Invalid
from tickets.photos import clean_photo


def _jpeg_with_exif(lat: tuple[float, float, float] | None = None) -> bytes:
    image = Image.new("RGB", (40, 30), (200, 80, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.BodySerialNumber] = "SERIAL-12345"
    exif[ExifTags.Base.Artist] = "Nguyen Van An"
    if lat:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N"
        gps[ExifTags.GPS.GPSLatitude] = lat
        gps[ExifTags.GPS.GPSLongitudeRef] = "E"
        gps[ExifTags.GPS.GPSLongitude] = (108.0, 59.0, 24.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_location_is_read_and_all_exif_dropped() -> None:
    original = _jpeg_with_exif(lat=(11.0, 33.0, 54.0))
    assert b"SERIAL-12345" in original
    clean = clean_photo(original)
    assert clean.latitude == pytest.approx(11.565, abs=1e-4)
    assert clean.longitude == pytest.approx(108.99, abs=1e-4)
    assert b"SERIAL-12345" not in clean.data and b"Nguyen Van An" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as image:
        assert len(image.getexif()) == 0


def test_photo_without_location() -> None:
    clean = clean_photo(_jpeg_with_exif())
    assert (clean.latitude, clean.longitude) == (None, None)


def test_not_a_photo_is_refused() -> None:
    with pytest.raises(Invalid, match="not a photo"):
        clean_photo(b"%PDF-1.4 not a picture")
