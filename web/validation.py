"""Pydantic's validation errors, told per field in the asker's language (for the API's 422 answers)."""

from __future__ import annotations

from typing import Any

from kernel.i18n import Text, _
from web.i18n import translator

_REASONS: dict[str, Text] = {
    "missing": _("chưa có"),
    "string_too_long": _("dài quá {max_length} ký tự"),
    "string_too_short": _("cần ít nhất {min_length} ký tự"),
    "too_long": _("có quá {max_length} phần tử"),
    "too_short": _("cần ít nhất {min_length} phần tử"),
    "string_pattern_mismatch": _("không đúng định dạng"),
    "int_parsing": _("phải là số nguyên"),
    "int_type": _("phải là số nguyên"),
    "int_from_float": _("phải là số nguyên"),
    "float_parsing": _("phải là số"),
    "float_type": _("phải là số"),
    "greater_than": _("phải lớn hơn {gt}"),
    "greater_than_equal": _("phải từ {ge} trở lên"),
    "less_than": _("phải nhỏ hơn {lt}"),
    "less_than_equal": _("không được quá {le}"),
    "enum": _("phải là một trong: {expected}"),
    "literal_error": _("phải là một trong: {expected}"),
    "bool_parsing": _("phải là đúng hoặc sai"),
    "uuid_parsing": _("không phải mã hợp lệ"),
    "datetime_parsing": _("không phải thời điểm hợp lệ"),
    "datetime_from_date_parsing": _("không phải thời điểm hợp lệ"),
    "date_parsing": _("không phải ngày hợp lệ"),
    "date_from_datetime_parsing": _("không phải ngày hợp lệ"),
    "json_invalid": _("không phải JSON hợp lệ"),
    "string_type": _("phải là chuỗi ký tự"),
    "dict_type": _("phải là một đối tượng"),
    "list_type": _("phải là một danh sách"),
}
_ANY = _("giá trị không hợp lệ")


def field_label(name: str, language: str) -> str:
    """The field's name for people when the catalogue has one (``field_<name>``), else its own name."""
    label = translator(language)("field_" + name)
    return name if label == "field_" + name else label


def _field(error: dict[str, Any]) -> str:
    names = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
    place = [name for name in names if name not in ("body", "query", "path", "header", "cookie", "form")]
    return place[-1] if place else ""


def explain(error: dict[str, Any], language: str) -> str:
    """One error as "label: reason", e.g. "nội dung: dài quá 5000 ký tự"."""
    reason_text = _REASONS.get(str(error.get("type")), _ANY)
    context = {name: value for name, value in (error.get("ctx") or {}).items() if isinstance(name, str)}
    try:
        reason = Text(reason_text.msgid, context).in_language(language)
    except (KeyError, IndexError):
        reason = _ANY.in_language(language)
    field = _field(error)
    return f"{field_label(field, language)}: {reason}" if field else reason


def summary(errors: list[dict[str, Any]]) -> str:
    return "; ".join(dict.fromkeys(str(error["message"]) for error in errors))
