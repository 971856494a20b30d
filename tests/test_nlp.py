"""Normalisation, ward and address extraction, duplicates scoring: pure functions, no database."""

from __future__ import annotations

from datetime import date

import pytest

from nlp import duplicates
from nlp.corpus import HELD_OUT_BASE, REGISTERS, read_examples, to_viqr
from nlp.location import find_address, find_ward
from nlp.normalise import normalise, repair_viqr


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ổ gà ở Phường Phủ Hà", "o ga o phuong phu ha"),
        ("O GA O PHUONG PHU HA", "o ga o phuong phu ha"),
        ("ha`ng xo'm ddo^'t ra`c", "hang xom dot rac"),  # VIQR
        ("mn oi ko ai don rac j het", "moi nguoi oi khong ai don rac gi het"),  # teencode
        ("KP3 P. Kinh Dinh, Đ. Thống Nhất", "khu pho 3 phuong kinh dinh , duong thong nhat"),
        ("hẻm 12/3 Ngô Gia Tự", "hem 12 / 3 ngo gia tu"),  # hẻm is an alley, not teencode for "không"
        ("Đường\u00a0Thống  Nhất", "duong thong nhat"),
        ("e\u0301t o\u0302", "et o"),  # decomposed input is composed first
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_viqr_round_trip() -> None:
    text = "Nước ngập ở đường Trần Hưng Đạo, mọi người không đi được"
    assert repair_viqr(to_viqr(text)) == text
    assert repair_viqr("Xin hỏi? Cảm ơn.") == "Xin hỏi? Cảm ơn."  # ordinary text is left alone


@pytest.mark.parametrize(
    ("text", "on", "ward", "named"),
    [
        ("Ổ gà ở P. Phủ Hà", date(2024, 1, 1), "phu-ha", "phu-ha"),
        ("o ga o phuong phu ha", date(2026, 1, 1), "phan-rang", "phu-ha"),  # merged in 2025
        ("den hu o phuong thanh son", date(2024, 6, 1), "thanh-son", "thanh-son"),
        ("den hu o phuong thanh son", date(2025, 1, 1), "phu-ha", "thanh-son"),  # Thanh Sơn → Phủ Hà, 2024
        ("rác ở xã Thành Hải", date(2023, 5, 1), "thanh-hai", "thanh-hai"),  # not Thanh Sơn
        ("ngập ở P. Tấn Tài", date(2024, 12, 1), "kinh-dinh", "tan-tai"),  # not Thành Hải
        ("kẹt xe ở phường Đô Vynh", date(2023, 1, 1), "do-vinh", "do-vinh"),  # an alias misspelling
        ("nuoc ngap o phuong dao lng", date(2023, 1, 1), "dao-long", "dao-long"),  # a typo after the marker
        ("TP Phan Rang - Tháp Chàm, đèn hỏng ở P. Mỹ Hải", date(2023, 1, 1), "my-hai", "my-hai"),
        ("Bảo An ngập nặng", date(2026, 2, 1), "bao-an-2025", "bao-an-2025"),  # the new ward of that name
        ("Bảo An ngập nặng", date(2024, 2, 1), "bao-an", "bao-an"),
        ("ddu+o+`ng ngo^ gia tu+. o+? P. Mi~ Bi`nh", date(2023, 3, 1), "my-binh", "my-binh"),  # VIQR + alias
    ],
)
def test_ward_extraction(text: str, on: date, ward: str, named: str) -> None:
    found = find_ward(text, on)
    assert found is not None and (found.code, found.named_code) == (ward, named)


def test_no_ward_in_the_city_name_alone() -> None:
    assert find_ward("Thành phố Phan Rang - Tháp Chàm có nhiều ổ gà", date(2026, 1, 1)) is None
    assert find_ward("đèn đường hỏng cả tuần", date(2026, 1, 1)) is None


def test_address_parts() -> None:
    address = find_address("số 45 đường Thống Nhất, hẻm 12/3, KP 3 P. Kinh Dinh")
    assert (address.house_number, address.alley, address.khu_pho, address.street) == (
        "45",
        "12/3",
        "3",
        "Thống Nhất",
    )
    assert find_address("kiet 5 duong ngo gia tu").street == "Ngô Gia Tự"
    assert find_address("không có địa chỉ").as_text() is None


def test_duplicate_scores_separate_the_labelled_pairs() -> None:
    pairs = duplicates.labelled_pairs()
    suggested = duplicates.measure(duplicates.limits().suggest_score, pairs)
    automatic = duplicates.measure(duplicates.limits().auto_link_score, pairs, automatic=True)
    assert suggested.pairs >= 300 and sum(p.duplicate for p in pairs) * 2 == len(pairs)
    assert suggested.recall >= 0.9
    assert automatic.precision >= 0.99  # an automatic link must never join two different problems
    assert duplicates.similarity("Ổ gà trước số 45 Thống Nhất", "o ga truoc so 45 thong nhat") == 100


def test_corpus_is_big_enough_and_split_by_report() -> None:
    examples = read_examples()
    per_category: dict[str, int] = {}
    for example in examples:
        per_category[example.category] = per_category.get(example.category, 0) + 1
    assert len(per_category) == 21 and min(per_category.values()) >= 150
    assert {e.register for e in examples} == set(REGISTERS)
    train_bases = {(e.category, e.base) for e in examples if e.split == "train"}
    test_bases = {(e.category, e.base) for e in examples if e.split == "test"}
    assert train_bases and test_bases and not train_bases & test_bases
    held_out = [e for e in examples if e.split == "test"]
    assert all(e.base >= HELD_OUT_BASE for e in held_out) and len(held_out) >= 21 * 50
    assert len({e.ward for e in examples if e.ward}) >= 15  # across the wards of every period


def test_held_out_reports_share_no_sentence_and_no_frame_with_training() -> None:
    """The held-out file was written apart from the training files (reports_base.tsv and every
    reports_train_*.tsv); no sentence appears in both."""
    import csv

    from nlp.corpus import _FRAMES, DATA, training_files

    def sentences(name: str, column: str) -> set[str]:
        with (DATA / name).open(encoding="utf-8") as handle:
            return {row[column].strip().lower() for row in csv.DictReader(handle, delimiter="\t")}

    held_out = sentences("reports_held_out.tsv", "text")
    training = sentences("report_clauses.tsv", "clause")
    for name in training_files():
        training |= sentences(name, "text")
    assert len(held_out) == 21 * 9 and not held_out & training
    for kind, phrases in _FRAMES["test"].items():
        assert not (set(phrases) - {""}) & set(_FRAMES["train"][kind]), kind


def test_the_corpus_file_is_rebuilt_from_the_hand_written_files() -> None:
    """nlp/data/corpus.jsonl is what `civicdesk nlp corpus` writes from the .tsv files: a training file
    added or changed without rebuilding it would train and measure on stale reports."""
    from nlp.corpus import examples

    assert list(examples()) == read_examples()
