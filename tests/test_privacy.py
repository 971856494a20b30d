from __future__ import annotations

import pytest
from privacy_cases import ALL, STREETS, leaked

from tickets.privacy import EMAIL_MASK, ID_MASK, NAME_MASK, PHONE_MASK, mask_personal_data


@pytest.mark.parametrize(
    "phone",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "+84 912 345 678",
        "84912345678",
        "+84-912-345-678",
        "02593822111",
    ],
)
def test_phone_numbers_are_masked_however_written(phone: str) -> None:
    masked = mask_personal_data(f"Ổ gà ở Thống Nhất, gọi {phone} nhé")
    assert PHONE_MASK in masked
    assert "345" not in masked and "822" not in masked


def test_emails_and_long_ids_are_masked() -> None:
    masked = mask_personal_data("email nguyen.an+pr@gmail.com, zalo id 8473625184736251")
    assert EMAIL_MASK in masked and ID_MASK in masked
    assert "gmail" not in masked and "84736" not in masked


def test_introduced_full_names_are_masked_but_places_and_short_names_stay() -> None:
    masked = mask_personal_data("Tôi là Nguyễn Văn An ở số 12 Thống Nhất, anh Hai hàng xóm cũng thấy")
    assert NAME_MASK in masked
    assert "Nguyễn Văn An" not in masked
    assert "Thống Nhất" in masked and "anh Hai" in masked


def test_known_citizen_name_is_masked_anywhere() -> None:
    masked = mask_personal_data("Gia đình Trần Thị Bình bị ngập", known_names=["Trần Thị Bình"])
    assert "Bình" not in masked


def test_house_numbers_and_dates_are_kept() -> None:
    text = "Trước số 123 đường 16 Tháng 4, từ ngày 12/3/2026 lúc 19h"
    assert mask_personal_data(text) == text


@pytest.mark.parametrize(("text", "secret"), ALL, ids=[case[0] for case in ALL])
def test_every_notation_of_personal_data_is_masked(text: str, secret: str) -> None:
    masked = mask_personal_data(f"Ổ gà trước nhà. {text}. Cảm ơn anh chị")
    assert not leaked(masked, secret), masked
    assert masked.startswith("Ổ gà trước nhà.") and masked.endswith("Cảm ơn anh chị")


@pytest.mark.parametrize("text", STREETS)
def test_street_and_place_names_stay_readable(text: str) -> None:
    assert mask_personal_data(text) == text


@pytest.mark.parametrize(
    "written", ["dang thu ha", "ĐẶNG THU HÀ", "Đặng  Thu Hà", "dang THU ha", "Dang Thu Ha"]
)
def test_the_citizens_own_name_is_masked_in_any_case_and_without_diacritics(written: str) -> None:
    masked = mask_personal_data(f"Nhà bà {written} bị ngập", known_names=["Đặng Thu Hà"])
    assert masked == f"Nhà bà {NAME_MASK} bị ngập"


def test_service_numbers_and_single_given_names_stay() -> None:
    text = "Tổng đài 1900 1234 và 1022 đã báo, bà Tư và anh Hai cũng thấy; tôi là người dân phường Đạo Long"
    assert mask_personal_data(text) == text


def test_masked_labels_are_not_masked_again() -> None:
    once = mask_personal_data("Họ tên: Lê Văn Tám, sđt 0912345678, CCCD 001203004567, an@gmail.com")
    assert mask_personal_data(once) == once
    assert once == f"Họ tên: {NAME_MASK}, sđt {PHONE_MASK}, CCCD {ID_MASK}, {EMAIL_MASK}"


def test_a_known_name_given_in_western_order_is_masked_in_vietnamese_order() -> None:
    masked = mask_personal_data("Nhờ chị hoa tran thi kiểm tra; Trần Thị Hoa", known_names=["Hoa Trần Thị"])
    assert masked == f"Nhờ chị {NAME_MASK} kiểm tra; {NAME_MASK}"


def test_ward_names_stay_readable_with_or_without_diacritics() -> None:
    for name in ("Đạo Long", "Dao Long", "Đô Vinh", "Do Vinh", "Đông Hải", "Dong Hai", "Phủ Hà"):
        text = f"Ổ gà gần {name} lắm"
        assert mask_personal_data(text) == text


def test_ticket_codes_stay_readable() -> None:
    text = "Đã gộp vào PR-2026-000123, xem thêm PR-2025-004567"
    assert mask_personal_data(text) == text


def test_sums_of_money_stay_readable() -> None:
    text = "Dự án 15.000.000.000 đồng, phạt 120.000.000đ, 2.500.000.000 VND"
    assert mask_personal_data(text) == text
