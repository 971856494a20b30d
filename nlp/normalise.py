"""Normalisation for matching: NFC, lower case, VIQR repaired, diacritics folded (đ → d), teencode and
administrative abbreviations expanded. Place names are matched on folded text on both sides; diacritics
are never restored."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from nlp.text import fold

# VIQR: a vowel, then ^ ( + for the vowel's shape, then ' ` ? ~ . for the tone; dd for đ.
_SHAPES = {
    ("a", "^"): "â",
    ("a", "("): "ă",
    ("e", "^"): "ê",
    ("o", "^"): "ô",
    ("o", "+"): "ơ",
    ("u", "+"): "ư",
}
_TONES = {"'": "\u0301", "`": "\u0300", "?": "\u0309", "~": "\u0303", ".": "\u0323"}
_VIQR_SYLLABLE = re.compile(r"([aeiouy])([\^\(\+])?([\'`?~.])?(?=[a-z]|\s|$|[,;:!])", re.IGNORECASE)
_VIQR_HINT = re.compile(r"[aeiouy][\^\(\+]?[\'`~](?=[a-z\s])|[aeiouy][\^\(\+]|\bdd", re.IGNORECASE)

TEENCODE = {
    "ko": "khong",
    "k": "khong",
    "kh": "khong",
    "hok": "khong",
    "hk": "khong",
    "kg": "khong",
    "dc": "duoc",
    "dk": "duoc",
    "đc": "duoc",
    "mn": "moi nguoi",
    "mng": "moi nguoi",
    "j": "gi",
    "ns": "noi",
    "bt": "biet",
    "bik": "biet",
    "bit": "biet",
    "vs": "voi",
    "ng": "nguoi",
    "r": "roi",
    "oy": "roi",
    "wa": "qua",
    "cx": "cung",
    "cg": "cung",
    "z": "vay",
    "v": "vay",
    "lm": "lam",
    "trc": "truoc",
    "ms": "moi",
    "ntn": "nhu the nao",
    "bn": "bao nhieu",
    "nhiu": "nhieu",
    "h": "gio",
    "mik": "minh",
    "mk": "minh",
    "tks": "cam on",
    "thanks": "cam on",
    "ak": "a",
    "ah": "a",
    "ik": "di",
    "nc": "nuoc",
    "ngta": "nguoi ta",
    "bh": "bao gio",
    "hnay": "hom nay",
    "qa": "qua",
    "tg": "thoi gian",
    "sd": "su dung",
    "dt": "dien thoai",
    "sdt": "so dien thoai",
    "bth": "binh thuong",
}
# administrative abbreviations, on folded tokens; a trailing dot is part of the token here
ABBREVIATIONS = {
    "p.": "phuong",
    "p": "phuong",
    "f.": "phuong",
    "x.": "xa",
    "tp.": "thanh pho",
    "tp": "thanh pho",
    "kp": "khu pho",
    "kp.": "khu pho",
    "k.p": "khu pho",
    "d.": "duong",
    "đ.": "duong",
    "tx": "thi xa",
    "tt.": "thi tran",
    "sn": "so nha",
    "ubnd": "uy ban nhan dan",
    "hxh": "hem xe hoi",
    "q.": "quan",
    "kdc": "khu dan cu",
    "ql": "quoc lo",
    "ql.": "quoc lo",
    "tl": "tinh lo",
    "cs": "cong an",
}
_TOKEN = re.compile(r"[a-z0-9đ]+\.?|[^\sa-z0-9đ]+", re.IGNORECASE)


def looks_like_viqr(text: str) -> bool:
    return len(_VIQR_HINT.findall(text)) >= 2


def repair_viqr(text: str) -> str:
    """'ha`ng xo\\'m dde^m' → 'hàng xóm đêm' (only for text that looks like VIQR)."""
    if not looks_like_viqr(text):
        return text
    text = re.sub(r"\bdd", "đ", text)
    text = re.sub(r"\bDD", "Đ", text)

    def compose(match: re.Match[str]) -> str:
        vowel, shape, tone = match.group(1), match.group(2), match.group(3)
        letter = _SHAPES.get((vowel.lower(), shape or ""), vowel.lower()) if shape else vowel
        if shape and vowel.isupper():
            letter = letter.upper()
        return unicodedata.normalize("NFC", letter + (_TONES[tone] if tone else ""))

    return _VIQR_SYLLABLE.sub(compose, text)


def expand_tokens(folded: str) -> str:
    """Teencode and abbreviations, token by token: 'ko dc p. phu ha' → 'khong duoc phuong phu ha'."""
    words = []
    for token in _TOKEN.findall(folded):
        key = token.lower()
        if key in ABBREVIATIONS:
            words.append(ABBREVIATIONS[key])
        elif key.rstrip(".") in TEENCODE:
            words.append(TEENCODE[key.rstrip(".")] + ("." if key.endswith(".") else ""))
        else:
            words.append(token)
    return " ".join(words)


_GLUED_NUMBER = re.compile(r"\b(kp|p|f|hem|kiet|ngo|to|sn)(\d+)\b")


@lru_cache(maxsize=8192)  # one triage reads a report's matching form 5-7 times (model, ward, address, rules)
def normalise(text: str) -> str:
    """The matching form of a report: folded, repaired and expanded, punctuation kept apart. A pure
    function of the text, kept per process for the last few thousand texts."""
    repaired = repair_viqr(unicodedata.normalize("NFC", text))
    return expand_tokens(_GLUED_NUMBER.sub(r"\1 \2", fold(repaired)))


# The category model reads two views of a report, one line each: the matching form above, where all
# registers meet, and the words that still carry Vietnamese letters (lower case, VIQR repaired), because
# folding merges words a category hangs on with common ones: chó (dog) and cho (for), bò (cow) and bỏ, gà
# (hen) and ga (manhole), dê (goat) and đề (propose).
VIEW_SEPARATOR = "\n"
_WORD = re.compile(r"\w+")


def accented_words(text: str) -> str:
    """The report's words that carry diacritics or đ: 'Chó cắn người ở P.5' → 'chó cắn người ở'."""
    lowered = repair_viqr(unicodedata.normalize("NFC", text)).lower()
    return " ".join(word for word in _WORD.findall(lowered) if not word.isascii())


def model_text(text: str) -> str:
    """What the category model reads: the matching form, then the accented words on a line of their own."""
    return f"{normalise(text)}{VIEW_SEPARATOR}{accented_words(text)}"


def view(text: str, name: str) -> str:
    """One view of model_text's output ("folded" or "accented"); text without a separator is all folded."""
    folded, _, accented = text.partition(VIEW_SEPARATOR)
    return accented if name == "accented" else folded


def tokens(normalised: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", normalised)
