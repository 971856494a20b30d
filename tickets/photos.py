"""Citizens' photos: the location is read from EXIF when present, then every EXIF field is dropped
(camera serial numbers, owner names and timestamps must not be published)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from kernel.errors import Invalid
from kernel.i18n import _
from kernel.settings import get_settings

SAVE_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "GIF"}
# What of the decoder's info the new file may keep: Pillow writes back JPEG and GIF comments, ICC and
# XMP from `info`, which is where an HTML/script payload of a polyglot file lives.
KEPT_INFO = ("transparency",)


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    latitude: float | None
    longitude: float | None


def _degrees(value: tuple[float, float, float], ref: str) -> float:
    degrees, minutes, seconds = (float(part) for part in value)
    sign = -1 if ref in ("S", "W") else 1
    return sign * (degrees + minutes / 60 + seconds / 3600)


def exif_location(image: Image.Image) -> tuple[float, float] | None:
    gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    try:
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef, "N"))
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef, "E"))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return round(lat, 6), round(lon, 6)


def _refuse_too_many_pixels(image: Image.Image, limit: int) -> None:
    """Pillow only refuses a decompression bomb at twice its MAX_IMAGE_PIXELS (and merely warns in
    between), so the exact limit is checked here, on the size the header declares, before decoding."""
    width, height = image.size
    if width * height > limit:
        raise Invalid(
            _(
                "Ảnh {width}×{height} điểm ảnh ({megapixels} megapixel) quá lớn; tối đa {limit} megapixel.",
                width=width,
                height=height,
                megapixels=format(width * height / 1e6, ".1f"),
                limit=format(limit / 1e6, "g"),
            ),
            field="photos",
        )


def clean_photo(data: bytes) -> CleanPhoto:
    """Re-encode the picture upright and without metadata; say where it was taken if it knows."""
    limit = get_settings().image_max_pixels
    Image.MAX_IMAGE_PIXELS = limit  # a second guard, for any frame the header did not describe
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = SAVE_FORMATS.get(image.format or "")
            if fmt is None:
                raise Invalid(
                    _("Ảnh phải là JPEG, PNG, WebP hoặc GIF, không phải {kind}.", kind=image.format),
                    field="photos",
                    reason="not_a_photo",
                )
            _refuse_too_many_pixels(image, limit)
            location = exif_location(image)
            upright = ImageOps.exif_transpose(image)
            if fmt == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            upright = upright.copy()  # never the decoder's own info dict, which we empty next
            upright.info = {key: upright.info[key] for key in KEPT_INFO if key in upright.info}
            out = io.BytesIO()
            upright.save(out, format=fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    # Pillow's own check on opening: an error at twice its limit, a warning (an error under -W error) above it
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Invalid(
            _("Ảnh quá lớn; tối đa {limit} megapixel.", limit=format(limit / 1e6, "g")), field="photos"
        ) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise Invalid(
            _("Tệp này không phải ảnh đọc được; hãy gửi ảnh JPEG hoặc PNG."),
            field="photos",
            reason="not_a_photo",
        ) from exc
    lat, lon = location if location else (None, None)
    return CleanPhoto(out.getvalue(), lat, lon)


def is_photo(data: bytes) -> bool:
    return (
        data[:3] == b"\xff\xd8\xff"
        or data[:8] == b"\x89PNG\r\n\x1a\n"
        or data[8:12] == b"WEBP"
        or data[:6] in (b"GIF87a", b"GIF89a")
    )


def without_metadata(data: bytes) -> bytes:
    """A staff photo meant for the public loses its EXIF too; other files pass as they are."""
    return clean_photo(data).data if is_photo(data) else data
