"""Writes nlp/data/duplicate_pairs.tsv: the labelled pairs that duplicate detection is measured on.

The sentences are the project's own: for each problem, three wordings written apart (formal, plain,
unaccented or spoken) with a slot for the place. Pairs are then drawn with a fixed seed — true duplicates
(the same problem worded differently, at the same address, within metres, or in the same ward) and
near-misses (the same street at another number, another problem of the same category next door, the same
words in another ward or far away). The 40 pairs written by hand before are kept as they are.

    .venv/bin/python bench/duplicate_pairs.py
"""

from __future__ import annotations

import csv
import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.text import fold  # noqa: E402

OUT = ROOT / "nlp" / "data" / "duplicate_pairs.tsv"
HAND_WRITTEN = ROOT / "nlp" / "data" / "duplicate_pairs_hand.tsv"
COLUMNS = [
    "duplicate",
    "kind",
    "first",
    "second",
    "first_category",
    "second_category",
    "first_point",
    "second_point",
]

# (category, problem id, three wordings of the same problem; {place} is where the place goes)
SCENES: list[tuple[str, str, tuple[str, str, str]]] = [
    (
        "road_damage",
        "pothole",
        (
            "Ổ gà rất lớn {place}, tối qua có người đi xe máy bị té",
            "mặt đường {place} bị lủng một hố sâu, xe chạy qua rất nguy hiểm",
            "alo tong dai a, {place} co cai o ga to lam, chay xe ban dem de nga lam",
        ),
    ),
    (
        "road_damage",
        "sunken_cover",
        (
            "Nắp hố ga {place} bị sụt lún, thấp hơn mặt đường cả tấc",
            "cái nắp cống {place} lún xuống, xe qua là dằn mạnh",
            "nap ho ga {place} bi lun sau, de gay tai nan cho xe may",
        ),
    ),
    (
        "road_damage",
        "cracked_pavement",
        (
            "Vỉa hè {place} bị bong tróc gạch, người đi bộ vấp ngã",
            "gạch lát vỉa hè {place} vỡ hết, đi bộ không được",
            "via he {place} bong gach tung mang, ba gia di qua bi vap",
        ),
    ),
    (
        "street_lighting",
        "lamp_out",
        (
            "Đèn đường {place} không sáng gần một tuần nay, buổi tối tối om",
            "mấy bóng đèn chiếu sáng {place} tắt hết, đi đêm sợ lắm",
            "den duong {place} hu roi, toi thui khong thay duong",
        ),
    ),
    (
        "street_lighting",
        "lamp_day",
        (
            "Đèn đường {place} sáng cả ban ngày, rất lãng phí điện",
            "giữa trưa mà đèn chiếu sáng {place} vẫn bật, ai tắt giùm với",
            "den {place} ban ngay van mo sang trung, phi dien qua",
        ),
    ),
    (
        "street_lighting",
        "pole_leaning",
        (
            "Cột đèn chiếu sáng {place} bị nghiêng, có nguy cơ đổ xuống đường",
            "trụ đèn {place} nghiêng hẳn sang một bên sau cơn gió",
            "cot den {place} bi nghieng sap do, nguy hiem cho nguoi di duong",
        ),
    ),
    (
        "drainage_flooding",
        "flooding",
        (
            "Sau mưa nước ngập sâu {place}, nước tràn vào nhà dân",
            "mưa có một chút mà {place} ngập tới đầu gối, cống không thoát",
            "mua xong la {place} ngap lenh lang, xe chet may nam dau duong",
        ),
    ),
    (
        "drainage_flooding",
        "blocked_drain",
        (
            "Cống thoát nước {place} bị tắc, nước đen ứ đọng bốc mùi",
            "miệng cống {place} nghẹt rác, nước không chảy được",
            "cong {place} bi nghet, nuoc thai u dong hoi lam",
        ),
    ),
    (
        "waste_collection",
        "garbage_pile",
        (
            "Rác thải tập kết {place} nhiều ngày không được thu gom, bốc mùi hôi",
            "đống rác {place} để cả tuần rồi không thấy xe rác tới lấy",
            "rac {place} chat dong may ngay nay ko ai thu, ruoi bu qua troi",
        ),
    ),
    (
        "waste_collection",
        "dumping",
        (
            "Có người đổ trộm xà bần và rác xây dựng {place} vào ban đêm",
            "ai đó mang gạch vụn, xà bần tới đổ {place}, chắn cả lối đi",
            "ban dem co xe cho xa ban toi do len {place}, bua bai lam",
        ),
    ),
    (
        "pollution",
        "burning",
        (
            "Có người đốt rác {place} mỗi chiều, khói bay vào nhà rất ngột ngạt",
            "chiều nào cũng đốt rác {place}, khói mù mịt cả xóm",
            "{place} chieu nao cung dot rac, khoi den nghet tho",
        ),
    ),
    (
        "noise",
        "karaoke",
        (
            "Nhà dân {place} hát karaoke quá lớn đến khuya, không ai ngủ được",
            "karaoke {place} mở hết cỡ tới 12 giờ đêm, ồn không chịu nổi",
            "hat karaoke {place} on ao toi nua dem, con nho ko ngu duoc",
        ),
    ),
    (
        "noise",
        "workshop",
        (
            "Xưởng cơ khí {place} cắt sắt ồn ào từ sáng sớm tới tối",
            "tiệm hàn sắt {place} làm ồn suốt ngày, tiếng máy cắt chói tai",
            "xuong co khi {place} lam on tu 5h sang, khong chiu noi",
        ),
    ),
    (
        "encroachment",
        "sidewalk_stall",
        (
            "Quán ăn {place} bày bàn ghế chiếm hết vỉa hè, người đi bộ phải xuống lòng đường",
            "quán nhậu {place} lấn chiếm vỉa hè, kê bàn ra sát mép đường",
            "quan an {place} chiem het via he, nguoi di bo phai di duoi duong",
        ),
    ),
    (
        "encroachment",
        "parking",
        (
            "Cửa hàng {place} để xe máy tràn ra lòng đường, gây cản trở giao thông",
            "xe của khách {place} đậu kín vỉa hè và lấn ra đường",
            "tiem {place} de xe lan ra giua duong, ket xe hoai",
        ),
    ),
    (
        "illegal_construction",
        "extra_floor",
        (
            "Công trình {place} đang xây thêm tầng, không thấy treo giấy phép xây dựng",
            "nhà {place} đang cơi nới thêm một tầng mà không có giấy phép",
            "nha {place} dang xay them tang, ko co bang giay phep gi ca",
        ),
    ),
    (
        "trees_parks",
        "fallen_tree",
        (
            "Cây xanh {place} bị gãy cành lớn sau mưa, chắn ngang đường",
            "một nhánh cây to {place} gãy đổ xuống lòng đường",
            "cay {place} gay canh to nam giua duong, xe khong qua duoc",
        ),
    ),
    (
        "trees_parks",
        "overgrown",
        (
            "Cây xanh {place} mọc um tùm che khuất đèn đường và biển báo",
            "tán cây {place} rậm quá che hết biển báo giao thông, cần cắt tỉa",
            "cay {place} rap qua che mat den duong, nho cat tia giup",
        ),
    ),
    (
        "water_supply",
        "pipe_burst",
        (
            "Ống nước {place} bị vỡ, nước chảy lênh láng ra đường",
            "đường ống cấp nước {place} bể, nước phun lên mặt đường",
            "ong nuoc {place} bi be, nuoc xit ra ngoai duong may tieng roi",
        ),
    ),
    (
        "water_supply",
        "no_water",
        (
            "Khu vực {place} mất nước sinh hoạt hai ngày nay chưa có lại",
            "hai hôm rồi vòi nước {place} không có một giọt",
            "{place} cup nuoc 2 ngay roi, ko co nuoc nau an",
        ),
    ),
    (
        "electricity",
        "sagging_wire",
        (
            "Dây điện {place} bị võng thấp sát đầu người, rất nguy hiểm",
            "đường dây điện {place} chùng xuống thấp, xe tải đi qua móc vào",
            "day dien {place} vong thap qua, sat dau nguoi di duong",
        ),
    ),
    (
        "traffic",
        "signal_out",
        (
            "Đèn tín hiệu giao thông {place} bị hỏng, chỉ chớp vàng",
            "đèn xanh đèn đỏ {place} không hoạt động, xe cộ chạy lộn xộn",
            "den giao thong {place} hu roi, chop vang hoai, de dung xe",
        ),
    ),
    (
        "animals",
        "stray_dogs",
        (
            "Chó thả rông {place} rượt cắn người đi đường",
            "mấy con chó không rọ mõm {place} đuổi theo xe máy",
            "cho tha rong {place} can nguoi, tre con so khong dam ra duong",
        ),
    ),
    (
        "animals",
        "cattle",
        (
            "Bò thả rông {place} đi lang thang trên đường, rất dễ gây tai nạn",
            "đàn bò {place} ra giữa đường nằm, xe phải né",
            "bo {place} tha rong di ngoai duong, suyt dung xe may",
        ),
    ),
]

STREETS = [
    "Thống Nhất",
    "Ngô Gia Tự",
    "Quang Trung",
    "Lê Hồng Phong",
    "Trần Phú",
    "Yên Ninh",
    "Lê Duẩn",
    "Hải Thượng Lãn Ông",
    "Nguyễn Văn Cừ",
    "Phan Đình Phùng",
    "Minh Mạng",
    "Ngô Quyền",
    "Lê Lợi",
    "Trần Quang Diệu",
    "Hùng Vương",
    "Nguyễn Trãi",
    "16 Tháng 4",
    "21 Tháng 8",
    "Trường Chinh",
]
WARDS = [
    "Đô Vinh",
    "Bảo An",
    "Phước Mỹ",
    "Đài Sơn",
    "Kinh Dinh",
    "Phủ Hà",
    "Đạo Long",
    "Mỹ Bình",
    "Mỹ Đông",
    "Mỹ Hải",
    "Đông Hải",
    "Văn Hải",
    "Thanh Sơn",
    "Tấn Tài",
]
CORE = (11.550, 108.965, 11.600, 109.020)  # south, west, north, east: where the pins fall


def typed(street: str, number: int, style: int) -> str:
    forms = [
        f"trước số {number} đường {street}",
        f"ngay nhà số {number} {street}",
        f"truoc nha {number} {fold(street)}",
        f"sn {number} đ. {street}",
        f"gần số nhà {number} {street}",
    ]
    return forms[style % len(forms)]


def ward_place(ward: str, style: int) -> str:
    forms = [f"ở khu phố 3 phường {ward}", f"trong hẻm gần chợ P. {ward}", f"o phuong {fold(ward)}"]
    return forms[style % len(forms)]


def moved(point: tuple[float, float], metres: float, rng: random.Random) -> tuple[float, float]:
    angle = rng.uniform(0, 2 * math.pi)
    dlat = metres * math.sin(angle) / 111_195
    dlon = metres * math.cos(angle) / (111_195 * math.cos(math.radians(point[0])))
    return point[0] + dlat, point[1] + dlon


def pin(point: tuple[float, float]) -> str:
    return f"{point[0]:.6f},{point[1]:.6f}"


class Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a fixed seed for a reproducible file

    def scene(self) -> tuple[str, str, tuple[str, str, str]]:
        return self.rng.choice(SCENES)

    def two_wordings(self) -> tuple[int, int]:
        first, second = self.rng.sample(range(3), 2)
        return first, second

    def somewhere(self) -> tuple[float, float]:
        south, west, north, east = CORE
        return self.rng.uniform(south, north), self.rng.uniform(west, east)

    def street_pin(self) -> str:
        return f"trên đường {self.rng.choice(STREETS)}"

    def row(
        self, truth: bool, kind: str, a: str, b: str, cats: tuple[str, str], pins: tuple[str, str]
    ) -> list[str]:
        return ["1" if truth else "0", kind, a, b, cats[0], cats[1], pins[0], pins[1]]

    def same_address(self) -> list[str]:
        category, _, words = self.scene()
        i, j = self.two_wordings()
        street, number = self.rng.choice(STREETS), self.rng.randint(2, 320)
        style = self.rng.randrange(5)
        a = words[i].format(place=typed(street, number, style))
        b = words[j].format(place=typed(street, number, style + self.rng.randint(1, 4)))
        return self.row(True, "dup_address", a, b, (category, category), ("", ""))

    def same_pin(self) -> list[str]:
        category, _, words = self.scene()
        i, j = self.two_wordings()
        here = self.somewhere()
        there = moved(here, self.rng.uniform(0, 45), self.rng)
        a = words[i].format(place=self.rng.choice(["trước nhà tôi", "ở đầu hẻm", "chỗ này"]))
        b = words[j].format(place=self.rng.choice(["gần nhà em", "ngay đây", "ở góc đường"]))
        return self.row(True, "dup_pin", a, b, (category, category), (pin(here), pin(there)))

    def same_ward(self) -> list[str]:
        category, _, words = self.scene()
        i, j = self.two_wordings()
        ward = self.rng.choice(WARDS)
        style = self.rng.randrange(3)
        a = words[i].format(place=ward_place(ward, style))
        b = words[j].format(place=ward_place(ward, style + 1))
        return self.row(True, "dup_ward", a, b, (category, category), ("", ""))

    def other_number(self) -> list[str]:
        category, _, words = self.scene()
        i, j = self.rng.choice([(0, 0), (0, 1), (1, 2), (2, 0), (1, 1)])
        street, number = self.rng.choice(STREETS), self.rng.randint(2, 300)
        other = number + self.rng.choice([2, 4, 6, 10, 20, 40])
        a = words[i].format(place=typed(street, number, self.rng.randrange(5)))
        b = words[j].format(place=typed(street, other, self.rng.randrange(5)))
        pins = ("", "")
        if self.rng.random() < 0.5:
            here = self.somewhere()
            pins = (pin(here), pin(moved(here, self.rng.uniform(20, 250), self.rng)))
        return self.row(False, "miss_number", a, b, (category, category), pins)

    def next_door(self) -> list[str]:
        category, problem, words = self.scene()
        others = [s for s in SCENES if s[0] == category and s[1] != problem]
        if not others:
            return self.next_door()
        _, _, other_words = self.rng.choice(others)
        i, j = self.rng.randrange(3), self.rng.randrange(3)
        if self.rng.random() < 0.5:
            street, number = self.rng.choice(STREETS), self.rng.randint(2, 300)
            style = self.rng.randrange(5)
            a = words[i].format(place=typed(street, number, style))
            b = other_words[j].format(place=typed(street, number + self.rng.choice([0, 2]), style + 1))
            return self.row(False, "miss_next_door", a, b, (category, category), ("", ""))
        here = self.somewhere()
        a = words[i].format(place="trước nhà tôi")
        b = other_words[j].format(place="ngay bên cạnh")
        pins = (pin(here), pin(moved(here, self.rng.uniform(5, 40), self.rng)))
        return self.row(False, "miss_next_door", a, b, (category, category), pins)

    def other_ward(self) -> list[str]:
        category, _, words = self.scene()
        i, j = self.rng.choice([(0, 0), (1, 1), (2, 2), (0, 1), (1, 2)])
        if self.rng.random() < 0.5:
            first, second = self.rng.sample(WARDS, 2)
            style = self.rng.randrange(3)
            a = words[i].format(place=ward_place(first, style))
            b = words[j].format(place=ward_place(second, style))
            return self.row(False, "miss_ward", a, b, (category, category), ("", ""))
        here = self.somewhere()
        a = words[i].format(place="trước nhà tôi")
        b = words[j].format(place="trước nhà tôi")
        pins = (pin(here), pin(moved(here, self.rng.uniform(600, 3000), self.rng)))
        return self.row(False, "miss_far", a, b, (category, category), pins)


def main() -> None:
    maker = Maker(seed=17)
    rows: list[list[str]] = []
    for make, count in (
        (maker.same_address, 60),
        (maker.same_pin, 55),
        (maker.same_ward, 45),
        (maker.other_number, 55),
        (maker.next_door, 50),
        (maker.other_ward, 55),
    ):
        rows.extend(make() for _ in range(count))
    with HAND_WRITTEN.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            rows.append([row["duplicate"], "hand", row["first"], row["second"], "", "", "", ""])
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    print(f"{len(rows)} pairs written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
