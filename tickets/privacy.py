"""What the public may see of a report: phone numbers, e-mails, ID numbers and people's names masked.

Citizens write their own contact details and names into reports in every notation ("tôi là nguyen van
an, sđt (+84) 912-345-678, email an [at] gmail [dot] com"); the public status page, list, JSON and
Open311 must never show them. Phone numbers are found by ``phonenumbers``' matcher, e-mails and ID
numbers by patterns that allow the usual obfuscations and groupings, names by the citizen's known names,
cue phrases ("Họ tên:", "Người gửi:", "tôi là") and a family-name + given-name detector that leaves
street and place names ("đường Trần Phú", "Lê Lợi") readable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneNumberType

import nlp
from nlp.corpus import load_units
from nlp.text import fold

PHONE_MASK = "[số điện thoại]"
EMAIL_MASK = "[email]"
ID_MASK = "[mã số]"
NAME_MASK = "[họ tên]"

DATA = Path(__file__).parent / "data"
STREETS_FILE = Path(nlp.__file__).parent / "data" / "streets.txt"
REGION = "VN"
# Service numbers (1800 free, 1900 shared cost) belong to businesses and offices, not to people.
PUBLIC_NUMBER_TYPES = {PhoneNumberType.TOLL_FREE, PhoneNumberType.SHARED_COST, PhoneNumberType.PREMIUM_RATE}
MIN_ID_DIGITS = 9  # CMND has 9 digits, CCCD 12; Zalo ids and bank accounts are longer

_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
_AT_WORD = r"(?:at|a\s?còng|a\s?cong|@)"
_DOT_WORD = r"(?:dot|chấm|cham|\.)"
_AT = rf"(?:\s*[@＠﹫]\s*|\s*{_OPEN}\s*{_AT_WORD}\s*{_CLOSE}\s*|\s+{_AT_WORD}\s+)"
_DOT = rf"(?:[.．。]|\s+[.．。]\s+|\s*{_OPEN}\s*{_DOT_WORD}\s*{_CLOSE}\s*|\s+{_DOT_WORD}\s+)"
_LABEL = r"[A-Za-z0-9\-]+(?!\w)"  # a domain label is ASCII: "gmail. Cảm ơn" does not continue it
_EMAIL = re.compile(rf"[\w+\-]+(?:[.．][\w+\-]+)*{_AT}{_LABEL}(?:{_DOT}{_LABEL})+", re.IGNORECASE)
# digits in any grouping: "001 203 004 567", "001.203.004.567", "0012-0300-4567", "0 0 1 2 ..."
# a ticket code (PR-2026-000123) is public: it is matched first and kept as it is
_DIGIT_RUN = re.compile(
    r"(?P<code>\b[A-Z]{2,5}-\d{4}-\d{4,})|(?<!\d)\d(?:(?:[ \t]{1,2}|[ \t]?[.\-][ \t]?)?\d)*(?!\d)"
)
_MONEY_AFTER = re.compile(r"\s?(?:đồng|đ\b|vnđ|vnd|triệu|tỷ)", re.IGNORECASE)  # "15.000.000.000 đồng"
_WORD = re.compile(r"[^\W\d_]+")

# Cues, folded. A label announces a name whatever follows; a self-introduction needs a name-like word
# next; an honorific ("ông", "chị") needs a full name (family name first), so "bà Tư" stays.
LABEL_CUES = (  # written as a form field: "Họ tên: ...", "Người gửi - ..."
    "ho va ten",
    "ho ten",
    "ten toi",
    "ten",
    "nguoi gui",
    "nguoi phan anh",
    "nguoi bao",
    "nguoi lien he",
    "lien he",
    "nguoi ky",
    "ky ten",
)
NAMING_CUES = (
    "ten toi la",
    "toi ten la",
    "em ten la",
    "minh ten la",
    "ten la",
    "toi ten",
    "em ten",
    "minh ten",
)
SELF_CUES = ("toi la", "em la", "minh la", "chau la", "con la")
HONORIFIC_CUES = ("ong", "ba", "anh", "chi", "co", "chu", "bac", "em", "chau", "cu")
# a name after these is a place or a business: "đường Lê Lợi", "trường Lê Quý Đôn", "P. Đạo Long",
# "công ty Hoàng Long", "tiệm vàng Kim Thành" (the word before the name; "vàng" is not one of them)
_PLACE_CUES = """
    đường đ phố hẻm kiệt ngõ ngách trường chợ cầu phường p xã quận q huyện tỉnh tp khu kp thôn ấp bến đền
    chùa lăng tượng đài sân kênh sông hồ viện thpt thcs th học non bệnh trạm số tòa cư viên trang ql tl đt
    hội ty quán tiệm thuốc sạn hàng karaoke hiệu
"""
# words that end a name written after a label: "Họ tên: nguyen van an sdt ..." stops at "sdt"
STOP_WORDS = frozenset(
    """
    sdt dt so dien thoai email mail o tai nha dia va la co da bi xin bao gui can muon de nghi duong
    phuong xa khu thon cmnd cccd zalo facebook fb hotline lh sinh ngay nhe ah voi cua khong on ma toi
    """.split()
)
_ALL_CUE_ENDS = frozenset(cue.split()[-1] for cue in LABEL_CUES + NAMING_CUES + SELF_CUES + HONORIFIC_CUES)
MAX_NAME_WORDS = 5
STRONG_MIDDLES = {"van", "thi"}  # "Nguyễn Văn ...", "Trần Thị ...": the next word is a given name


def mask_personal_data(text: str, *, known_names: list[str] | None = None) -> str:
    """The text with contact details, ID numbers and names replaced by neutral labels."""
    masked = _EMAIL.sub(EMAIL_MASK, unicodedata.normalize("NFC", text))
    masked = _mask_phones(masked)
    masked = _DIGIT_RUN.sub(_mask_long_number, masked)
    masked = _mask_known_names(masked, known_names or [])
    return _mask_detected_names(masked)


# --- phone numbers and long numbers -------------------------------------------------------------------


def _mask_phones(text: str) -> str:
    # VALID catches every notation people use (brackets, (+84), +84 (0), spaced hyphens, double spaces,
    # landlines with an area code); STRICT_GROUPING misses "+84 91 234 56 78" and "091-234-5678".
    spans = [
        (match.start, match.end)
        for match in phonenumbers.PhoneNumberMatcher(text, REGION, leniency=phonenumbers.Leniency.VALID)
        if phonenumbers.number_type(match.number) not in PUBLIC_NUMBER_TYPES
    ]
    return _replace(text, spans, PHONE_MASK)


def _mask_long_number(match: re.Match[str]) -> str:
    if match.group("code") or _MONEY_AFTER.match(match.string, match.end()):
        return match.group(0)
    digits = sum(ch.isdigit() for ch in match.group(0))
    return ID_MASK if digits >= MIN_ID_DIGITS else match.group(0)


def _replace(text: str, spans: list[tuple[int, int]], label: str) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + label + text[end:]
    return text


# --- names ------------------------------------------------------------------------------------------------


class _Word(NamedTuple):  # a tuple: a long report has hundreds of words, each made on every masking
    text: str
    folded: str
    start: int
    end: int

    @property
    def style(self) -> str:
        if self.text.isupper():
            return "title" if len(self.text) == 1 else "upper"
        if self.text[0].isupper() and self.text[1:].islower():
            return "title"
        return "lower" if self.text.islower() else "mixed"

    @property
    def capitalised(self) -> bool:
        return self.style in ("title", "upper")


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base if len(base) == 1 else char


class _FoldTable(dict[int, str]):
    """``str.translate``'s table for ``_fold_char``, filled in as characters are first met."""

    def __missing__(self, code: int) -> str:
        self[code] = folded = _fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def _fold_same_length(text: str) -> str:
    """Folded text whose offsets are the original's, so a match on it masks the original."""
    return text.translate(_FOLD_TABLE)


def _mask_known_names(text: str, names: list[str]) -> str:
    patterns = _known_name_patterns(tuple(names))
    if not patterns:
        return text
    folded = _fold_same_length(text)
    spans = [(m.start(), m.end()) for pattern in patterns for m in pattern.finditer(folded)]
    return _replace(text, _disjoint(spans), NAME_MASK)


@lru_cache(maxsize=4096)
def _known_name_patterns(names: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """A pattern per spelling of the names, longest first; built once per set of names, since a status
    page masks each of its texts with the same names."""
    orders = sorted({order for n in names for order in _name_orders(fold(n))}, key=len, reverse=True)
    return tuple(
        re.compile(r"(?<!\w)" + r"\s+".join(re.escape(part) for part in name.split()) + r"(?!\w)")
        for name in orders
    )


def _name_orders(name: str) -> set[str]:
    """The name as given and turned around: Open311 sends "Hoa" + "Trần Thị"; a report says "Trần Thị Hoa"."""
    if len(name) < 3:
        return set()
    parts = name.split()
    return {name, " ".join(parts[1:] + parts[:1]), " ".join(parts[-1:] + parts[:-1])}


def _disjoint(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept


def _words(text: str) -> list[_Word]:
    return [_Word(m.group(0), _fold_word(m.group(0)), m.start(), m.end()) for m in _WORD.finditer(text)]


_fold_word = lru_cache(maxsize=32_768)(fold)  # words recur across texts: a status page masks several


def _adjacent(text: str, left: _Word, right: _Word) -> bool:
    """Two words of one name are separated by spaces only: no comma, full stop or line break."""
    gap = text[left.end : right.start]
    return bool(gap) and gap.strip(" \t") == ""


def _mask_detected_names(text: str) -> str:
    words = _words(text)
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(words):
        if not _may_start_name(words, index):
            index += 1
            continue
        found = _cued_name(text, words, index) or _detected_name(text, words, index)
        if found:
            first, last = found
            spans.append((words[first].start, words[last].end))
            index = last + 1
        else:
            index += 1
    return _replace(text, spans, NAME_MASK)


def _may_start_name(words: list[_Word], index: int) -> bool:
    """Whether a name can start here at all: a cue ends right before the word (every cued name needs
    one) or the word is a family name (every name found without a cue starts with one). Most words are
    neither, and are passed over without the closer look."""
    after_cue = index > 0 and words[index - 1].folded in _ALL_CUE_ENDS
    return after_cue or _is_surname(words[index])


def _cue_before(
    text: str, words: list[_Word], index: int, cues: tuple[str, ...], *, colon: bool = False
) -> bool:
    """Whether the words right before ``index`` are one of the cues, followed by a colon if ``colon``."""
    if index == 0 or words[index - 1].folded not in _last_words(cues):
        return False  # most words: no cue ends right before them
    colon_gap = text[words[index - 1].end : words[index].start].strip(" \t")
    if colon_gap not in ((":", "-", "–") if colon else ("", ":", "-", "–")):
        return False
    for cue in cues:
        size = len(cue.split())
        before = words[max(0, index - size) : index]
        gaps_ok = all(_adjacent(text, a, b) for a, b in zip(before, before[1:], strict=False))
        if len(before) == size and gaps_ok and " ".join(w.folded for w in before) == cue:
            return True
    return False


@cache
def _last_words(cues: tuple[str, ...]) -> frozenset[str]:
    return frozenset(cue.split()[-1] for cue in cues)


def _cued_name(text: str, words: list[_Word], index: int) -> tuple[int, int] | None:
    word = words[index]
    if word.folded in STOP_WORDS or word.style == "mixed" or _is_place(text, words, index):
        return None
    labelled = _cue_before(text, words, index, LABEL_CUES, colon=True)
    if labelled or _cue_before(text, words, index, NAMING_CUES):
        return index, _extend(text, words, index, lambda w: w.folded not in STOP_WORDS)
    if _cue_before(text, words, index, SELF_CUES) and (_is_surname(word) or word.capitalised):
        return index, _extend(text, words, index, lambda w: _is_given(w) or w.capitalised)
    if _cue_before(text, words, index, HONORIFIC_CUES) and _is_surname(word):
        last = _extend(text, words, index, _is_given)
        return (index, last) if last > index and not _is_public(text, words, index) else None
    return None


def _detected_name(text: str, words: list[_Word], index: int) -> tuple[int, int] | None:
    """A family name and given names with no cue: capitalised, or lower case with "văn"/"thị" inside."""
    word = words[index]
    if not _is_surname(word) or word.style == "mixed" or _is_place(text, words, index):
        return None
    last = _after_strong_middle(text, words, _extend(text, words, index, _is_given, limit=4))
    if last == index:
        return None
    if word.style == "lower" and not any(w.folded in STRONG_MIDDLES for w in words[index + 1 : last + 1]):
        return None
    return None if _is_public(text, words, index) else (index, last)


def _after_strong_middle(text: str, words: list[_Word], last: int) -> int:
    """After "Văn" or "Thị" any word is a given name: "Nguyễn Văn Tèo", "Trần Thị B"."""
    if last + 1 >= len(words) or words[last].folded not in STRONG_MIDDLES:
        return last
    following = words[last + 1]
    fits = following.style == words[last].style and following.folded not in STOP_WORDS
    return last + 1 if fits and _adjacent(text, words[last], following) else last


def _extend(
    text: str, words: list[_Word], index: int, accepts: Callable[[_Word], bool], limit: int = MAX_NAME_WORDS
) -> int:
    """The index of the last word of a name that starts at ``index``, adding words while ``accepts``."""
    style = words[index].style
    last = index
    for following in _following(words, index, limit):
        if not _adjacent(text, words[last], following) or following.style != style or not accepts(following):
            break
        last += 1
    return last


def _following(words: list[_Word], index: int, limit: int) -> Iterator[_Word]:
    yield from words[index + 1 : index + limit]


def _is_public(text: str, words: list[_Word], first: int) -> bool:
    """Whether a street, place or public figure's name starts here ("Ngô Gia Tự", "Hồ Chí Minh")."""
    for last in range(first + 1, min(first + MAX_NAME_WORDS, len(words))):
        if not _adjacent(text, words[last - 1], words[last]):
            break
        if " ".join(w.folded for w in words[first : last + 1]) in public_names():
            return True
    return False


def _is_place(text: str, words: list[_Word], index: int) -> bool:
    """Whether a place cue stands right before the word: "đường Lê Lợi", "trường Lê Quý Đôn"."""
    if index == 0 or not _in_list(words[index - 1], place_cues()):
        return False
    gap = text[words[index - 1].end : words[index].start]
    return gap.strip(" \t.") == ""


def _is_surname(word: _Word) -> bool:
    return _in_list(word, surnames())


def _is_given(word: _Word) -> bool:
    return _in_list(word, given_names())


def _in_list(word: _Word, names: tuple[frozenset[str], frozenset[str]]) -> bool:
    """A word with diacritics must match exactly ("Họ" is not "Hồ"); one written without may match folded."""
    exact, folded = names
    if word.text.isascii():
        return word.folded in folded
    return word.text.lower() in exact


def _load(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@cache
def surnames() -> tuple[frozenset[str], frozenset[str]]:
    names = _load(DATA / "surnames.txt")
    return frozenset(n.lower() for n in names), frozenset(fold(n) for n in names)


@cache
def given_names() -> tuple[frozenset[str], frozenset[str]]:
    names = _load(DATA / "given_names.txt")
    return frozenset(n.lower() for n in names), frozenset(fold(n) for n in names)


@cache
def place_cues() -> tuple[frozenset[str], frozenset[str]]:
    """Compared like names: "trưởng" (tổ trưởng) is not "trường" (a school), "duong" may be "đường"."""
    cues = _PLACE_CUES.split()
    return frozenset(cues), frozenset(fold(c) for c in cues)


@cache
def public_names() -> frozenset[str]:
    """Folded names of streets, wards, places and public figures that are never masked without a cue."""
    wards = [name for unit in load_units().values() for name in (unit.name, *unit.aliases)]
    return frozenset(fold(n) for n in _load(DATA / "public_names.txt") + _load(STREETS_FILE) + wards)


def last_digits(phone: str, count: int = 4) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[-count:]
