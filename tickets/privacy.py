"""What the public may see of a report: phone numbers, e-mails, long ids and recognisable names masked.

Citizens often write their own phone number or name into the report ("tôi là Nguyễn Văn An, sđt
0912 345 678"); the public status page, list and API must never show them.
"""

from __future__ import annotations

import re

PHONE_MASK = "[số điện thoại]"
EMAIL_MASK = "[email]"
ID_MASK = "[mã số]"
NAME_MASK = "[họ tên]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Vietnamese numbers however written: 0912345678, 0912 345 678, 0912.345.678, +84 912-345-678
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
# Zalo and Facebook ids, bank accounts, ID card numbers: any other run of 9 or more digits
_LONG_NUMBER = re.compile(r"(?<!\d)\d{9,}(?!\d)")

_UPPER = "A-ZÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
_LOWER = "a-zàáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
_NAME_WORD = f"[{_UPPER}][{_LOWER}]+"
_FULL_NAME = f"{_NAME_WORD}(?:\\s+{_NAME_WORD}){{1,4}}"
# A name introduced the way people introduce themselves or others.
_INTRODUCED_NAME = re.compile(
    r"(?P<cue>\b(?i:tôi là|tôi tên là|tôi tên|em là|em tên là|tên tôi là|tên là|họ tên|họ và tên|"
    r"tên|ông|bà|anh|chị|cô|chú|bác|người báo|người phản ánh)\s*:?\s+)"
    f"(?P<name>{_FULL_NAME})",
    re.UNICODE,
)


def mask_personal_data(text: str, *, known_names: list[str] | None = None) -> str:
    """The text with contact details, long ids and names replaced by neutral labels."""
    masked = _EMAIL.sub(EMAIL_MASK, text)
    masked = _PHONE.sub(PHONE_MASK, masked)
    masked = _LONG_NUMBER.sub(ID_MASK, masked)
    for name in sorted(filter(None, known_names or []), key=len, reverse=True):
        if len(name.strip()) >= 3:
            masked = re.sub(re.escape(name.strip()), NAME_MASK, masked, flags=re.IGNORECASE)
    return _INTRODUCED_NAME.sub(_mask_introduced, masked)


def _mask_introduced(match: re.Match[str]) -> str:
    name = match.group("name")
    # "anh Hai", "bà Tư" and street names after "đường" are not full names; two or more capitalised words are
    if len(name.split()) < 2:
        return match.group(0)
    return match.group("cue") + NAME_MASK


def last_digits(phone: str, count: int = 4) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[-count:]
