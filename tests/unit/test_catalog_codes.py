"""app.catalog.codes: the one check of unit, topic and area codes for tickets and reports."""

from pathlib import Path

import pytest

from app.catalog import codes
from app.catalog.loader import load_catalog
from app.errors import ValidationFailed

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "routing_rules")


def test_known_codes_pass():
    assert codes.unit_error(CATALOG, "urenco", ["unit"]) is None
    assert codes.topic_error(CATALOG, "moi-truong.rac-thai", ["topic"]) is None
    assert codes.check_unit(CATALOG, "urenco", ["unit"]) == "urenco"
    assert codes.check_topic(CATALOG, "moi-truong", ["topic"]) == "moi-truong"


def test_a_misspelt_unit_names_the_field_the_code_and_the_closest_codes():
    error = codes.unit_error(CATALOG, "urenko", ["query", "unit"])
    assert error is not None and error["loc"] == ["query", "unit"]
    assert "urenco" in error["suggestions"]
    assert error["msg"].startswith("unknown unit 'urenko'; did you mean urenco")


def test_nothing_close_names_the_list_to_look_in_and_no_url():
    error = codes.topic_error(CATALOG, "zzzzzz", ["topic"])
    assert error == {
        "loc": ["topic"],
        "msg": "unknown topic 'zzzzzz'",
        "suggestions": [],
        "catalog_list": "topics",
    }
    with pytest.raises(codes.UnknownCode) as caught:
        codes.check_unit(CATALOG, "zzzzzz", ["unit"])
    assert caught.value.kind == "unit" and caught.value.suggestions == []
    assert caught.value.extra["errors"][0]["catalog_list"] == "units"


def test_areas_are_read_as_people_write_them_and_widened_to_everything_under_them():
    meant, error = codes.areas_meant(CATALOG, "Cầu Giấy", ["query", "area"])
    assert error is None and "phuong-cau-giay" in meant
    city, _ = codes.areas_meant(CATALOG, "ha-noi", ["query", "area"])
    assert meant < city
    assert codes.check_areas(CATALOG, ["ha-noi", "Cầu Giấy"], ["area"]) == city


def test_an_unknown_area_is_a_field_error_with_suggestions():
    meant, error = codes.areas_meant(CATALOG, "Cau Giayy", ["query", "area"])
    assert meant == set() and error is not None
    assert error["loc"] == ["query", "area"] and error["part"] == "Cau Giayy"
    with pytest.raises(ValidationFailed):
        codes.check_areas(CATALOG, ["ha-noi", "Nowhere at all"], ["area"])
