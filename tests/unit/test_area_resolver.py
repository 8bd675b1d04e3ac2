"""Reading area texts without guessing (issue #10): the shipped Hanoi data, as a table."""

from pathlib import Path

import pytest

from app.catalog.catalog import AreaConflict, AreaNotFound, Catalog
from app.catalog.loader import load_catalog

RULES = Path(__file__).resolve().parents[2] / "routing_rules"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(RULES)


@pytest.mark.parametrize(
    ("text", "how", "codes"),
    [
        ("phuong-cau-giay", "code", {"phuong-cau-giay"}),
        ("Cầu Giấy", "name", {"phuong-cau-giay"}),
        ("P. Cầu Giấy", "name", {"phuong-cau-giay"}),
        ("Trúc Bạch", "former_name", {"phuong-ba-dinh"}),
        # "(cũ)", "cũ", "trước đây" after a name: the former unit of that name.
        ("Trúc Bạch (cũ)", "former_name", {"phuong-ba-dinh"}),
        ("Trúc Bạch cũ", "former_name", {"phuong-ba-dinh"}),
        ("Ba Đình trước đây", "former_name", None),  # the former district: many wards
        ("Tây Hồ (cũ)", "former_name", None),
        # A split former ward stays split whatever larger unit follows it.
        ("Thụy Khuê, Tây Hồ", "parts", {"phuong-ba-dinh", "phuong-tay-ho"}),
        ("Thuy Khue, Quan Tay Ho", "parts", {"phuong-ba-dinh", "phuong-tay-ho"}),
        ("Dịch Vọng, Cầu Giấy", "parts", {"phuong-cau-giay", "phuong-nghia-do"}),
        ("Dich Vong, Cau Giay", "parts", {"phuong-cau-giay", "phuong-nghia-do"}),
        ("Dịch Vọng; Cầu Giấy; Hà Nội", "parts", {"phuong-cau-giay", "phuong-nghia-do"}),
        # ... unless the caller names the current ward itself.
        ("Dịch Vọng, Phường Cầu Giấy", "parts", {"phuong-cau-giay"}),
        # A whole former ward with its former district: one current ward.
        ("Hàng Bạc, Hoàn Kiếm", "parts", {"phuong-hoan-kiem"}),
        ("Phường Trúc Bạch, Quận Ba Đình", "parts", {"phuong-ba-dinh"}),
        ("Cầu Giấy, Hà Nội", "parts", {"phuong-cau-giay"}),
        # A former ward name several former districts had: every one of them.
        ("Phường Quang Trung", "former_name", None),
    ],
)
def test_readings(catalog, text, how, codes):
    resolution = catalog.resolve_area(text)
    assert resolution.how == how
    got = {c.code for c in resolution.candidates}
    if codes is None:
        assert len(got) > 1
    else:
        assert got == codes
    assert resolution.ambiguous == (len(got) > 1)


def test_former_marker_excludes_the_current_ward_of_that_name(catalog):
    current = catalog.resolve_area("Tây Hồ")
    former = catalog.resolve_area("Tây Hồ (cũ)")
    assert {c.code for c in current.candidates} == {"phuong-tay-ho"}
    assert "phuong-xuan-dinh" in {c.code for c in former.candidates}
    assert former.read_as == ("Quận Tây Hồ (cũ)",)


def test_later_part_is_read_as_the_former_district_first(catalog):
    resolution = catalog.resolve_area("Thụy Khuê, Tây Hồ")
    assert resolution.read_as == ("Phường Thụy Khuê (cũ, Quận Tây Hồ)", "Quận Tây Hồ (cũ)")


def test_candidates_list_the_former_names_they_cover(catalog):
    resolution = catalog.resolve_area("Dịch Vọng, Cầu Giấy")
    for candidate in resolution.candidates:
        assert candidate.former_names == ("Phường Dịch Vọng (cũ, Quận Cầu Giấy)",)
    district = catalog.resolve_area("Quận Cầu Giấy")
    yen_hoa = next(c for c in district.candidates if c.code == "phuong-yen-hoa")
    assert "Phường Yên Hoà (cũ, Quận Cầu Giấy)" in yen_hoa.former_names
    assert all("Quận Cầu Giấy" in name for name in yen_hoa.former_names)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("Xyz, Cau Giay", "Xyz"),
        ("Cau Giay, Xyz", "Xyz"),
        ("Dịch Vọng, Cầu Giấy, Số 5", "Số 5"),
        ("Cau Giai", "Cau Giai"),
        ("Láng Hạ mới", "Láng Hạ mới"),
    ],
)
def test_every_part_must_name_an_area(catalog, text, part):
    with pytest.raises(AreaNotFound) as caught:
        catalog.resolve_area(text)
    assert caught.value.part == part


def test_unknown_part_suggests_the_closest_names(catalog):
    with pytest.raises(AreaNotFound) as caught:
        catalog.resolve_area("Dich Vong, Cau Giai")
    assert caught.value.part == "Cau Giai"
    assert "phuong-cau-giay" in [a.code for a in caught.value.suggestions]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Trúc Bạch, Cầu Giấy", ("Trúc Bạch", "Cầu Giấy")),
        ("Cầu Giấy, Tây Hồ", ("Cầu Giấy", "Tây Hồ")),
        ("Phường Ba Đình, Phường Cầu Giấy", ("Phường Ba Đình", "Phường Cầu Giấy")),
        ("Trúc Bạch, Thụy Khuê", ("Trúc Bạch", "Thụy Khuê")),
    ],
)
def test_parts_that_disagree_are_named_never_the_first_parts_guess(catalog, text, parts):
    with pytest.raises(AreaConflict) as caught:
        catalog.resolve_area(text)
    assert caught.value.parts == parts


def test_areas_meant_widens_a_filter_to_every_candidate(catalog):
    assert {"phuong-cau-giay", "phuong-nghia-do"} <= catalog.areas_meant("Dịch Vọng, Cầu Giấy")
