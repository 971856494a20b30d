"""Personal data written the ways citizens write it, and street and place names that must stay readable.

Each case is (a sentence a report may contain, what must not be readable after masking). A phone or ID
number counts as leaked when its last six digits survive in the masked text's digits; an e-mail or a name
when its folded form survives in the folded masked text.
"""

from __future__ import annotations

import re

from nlp.text import fold

PHONES = [
    ("gọi 0912345678 giúp em", "912345678"),
    ("sđt 0912 345 678", "912345678"),
    ("sđt: 0912.345.678.", "912345678"),
    ("số (0912) 345 678", "912345678"),
    ("liên hệ (+84) 912 345 678", "912345678"),
    ("liên hệ (+84)912345678", "912345678"),
    ("liên hệ +84 (0) 912 345 678", "912345678"),
    ("liên hệ +84 (0)912-345-678", "912345678"),
    ("ĐT 0912 - 345 - 678", "912345678"),
    ("ĐT 0912  345  678", "912345678"),
    ("ĐT 091-234-5678", "912345678"),
    ("ĐT 09 12 34 56 78", "912345678"),
    ("+84 91 234 56 78 là số của tôi", "912345678"),
    ("84912345678 (zalo)", "912345678"),
    ("0084 912 345 678", "912345678"),
    ("nhà (028) 3829 1234", "38291234"),
    ("nhà 028 3829 1234", "38291234"),
    ("cơ quan (0259) 3822 111", "3822111"),
    ("cơ quan 0259.3822.111", "3822111"),
    ("cơ quan +84-259-3822-111", "3822111"),
    ("máy bàn (84-259) 3 822 111", "3822111"),
    ("số 0 9 8 7 6 5 4 3 2 1", "987654321"),
    ("sdt:0987654321,", "987654321"),
    ("0362 123 456 (viettel)", "362123456"),
    ("0778.999.000 mobifone", "778999000"),
]

EMAILS = [
    ("email an.nguyen@gmail.com", "an.nguyen"),
    ("email AN.NGUYEN@GMAIL.COM", "an.nguyen"),
    ("mail an.nguyen [at] gmail [dot] com", "an.nguyen"),
    ("mail an.nguyen(at)gmail(dot)com", "an.nguyen"),
    ("mail an.nguyen {at} gmail {dot} com", "an.nguyen"),
    ("mail an.nguyen @ gmail . com", "an.nguyen"),
    ("mail an.nguyen ＠ gmail.com", "an.nguyen"),
    ("mail an.nguyen＠gmail．com", "an.nguyen"),
    ("mail an.nguyen at gmail dot com", "an.nguyen"),
    ("mail an.nguyen a còng gmail chấm com", "an.nguyen"),
    ("mail an.nguyen [a còng] gmail [chấm] com", "an.nguyen"),
    ("thư hoa_tt+pr@so-xd.ninhthuan.gov.vn", "hoa_tt"),
    ("thư hoa-tt@yahoo.com.vn", "hoa-tt"),
]

IDS = [
    ("CCCD 001203004567", "203004567"),
    ("CCCD 001 203 004 567", "203004567"),
    ("CCCD 001.203.004.567", "203004567"),
    ("CCCD 0012-0300-4567", "203004567"),
    ("CCCD 001203 004567", "203004567"),
    ("CMND 123456789", "123456789"),
    ("CMND 123 456 789", "123456789"),
    ("CMND 123.456.789", "123456789"),
    ("CMND 12 345 6789", "123456789"),
    ("tài khoản 0071 0003 81234", "381234"),
]

NAMES = [
    ("Tôi là Nguyễn Văn An", "nguyen van an"),
    ("tôi là nguyen van an", "nguyen van an"),
    ("TÔI LÀ NGUYỄN VĂN AN", "nguyen van an"),
    ("Tên tôi: Trần Thị Bích Ngọc", "thi bich ngoc"),
    ("Tên tôi: tran thi bich ngoc", "thi bich ngoc"),
    ("Người gửi: LÊ HOÀNG PHÚC", "hoang phuc"),
    ("Người gửi: le hoang phuc", "hoang phuc"),
    ("Họ tên: Phạm Minh Tuấn", "minh tuan"),
    ("Họ và tên: Võ Thị Thu Hà", "thi thu ha"),
    ("Ho ten: Vo Thi Thu Ha", "thi thu ha"),
    ("tên là Đặng Quốc Khánh", "quoc khanh"),
    ("Người phản ánh: Huỳnh Ngọc Yến", "ngoc yen"),
    ("Liên hệ: Bùi Đức Thắng", "duc thang"),
    ("ông Phan Văn Hải ở kế bên", "phan van hai"),
    ("chị Đỗ Thị Mai bán nước", "do thi mai"),
    ("Hôm qua Nguyễn Thị Lan thấy", "nguyen thi lan"),
    ("hôm qua nguyễn thị lan thấy", "nguyen thi lan"),
    ("NGUYỄN THỊ LAN thấy", "nguyen thi lan"),
    ("Ngô Thanh Tùng báo", "thanh tung"),
    ("Hoang Minh Duc bao", "minh duc"),
    ("tôi tên là Trương Quang Vinh", "quang vinh"),
    ("em là Lý Ngọc Hân", "ngoc han"),
    ("Nguyễn Văn Tèo phản ánh", "van teo"),
    ("ký tên: Lâm Hữu Lộc", "huu loc"),
]

ALL = [*PHONES, *EMAILS, *IDS, *NAMES]

STREETS = [
    "Ổ gà lớn trên đường Trần Phú gần ngã tư Lê Lợi",
    "Cống nghẹt ở Nguyễn Văn Trỗi và Ngô Gia Tự",
    "Đèn tắt cả đoạn Thống Nhất, phường Phan Rang",
    "Hẻm 12 đường Lê Hồng Phong ngập nước",
    "Rác ở kiệt 5 Phan Đình Phùng, gần chợ Phan Rang",
    "Cây đổ trước trường Lê Quý Đôn trên đường Quang Trung",
    "Ổ gà ở phố Hải Thượng Lãn Ông đoạn gần Lê Duẩn",
    "Nước tràn ra đường 16 Tháng 4 và Trường Chinh",
    "Vỉa hè Ngô Quyền bị lấn chiếm",
    "Đèn đường ở Nguyễn Thị Minh Khai chớp tắt",
    "Đường Hùng Vương gần đ. Lý Thường Kiệt bị sụt lún",
    "Ngập ở ngõ 3 Trần Quang Diệu",
]


# a number as people write it: digits with the separators they put between them (not across words, so the
# digits of a date, a ticket code and a clock on one page are never joined into a false leak)
WRITTEN_NUMBER = re.compile(r"[\d(+][\d .\-()/]*\d")


def leaked(masked: str, secret: str) -> bool:
    if secret.isdigit():
        runs = (re.sub(r"\D", "", run) for run in WRITTEN_NUMBER.findall(masked))
        return any(secret[-6:] in digits for digits in runs)
    return fold(secret) in fold(masked)
