from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image

from kernel.errors import Invalid
from kernel.settings import get_settings
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
    with pytest.raises(Invalid, match="không phải ảnh"):
        clean_photo(b"%PDF-1.4 not a picture")


def _png(width: int, height: int) -> bytes:
    """A one-bit PNG: a few hundred kilobytes on the wire however many pixels it declares."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG")
    return out.getvalue()


def test_photo_at_the_pixel_limit_is_accepted() -> None:
    limit = get_settings().image_max_pixels
    assert limit == 40_000_000
    clean = clean_photo(_png(8000, 5000))  # exactly 40 megapixels
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.size == (8000, 5000)


@pytest.mark.parametrize(
    "size",
    [(8000, 5001), (8900, 8900), (20000, 20000)],
    ids=["one-row-over", "79-megapixels-between-1x-and-2x", "400-megapixels-pillow-bomb"],
)
def test_photo_over_the_pixel_limit_is_refused_with_a_reason(size: tuple[int, int]) -> None:
    with pytest.raises(Invalid, match="megapixel") as refused:
        clean_photo(_png(*size))
    assert refused.value.status_code == 422
    assert refused.value.detail == {"field": "photos"}


def test_the_report_form_refuses_a_79_megapixel_photo_with_a_reason(client: TestClient) -> None:
    """The review's case: a 225 KB PNG of 8900×8900 pixels, refused before it is decoded."""
    bomb = _png(8900, 8900)
    assert len(bomb) < 500_000
    response = client.post(
        "/report",
        data={"text": "Ổ gà trước số 12 Trần Phú"},
        files={"photos": ("o-ga.png", bomb, "image/png")},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "quá lớn" in response.text
    assert "40 megapixel" in response.text
